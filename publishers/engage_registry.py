"""Platform name → Engager (the registry's hook for publishers.engage; one entry per platform)."""

from __future__ import annotations

from collections.abc import Callable

from publishers.engage import Engager


def build_engager(clients, platform: str, external_id: str, credentials: dict, *,  # noqa: ANN001
                  author_key: Callable[[str], str] | None = None) -> Engager:
    """An Engager for one channel, sharing the factory's HTTP session, endpoints and timeouts."""
    cfg, token = clients.config, credentials["access_token"]
    timeout = (cfg.connect_timeout, cfg.read_timeout)
    if platform == "facebook_page":
        from publishers.facebook.engage import FacebookEngageClient

        return FacebookEngageClient(external_id, token, base_url=cfg.facebook_graph_url,
                                    api_version=cfg.facebook_api_version, session=clients.http_session(),
                                    timeout=timeout, app_secret=cfg.facebook_app_secret)
    if platform == "zalo_oa":
        from publishers.zalo.engage import ZaloEngageClient

        return ZaloEngageClient(external_id, token, openapi_url=cfg.zalo_openapi_url,
                                session=clients.http_session(), timeout=timeout, author_key=author_key)
    raise ValueError(f"unknown platform {platform!r}")
