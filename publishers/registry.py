"""Platform name → client. Adding a platform means one module and one entry here."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import requests

from platforms.http import pooled_session
from publishers.base import ChannelProbe, Publisher


@dataclass(frozen=True)
class PlatformConfig:
    """Endpoints, app secrets and timeouts for the real platforms or the sandbox."""

    facebook_graph_url: str = "https://graph.facebook.com"
    facebook_api_version: str = "v25.0"
    facebook_app_secret: str | None = None
    zalo_openapi_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_app_id: str = ""
    zalo_app_secret: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 20.0

    @classmethod
    def from_settings(cls, s) -> PlatformConfig:  # noqa: ANN001
        """Build from ``common.settings.Settings``."""
        return cls(facebook_graph_url=s.facebook_graph_url, facebook_api_version=s.facebook_api_version,
                   facebook_app_secret=s.facebook_app_secret.get_secret_value() or None,
                   zalo_openapi_url=s.zalo_openapi_url, zalo_oauth_url=s.zalo_oauth_url, zalo_app_id=s.zalo_app_id,
                   zalo_app_secret=s.zalo_app_secret.get_secret_value(),
                   connect_timeout=s.http_connect_timeout_s, read_timeout=s.http_read_timeout_s)


class ClientFactory:
    """Builds platform clients; one pooled ``requests.Session`` per thread."""

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self._local = threading.local()

    def http_session(self) -> requests.Session:
        """This thread's pooled HTTP session (collectors share it with the clients)."""
        return self._http()

    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = pooled_session()
        return session

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self.config.connect_timeout, self.config.read_timeout)

    def publisher(self, platform: str, external_id: str, credentials: dict, *, name: str = "") -> Publisher:
        """A Publisher for one channel."""
        return self._client(platform, external_id, credentials, name=name)

    def probe(self, platform: str, external_id: str, credentials: dict) -> ChannelProbe:
        """A ChannelProbe for checking a token when a channel is connected."""
        return self._client(platform, external_id, credentials, name="")

    def engager(self, platform: str, external_id: str, credentials: dict, *, author_key=None):  # noqa: ANN001, ANN201
        """An Engager (replies, hiding comments; publishers.engage) for one channel."""
        from publishers.engage_registry import build_engager

        return build_engager(self, platform, external_id, credentials, author_key=author_key)

    def zalo_auth(self):  # noqa: ANN201
        """The Zalo OAuth client used to refresh OA tokens."""
        from publishers.zalo import ZaloAuthClient

        return ZaloAuthClient(self.config.zalo_app_id, self.config.zalo_app_secret,
                              oauth_url=self.config.zalo_oauth_url, session=self._http(), timeout=self._timeout)

    def _client(self, platform: str, external_id: str, credentials: dict, *, name: str):  # noqa: ANN202
        token = credentials["access_token"]
        if platform == "facebook_page":
            from publishers.facebook import FacebookPageClient

            return FacebookPageClient(external_id, token, base_url=self.config.facebook_graph_url,
                                      api_version=self.config.facebook_api_version, session=self._http(),
                                      timeout=self._timeout, app_secret=self.config.facebook_app_secret)
        if platform == "zalo_oa":
            from publishers.zalo import ZaloOAClient

            return ZaloOAClient(external_id, token, openapi_url=self.config.zalo_openapi_url, session=self._http(),
                                timeout=self._timeout, author=name[:50])
        raise ValueError(f"unknown platform {platform!r}")
