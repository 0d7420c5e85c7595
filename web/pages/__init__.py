"""Server-rendered pages (Jinja2 templates in web/templates, assets in web/static).

Each module exposes ``router``; ``ROUTERS`` lists them in the order they are mounted.
"""

from __future__ import annotations

from importlib import import_module

MODULES = [
    "web.pages.auth",
    "web.pages.home",
    "web.pages.review_replies",  # before web.pages.review: /review/replies is not an item id
    "web.pages.review",
    "web.pages.hot_topics",
    "web.pages.calendar",
    "web.pages.compose",
    "web.pages.bulk",
    "web.pages.admin",
    "web.pages.approvals",
    "web.pages.post_page",
    "web.pages.library",
    "web.pages.channels",
    "web.pages.reports",
]


def routers() -> list:
    """The page routers, imported on demand."""
    return [import_module(name).router for name in MODULES]
