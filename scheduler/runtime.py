"""Process-wide objects built from settings once per process (and again after a fork)."""

from __future__ import annotations

import os
import socket
import threading
from functools import cached_property

from common.crypto import CredentialCipher
from common.settings import Settings, get_settings
from db.session import make_engine, make_sessionmaker
from publishers.registry import ClientFactory, PlatformConfig
from publishers.service import PublishContext


class Runtime:
    """Engine, session factory, cipher and platform clients for workers and beat."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self):  # noqa: ANN201
        """The database engine, pooled for the worker's concurrency."""
        # No ping before each checkout: it is a round trip per transaction (three per publish). A
        # connection broken by a database restart fails its statement, is discarded by the pool, and
        # the step is safe to fail: an unclaimed target is dispatched again, an unrecorded one is
        # settled by recovery's platform lookup.
        return make_engine(self.settings.database_url, pool_size=self.settings.worker_concurrency + 2,
                           pre_ping=False)

    @cached_property
    def factory(self):  # noqa: ANN201
        """Session factory."""
        return make_sessionmaker(self.engine)

    @cached_property
    def cipher(self) -> CredentialCipher:
        """Cipher for channel credentials."""
        return CredentialCipher.from_setting(self.settings.secret_keys.get_secret_value())

    @cached_property
    def publish_context(self) -> PublishContext:
        """Everything ``publishers.service`` needs."""
        s = self.settings
        return PublishContext(factory=self.factory, cipher=self.cipher,
                              clients=ClientFactory(PlatformConfig.from_settings(s)), media_dir=s.media_dir,
                              public_base_url=s.public_base_url, lease_s=s.lease_s, max_attempts=s.max_attempts,
                              send_budget_s=s.http_connect_timeout_s + s.http_read_timeout_s + 10,
                              call_threads=s.publish_call_threads,
                              worker=f"{socket.gethostname()}:{os.getpid()}")


    @property
    def collect_http(self):  # noqa: ANN201
        """A pooled HTTP session for collectors (one per thread)."""
        return self.publish_context.clients.http_session()

    @cached_property
    def mailer(self):  # noqa: ANN201
        """SMTP sender for alerts and digests."""
        from common.mail import Mailer

        return Mailer.from_settings(self.settings)

    @property
    def classifier(self):  # noqa: ANN201
        """The current classifier model (reloaded when `loa train` publishes a new version), or None."""
        from classifiers.service import current_version, load_current

        version = current_version(self.settings.models_dir)
        cached = getattr(self, "_classifier", None)
        if version is None:
            return None
        if cached is None or cached.version != version:
            self._classifier = load_current(self.settings.models_dir)
        return self._classifier


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """The runtime of this process, created on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(get_settings())
        return _runtime


def reset_runtime() -> None:
    """Forget the runtime (after fork, so children never share database connections)."""
    global _runtime
    with _lock:
        _runtime = None
