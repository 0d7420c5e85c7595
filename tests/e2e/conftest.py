"""A live Loa for browser journeys: PostgreSQL, the sandbox over HTTP, the web app under uvicorn, Celery on Redis.

Everything is real and on loopback: a fresh database migrated with Alembic; the Facebook/Zalo sandbox on a free
port, delivering signed webhooks to the web app; the web app served by uvicorn in a thread (its platform
clients point at the sandbox); a Celery worker (publish + monitor queues) and the beat process (control queue)
as child processes on a dedicated Redis database (``LOA_E2E_REDIS_URL``, default db 11), classifying with the
model trained once per test run. Chromium is Debian's (``tests.browser.ensure_chromium``); Playwright never
downloads a browser. With CI=true a missing Chromium, Redis or PostgreSQL fails the run instead of skipping.

The stack is built once for the package and torn down after its last test.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from pydantic import SecretStr

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

from cli.cluster import beat_command, kill, spawn, worker_command  # noqa: E402
from common.crypto import CredentialCipher  # noqa: E402
from common.settings import Settings  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Membership, OrgKind, Platform, Role  # noqa: E402
from db.session import make_engine, make_sessionmaker, session_scope  # noqa: E402
from domain import accounts, channels, orgs  # noqa: E402
from sandbox.testing import SandboxServer  # noqa: E402
from tests.browser import artifacts_dir, ensure_chromium  # noqa: E402
from tests.conftest import PG_ADMIN_URL, require_service  # noqa: E402

REDIS_URL = os.environ.get("LOA_E2E_REDIS_URL", "redis://127.0.0.1:6379/11")
PASSWORD = "mat-khau-e2e-2027"
VERIFY_TOKEN = "e2e-verify-token"
AUTHOR_SALT = "e2e-author-salt"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
START_TIMEOUT_S = 45


# ---------------------------------------------------------------- services


@pytest.fixture(scope="package")
def live_db_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for the live stack, migrated to head, dropped afterwards."""
    name = f"loa_e2e_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        require_service("PostgreSQL", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="package")
def live_redis_url() -> Iterator[str]:
    """The dedicated Redis database, emptied before and after (stale messages of an earlier run are dropped)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=5)
    try:
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        require_service("Redis", exc)
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(scope="package")
def live_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=2027) as sb:
        yield sb


# ---------------------------------------------------------------- demo-like data


@dataclass
class LiveWorld:
    """Who and what exists in the live database."""

    province: int
    grassroots: int
    channel: int
    page: dict
    emails: dict[str, str]
    user_ids: dict[str, int]
    password: str = PASSWORD


PEOPLE = [
    ("editor", "bientap@e2e.loa.vn", "Nguyễn Thị Hồng (biên tập)", Role.editor),
    ("approver", "duyet@e2e.loa.vn", "Trần Văn Minh (duyệt bài)", Role.approver),
    ("monitor", "theodoi@e2e.loa.vn", "Lê Thị Lan (theo dõi dư luận)", Role.monitor),
    ("admin", "quantri@e2e.loa.vn", "Phạm Quốc Huy (quản trị)", Role.admin),
]


def seed_world(factory, cipher: CredentialCipher, sandbox: SandboxServer) -> LiveWorld:
    """A province with an editor, an approver, an on-duty monitor and an admin, and its sandbox Facebook Page."""
    page = sandbox.add_page("LĐLĐ tỉnh Hà Nam (thử nghiệm)")
    with session_scope(factory) as s:
        province = orgs.create_org(s, name="LĐLĐ tỉnh Hà Nam", kind=OrgKind.tinh)
        grassroots = orgs.create_org(s, name="CĐCS Công ty May Hà Nam", kind=OrgKind.co_so, parent_id=province.id)
        ids = {}
        for key, email, name, role in PEOPLE:
            user = orgs.create_user(s, email=email, full_name=name)
            accounts.set_password(s, user=user, password=PASSWORD)
            orgs.grant_role(s, user=user, org=province, role=role)
            ids[key] = user.id
        s.query(Membership).filter_by(user_id=ids["monitor"], role=Role.monitor).update({"on_duty": True})
        channel = channels.connect_channel(
            s, org=province, platform=Platform.facebook_page, external_id=page["page_id"], name=page["name"],
            credentials={"access_token": page["page_token"]}, cipher=cipher, slots=[])
        return LiveWorld(province=province.id, grassroots=grassroots.id, channel=channel.id, page=page,
                         emails={key: email for key, email, _n, _r in PEOPLE}, user_ids=ids)


# ---------------------------------------------------------------- the web app and Celery


class WebServer:
    """The web app under a real uvicorn in a background thread, on a free loopback port."""

    def __init__(self, settings_for: Callable[[str], Settings]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.settings = settings_for(self.url)
        self.server = None
        self.thread: threading.Thread | None = None

    def start(self) -> WebServer:
        import uvicorn

        from web.app import create_app

        self.app = create_app(self.settings)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="loa-web-e2e", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the web app did not answer on {self.url}")

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.app.state.runtime.factory.kw["bind"].dispose()


@dataclass
class Celery:
    """A publishing/monitoring worker and the beat (dispatch, collection, classification ticks) as children."""

    env: dict
    logdir: Path
    procs: dict = field(default_factory=dict)

    def start(self) -> Celery:
        self.procs["worker"] = spawn(worker_command(concurrency=4, name=f"e2e-{uuid.uuid4().hex[:6]}",
                                                    queues="loa.publish,loa.monitor", loglevel="INFO"),
                                     env=self.env, log=self.logdir / "worker.log")
        self.procs["beat"] = spawn(beat_command(self.logdir / "beat-schedule", loglevel="INFO"), env=self.env,
                                   log=self.logdir / "beat.log")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"celery {name} exited with {proc.returncode}:\n{self.logs()}")
            if all(" ready." in (self.logdir / f"{name}.log").read_text(errors="replace") for name in self.procs):
                return self
            time.sleep(0.2)
        raise RuntimeError(f"celery did not become ready:\n{self.logs()}")

    def stop(self) -> None:
        for proc in self.procs.values():
            kill(proc)

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-tail:]}"
                         for p in sorted(self.logdir.glob("*.log")))


@dataclass
class LiveStack:
    """The running system as a test sees it."""

    url: str
    sandbox: SandboxServer
    world: LiveWorld
    factory: object  # sessionmaker on the live database, for checks
    celery: Celery
    shots: Path
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    def screenshot(self, page, name: str) -> Path:
        """A full-page screenshot in test-artifacts/e2e/, numbered in the order taken."""
        path = self.shots / f"{next(self._seq):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def logs(self) -> str:
        return self.celery.logs()


@pytest.fixture(scope="package")
def live_stack(live_db_url, live_redis_url, live_sandbox, secret_key, trained_models_dir,
               tmp_path_factory) -> Iterator[LiveStack]:
    """The whole of Loa running on loopback, with demo-like data."""
    workdir = tmp_path_factory.mktemp("e2e")
    engine = make_engine(live_db_url)
    factory = make_sessionmaker(engine)
    world = seed_world(factory, CredentialCipher([secret_key]), live_sandbox)
    sb = live_sandbox
    # One app secret for webhook signatures and the appsecret_proof the Graph clients send: the sandbox's.
    app_secret = sb.emulator.cfg.fb_app_secret

    def settings_for(url: str) -> Settings:
        return Settings(database_url=live_db_url, broker_url=live_redis_url, secret_keys=SecretStr(secret_key),
                        media_dir=workdir / "media", public_base_url=url, facebook_graph_url=sb.graph_url,
                        zalo_openapi_url=sb.zalo_openapi_url, zalo_oauth_url=sb.zalo_oauth_url,
                        facebook_app_secret=SecretStr(app_secret), facebook_verify_token=SecretStr(VERIFY_TOKEN),
                        author_salt=SecretStr(AUTHOR_SALT), models_dir=trained_models_dir, _env_file=None)

    web = WebServer(settings_for).start()
    # Real-time comments: the sandbox signs feed webhooks with the app secret the web app checks.
    sb.configure_webhooks(facebook={"callback_url": f"{web.url}/webhooks/facebook", "verify_token": VERIFY_TOKEN,
                                    "app_secret": app_secret})
    env = {  # every setting the children need, so a developer's .env cannot redirect them
        "LOA_DATABASE_URL": live_db_url, "LOA_BROKER_URL": live_redis_url, "LOA_SECRET_KEYS": secret_key,
        "LOA_FACEBOOK_GRAPH_URL": sb.graph_url, "LOA_ZALO_OPENAPI_URL": sb.zalo_openapi_url,
        "LOA_ZALO_OAUTH_URL": sb.zalo_oauth_url, "LOA_MEDIA_DIR": str(workdir / "media"),
        "LOA_PUBLIC_BASE_URL": web.url, "LOA_MODELS_DIR": str(trained_models_dir),
        "LOA_AUTHOR_SALT": AUTHOR_SALT, "LOA_FACEBOOK_APP_SECRET": app_secret, "LOA_SMTP_HOST": "",
        "LOA_REPORTS_DIR": str(workdir / "reports"), "LOA_DISPATCH_INTERVAL_S": "0.5",
        "LOA_CLASSIFY_INTERVAL_S": "1", "LOA_COLLECT_INTERVAL_S": "5", "LOA_RECOVER_INTERVAL_S": "5",
        "LOA_HTTP_READ_TIMEOUT_S": "5", "LOA_WORKER_CONCURRENCY": "4",
    }
    celery = Celery(env=env, logdir=workdir)
    shots = artifacts_dir("e2e")
    for old in shots.glob("*.png"):  # this run's screenshots only
        old.unlink()
    try:
        celery.start()
        yield LiveStack(url=web.url, sandbox=sb, world=world, factory=factory, celery=celery,
                        shots=shots)
    finally:
        celery.stop()
        web.stop()
        engine.dispose()


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium driven by Playwright (headless, no sandbox: tests run as root in CI containers)."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Person:
    """One signed-in person's browser tab; JavaScript errors and CSP refusals are collected."""

    who: str
    context: object
    page: object
    errors: list[str]

    def goto(self, stack: LiveStack, path: str):
        response = self.page.goto(stack.url + path)
        assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
        return response

    def phone(self, browser) -> Person:
        """The same signed-in person on a phone-sized screen."""
        return _open(browser, self.who, viewport=PHONE, storage_state=self.context.storage_state(), mobile=True)


def _console_error(msg, errors: list[str]) -> None:
    """Keep console errors (CSP refusals, failed scripts/styles/images), naming the resource; not the favicon."""
    where = (msg.location or {}).get("url", "")
    if msg.type == "error" and not where.endswith("/favicon.ico"):
        errors.append(f"{msg.text} [{where}]")


def _open(browser, who: str, *, viewport: dict, storage_state: dict | None = None, mobile: bool = False) -> Person:
    context = browser.new_context(viewport=viewport, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  storage_state=storage_state, is_mobile=mobile, has_touch=mobile,
                                  device_scale_factor=2 if mobile else 1)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: _console_error(msg, errors))
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("dialog", lambda dialog: dialog.accept())  # <form data-confirm>: the person says yes
    return Person(who=who, context=context, page=page, errors=errors)


@pytest.fixture
def sign_in(browser, live_stack) -> Iterator[Callable[[str], Person]]:
    """sign_in('editor') → a new browser context signed in through the real form as that person."""
    people: list[Person] = []

    def open_as(who: str) -> Person:
        person = _open(browser, who, viewport=DESKTOP)
        people.append(person)
        page = person.page
        person.goto(live_stack, "/login")
        page.fill("input[name=email]", live_stack.world.emails[who])
        page.fill("input[name=password]", live_stack.world.password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        return person

    yield open_as
    for person in people:
        person.context.close()


def wait_until(stack: LiveStack, page, check: Callable[[], bool], *, what: str, timeout: float = 45.0,
               every: float = 1.0) -> None:
    """Reload ``page`` until ``check()`` holds (publishing and classification are asynchronous)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} on {page.url}\n"
                                 f"{stack.logs()}")
        time.sleep(every)
        page.reload()
