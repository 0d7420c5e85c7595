"""Server-rendered pages (Jinja2 templates in web/templates, assets in web/static).

Each module exposes ``router``; ``ROUTERS`` lists them in the order they are mounted.
"""

from __future__ import annotations

from importlib import import_module

MODULES = [
    "web.pages.auth",
    "web.pages.home",
]


def routers() -> list:
    """The page routers, imported on demand."""
    return [import_module(name).router for name in MODULES]
