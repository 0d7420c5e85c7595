"""A progress bar for long operator commands (`loa train`), on rich (which Typer already uses)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """Yield a ``progress(stage, done, total)`` callback that draws one bar per stage."""
    bars: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as p:
        def update(stage: str, done: int, total: int) -> None:
            if stage not in bars:
                bars[stage] = p.add_task(stage, total=max(total, 1))
            p.update(bars[stage], completed=done, total=max(total, 1))

        yield update
