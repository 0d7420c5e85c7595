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
        return make_engine(self.settings.database_url, pool_size=self.settings.worker_concurrency + 2)

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
                              worker=f"{socket.gethostname()}:{os.getpid()}")


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
