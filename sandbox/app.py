"""Starlette application wiring the fake hosts, the control API and the human page on one port.

URL layout: /graph/{version}/... = graph.facebook.com, /zalo/openapi/... = openapi.zalo.me,
/zalo/oauth/v4/oa/... = oauth.zaloapp.com, /__emu/... = control API, / = HTML page.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox import control, feeds, page, zalo_oauth
from sandbox import control_engage
from sandbox.emulator import Emulator
from sandbox.graph import graph_entry
from sandbox.zalo import zalo_entry

_METHODS = ["GET", "POST", "DELETE"]


async def healthz(request: Request) -> PlainTextResponse:
    """GET /healthz."""
    return PlainTextResponse("ok")


def create_app(config: dict | None = None, *, seed: int | None = None, demo: bool = False,
               latency_ms: float = 0.0, jitter_ms: float = 0.0, error_rate: float = 0.0) -> Starlette:
    """Build the emulator app; latency/error_rate become startup fault rules (kept across resets)."""
    startup = []
    if latency_ms or jitter_ms or error_rate:
        startup.append({"platform": "all", "latency_ms": latency_ms, "jitter_ms": jitter_ms,
                        "error_rate": error_rate})
    emu = Emulator(config, seed=seed, demo=demo, startup_faults=startup)

    @asynccontextmanager
    async def lifespan(app):
        yield
        await emu.webhooks.close()

    routes = [
        Route("/", page.home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graph/{path:path}", graph_entry, methods=_METHODS),
        Route("/zalo/openapi/{version}/{path:path}", zalo_entry, methods=_METHODS),
        Route("/zalo/oauth/v4/oa/access_token", zalo_oauth.access_token, methods=["POST"]),
        Route("/zalo/oauth/v4/oa/permission", zalo_oauth.permission, methods=["GET"]),
        Route("/zalo/oauth/v4/oa/permission/grant", zalo_oauth.permission_grant, methods=["GET"]),
        *control.ROUTES,
        *control_engage.ROUTES,
        *feeds.ROUTES,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emu = emu
    return app
