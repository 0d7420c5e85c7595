"""Typed settings read from the environment (prefix ``LOA_``) and ``.env``.

Only entry points (web app, Celery app, CLI, Alembic env, bench scripts) call
``get_settings()``; library code receives plain values.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def _default_datasets_dir() -> Path:
    """../shared/datasets beside the checkout, else the workplace's shared copy (set LOA_DATASETS_DIR
    to be explicit)."""
    for candidate in (ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")):
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "datasets"


class Settings(BaseSettings):
    """Every knob of Loa; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_prefix="LOA_", env_file=".env", extra="ignore")

    # Storage. The embedded default is a SQLite file; production uses PostgreSQL.
    database_url: str = f"sqlite:///{ROOT / 'var' / 'loa.sqlite3'}"
    # Celery broker: Redis in production; kombu's SQLAlchemy transport needs no server.
    broker_url: str = f"sqla+sqlite:///{ROOT / 'var' / 'broker.sqlite3'}"
    # Fernet keys (comma separated, newest first) that encrypt channel tokens at rest.
    secret_keys: SecretStr = SecretStr("")
    timezone: str = "Asia/Ho_Chi_Minh"

    # Where uploaded photos live and the public URL that serves them (Zalo needs URLs).
    media_dir: Path = ROOT / "var" / "media"
    public_base_url: str = "http://127.0.0.1:8000"
    max_photo_bytes: int = 4 * 1024 * 1024

    # Web sign-in cookies: Secure when true; unset = Secure whenever the request came over HTTPS
    # (uvicorn --proxy-headers trusts X-Forwarded-Proto from the TLS proxy in front).
    cookie_secure: bool | None = None

    # Platform endpoints: the real hosts in production, the sandbox in development.
    facebook_graph_url: str = "https://graph.facebook.com"
    facebook_api_version: str = "v25.0"
    facebook_app_secret: SecretStr = SecretStr("")
    zalo_openapi_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_app_id: str = ""
    zalo_app_secret: SecretStr = SecretStr("")
    http_connect_timeout_s: float = 5.0
    http_read_timeout_s: float = 20.0

    # Scheduling and publishing.
    dispatch_interval_s: float = 1.0
    dispatch_lookahead_s: float = 1.5
    dispatch_batch: int = 500
    requeue_after_s: float = 2.0
    publish_batch: int = Field(8, description="Targets due together that one message claims and sends together.")
    publish_call_threads: int = Field(64, description="Threads per worker process for platform calls.")
    lease_s: float = Field(120.0, description="How long a publish claim lasts before recovery may look at it.")
    max_attempts: int = 8
    recover_interval_s: float = 15.0
    worker_concurrency: int = 16

    # Outgoing mail (notifications to channel admins); empty host disables sending.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "loa@localhost"

    # Opinion monitoring: training data (read in place, never copied) and model artifacts.
    datasets_dir: Path = Field(default_factory=lambda: _default_datasets_dir())
    models_dir: Path = ROOT / "var" / "models"
    # Per-label flag thresholds, e.g. {"risk.sai_lech": 0.4}; unset labels use the argmax.
    label_thresholds: dict[str, float] = {}
    # Salt for hashing authors' platform ids (set it in production; changing it splits authors).
    author_salt: SecretStr = SecretStr("loa-dev-salt")
    # Webhooks: Facebook's verification token (handshake) and the Zalo OA secret key that signs
    # Zalo events (a channel's credentials may carry its own "oa_secret_key").
    facebook_verify_token: SecretStr = SecretStr("")
    zalo_oa_secret_key: SecretStr = SecretStr("")
    webhook_max_bytes: int = 1_000_000
    # Feeds may point at loopback/private addresses only in development (the sandbox's local feed).
    feeds_allow_private: bool = False
    collect_interval_s: float = 30.0
    classify_interval_s: float = 5.0
    hot_topics_interval_s: float = 300.0
    # One alert email per monitor per this many seconds (later alerts wait and go out together).
    alert_throttle_s: float = 900.0
    # Misinformation/incitement items at or above this risk probability email the on-duty monitors.
    alert_min_risk_score: float = 0.6

    # Reporting (issue 5): post insights, the weekly leadership digest, the 6-month/annual reports.
    # How often published posts' insights are checked for being due; a post is read hourly on its
    # first two days, every 6 h in its first week, daily until it is this many days old, then no more.
    insights_interval_s: float = 600.0
    insights_max_age_days: float = 30.0
    # How often beat looks for digests due (each organisation's local weekday and hour) and retries.
    digest_check_interval_s: float = 300.0
    # A claimed digest email whose worker vanished for this long is marked "uncertain", not re-sent.
    digest_send_lease_s: float = 300.0
    # SMTP tries per recipient and week before the delivery is "failed" (backoff 2, 4, 8, 16 min).
    digest_max_attempts: int = 5
    # Where `loa report` writes its files when no --output is given.
    reports_dir: Path = ROOT / "var" / "reports"

    # Port of the local sandbox started by `make run`.
    sandbox_port: int = 8081
    web_port: int = 8000


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
