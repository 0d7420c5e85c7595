"""The FastAPI application: JSON API under /api, OpenAPI at /docs, photos under /media."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from common.crypto import CredentialCipher
from common.settings import Settings, get_settings
from db.session import make_engine, make_sessionmaker
from publishers.registry import ClientFactory, PlatformConfig
from web import errors, pages
from web.api import channels, media, opinion, orgs, posts, webhooks
from web.deps import WebRuntime


def create_app(settings: Settings | None = None, *, clients: object | None = None) -> FastAPI:
    """Build the app from settings (tests pass their own settings and client factory)."""
    s = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine = make_engine(s.database_url)
    s.media_dir.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        yield
        engine.dispose()  # close pooled connections when the server (or a test client) stops

    app = FastAPI(title="Loa API", version="0.1.0", lifespan=lifespan,
                  description="Lên lịch, duyệt và đăng bài lên Trang Facebook và Zalo OA của tổ chức Công đoàn.")
    app.state.runtime = WebRuntime(
        factory=make_sessionmaker(engine), cipher=CredentialCipher.from_setting(s.secret_keys.get_secret_value()),
        clients=clients or ClientFactory(PlatformConfig.from_settings(s)), media_dir=s.media_dir,
        max_photo_bytes=s.max_photo_bytes, timezone=s.timezone, settings=s)
    errors.install(app)
    for module in (orgs, channels, media, posts, opinion, webhooks):
        app.include_router(module.router)
    for router in pages.routers():
        app.include_router(router)
    app.mount("/media", StaticFiles(directory=s.media_dir), name="media")
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    errors.install_pages(app)

    @app.middleware("http")
    async def server_timing(request, call_next):  # noqa: ANN001, ANN202
        # Server time of every response (browser dev tools show it; bench/web.py reads it).
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    @app.get("/healthz", tags=["hệ thống"])
    def healthz() -> dict:
        """Liveness and database reachability."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
