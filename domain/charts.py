"""Small PNG bar charts for the digest email and the reports (matplotlib, Agg canvas, no pyplot).

Creating a matplotlib figure, its axes and ticks costs several times more than drawing a handful of
bars, and a digest run draws the same two charts for hundreds of organisations. So each chart
*shape* (number of bars, series, size) gets one figure whose bar rectangles are created once;
later charts of that shape only move the rectangles, relabel the ticks and rescale the y axis
(``StackedBars.png``). Titles and legends are written in the email's HTML instead of the image:
text is what Agg draws slowest, and the HTML text stays readable and searchable.

The bundled DejaVu Sans font has every Vietnamese glyph. Figures are per thread (``chart_book()``):
matplotlib artists must not be shared between threads.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

FONT = "DejaVu Sans"
# Colours shared with the HTML legends (templates use the same values).
COLOURS = {
    "facebook_page": "#1877f2", "zalo_oa": "#0fa968",
    "buc_xuc": "#e67e22", "sai_lech": "#c0392b", "kich_dong": "#6c3483",
    "posts": "#2e86c1", "views": "#7f8c8d",
}


@dataclass(frozen=True)
class Series:
    """One stacked series: a key (its colour) and its label."""

    key: str
    label: str


class StackedBars:
    """A stacked bar chart of a fixed shape, redrawn with new values (see the module docstring)."""

    def __init__(self, n_bars: int, series: tuple[Series, ...], *, width_in: float = 4.4, height_in: float = 1.8,
                 dpi: int = 140, horizontal: bool = False) -> None:
        self.n_bars, self.series, self.horizontal = n_bars, series, horizontal
        self.fig = Figure(figsize=(width_in, height_in), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        pos = np.arange(n_bars)
        self.containers = []
        for s in series:
            colour = COLOURS.get(s.key, "#95a5a6")
            if horizontal:
                self.containers.append(self.ax.barh(pos, np.zeros(n_bars), height=0.62, color=colour))
            else:
                self.containers.append(self.ax.bar(pos, np.zeros(n_bars), width=0.62, color=colour))
        ax = self.ax
        ax.spines[["top", "right"]].set_visible(False)
        ax.spines[["left", "bottom"]].set_color("#bbbbbb")
        ax.tick_params(labelsize=11, colors="#444444", length=0)
        value_axis = ax.xaxis if horizontal else ax.yaxis
        value_axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10], integer=True))
        ax.grid(axis="x" if horizontal else "y", color="#e5e5e5", linewidth=0.8)
        ax.set_axisbelow(True)
        if horizontal:
            ax.set_yticks(pos)
            ax.invert_yaxis()
        else:
            ax.set_xticks(pos)
        self.fig.subplots_adjust(left=0.3 if horizontal else 0.1, right=0.985, top=0.9, bottom=0.17)
        for text in (ax.get_yticklabels() if horizontal else ax.get_xticklabels()):
            text.set_fontfamily(FONT)
        self._backgrounds: dict[tuple, object] = {}
        self._drawn: tuple | None = None

    def png(self, values: list[list[float]], labels: list[str]) -> bytes:
        """PNG bytes of the chart for ``values`` (one list per series, ``n_bars`` long) and bar labels.

        Everything but the bars (frame, grid, tick labels: all the text) is drawn once per set of
        labels and y-axis ceiling and kept as a bitmap; each chart restores that bitmap and draws only
        its bar rectangles (and the two axis lines over them) onto it. The ceiling is rounded up to a
        "nice" number, so a handful of backgrounds serve every organisation of a week.
        """
        if len(values) != len(self.series) or any(len(v) != self.n_bars for v in values):
            raise ValueError("values do not fit the chart's shape")
        base = np.zeros(self.n_bars)
        for container, row in zip(self.containers, values, strict=True):
            for rect, v, b in zip(container.patches, row, base, strict=True):
                if self.horizontal:
                    rect.set_width(v)
                    rect.set_x(b)
                else:
                    rect.set_height(v)
                    rect.set_y(b)
            base = base + np.asarray(row, dtype=float)
        ceiling = nice_ceiling(float(base.max()) if len(base) else 0.0)
        key = (tuple(labels), ceiling)
        if key != self._drawn:
            (self.ax.set_xlim if self.horizontal else self.ax.set_ylim)(0, ceiling)
        background = self._backgrounds.get(key)
        if background is None:
            if len(self._backgrounds) >= MAX_BACKGROUNDS:
                self._backgrounds.pop(next(iter(self._backgrounds)))
            (self.ax.set_yticklabels if self.horizontal else self.ax.set_xticklabels)(list(labels), fontfamily=FONT)
            for container in self.containers:
                for rect in container.patches:
                    rect.set_visible(False)
            self.canvas.draw()
            background = self._backgrounds[key] = self.canvas.copy_from_bbox(self.fig.bbox)
            for container in self.containers:
                for rect in container.patches:
                    rect.set_visible(True)
        self._drawn = key
        self.canvas.restore_region(background)
        for container, row in zip(self.containers, values, strict=True):
            for rect, v in zip(container.patches, row, strict=True):
                if v:  # an empty bar draws nothing
                    self.ax.draw_artist(rect)
        for spine in ("left", "bottom"):
            self.ax.draw_artist(self.ax.spines[spine])
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        # Few colours: a palette PNG is a third of the size and still crisp.
        image.convert("RGB").quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(out, "PNG", compress_level=6)
        return out.getvalue()


MAX_BACKGROUNDS = 64
_NICE = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def nice_ceiling(top: float) -> float:
    """The y-axis top: a round number a little above ``top`` (4, 5, 6, 8, 10, 12, 15, 20, 25 …)."""
    target = max(top * 1.05, 4.0)
    scale = 10 ** math.floor(math.log10(target))
    return next(n * scale for n in _NICE if n * scale >= target)


class ChartBook:
    """The figures of one thread, one per chart shape."""

    def __init__(self) -> None:
        self._charts: dict[tuple, StackedBars] = {}

    def stacked(self, n_bars: int, series: tuple[Series, ...], **kwargs: object) -> StackedBars:
        """The reusable chart of this shape (created on first use)."""
        key = (n_bars, series, tuple(sorted(kwargs.items())))
        chart = self._charts.get(key)
        if chart is None:
            chart = self._charts[key] = StackedBars(n_bars, series, **kwargs)  # type: ignore[arg-type]
        return chart


_local = threading.local()


def chart_book() -> ChartBook:
    """This thread's ChartBook."""
    book = getattr(_local, "book", None)
    if book is None:
        book = _local.book = ChartBook()
    return book
