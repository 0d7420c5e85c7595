"""Read-only Graph API calls for the collectors: one GET, error mapping, paging links, usage headers.

The publisher has its own client; collectors may not import ``publishers/``, so the few lines of
plumbing they share live in ``platforms/`` and this module only adds what reading needs.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from platforms.graph_errors import PLATFORM, GraphUsage, map_graph_error, parse_usage
from platforms.http import DEFAULT_TIMEOUT, appsecret_proof, excerpt, parse_json, send, unreadable_response

# Query keys we add ourselves; never copied from a `paging.next` link.
_AUTH_KEYS = ("access_token", "appsecret_proof")


class GraphReader:
    """GETs against one Graph version with one (Page) token; remembers the latest usage headers."""

    def __init__(self, access_token: str, *, base_url: str, api_version: str,
                 session: requests.Session | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 app_secret: str | None = None) -> None:
        self._token = access_token
        self._root = f"{base_url.rstrip('/')}/{api_version.strip('/')}"
        self._origin = urlsplit(base_url)[:2]
        self._session = session or requests.Session()
        self._timeout = timeout
        self._proof = appsecret_proof(app_secret, access_token) if app_secret else None
        self.secrets = (access_token, app_secret, self._proof)
        self.last_usage: GraphUsage | None = None
        self.calls = 0
        self._last_resp: requests.Response | None = None  # for error reports about its links

    def get(self, path: str, params: dict[str, str]) -> dict:
        """GET ``path`` (relative to the version root, or a URL from ``next_page``) → JSON object."""
        url = path if path.startswith(("http://", "https://")) else f"{self._root}/{path.lstrip('/')}"
        query = {**params, "access_token": self._token}
        if self._proof:
            query["appsecret_proof"] = self._proof
        self.calls += 1
        resp = send(self._session, "GET", url, params=query, platform=PLATFORM, creates=False,
                    timeout=self._timeout, secrets=self.secrets)
        usage = parse_usage(resp.headers)
        if usage is not None:
            self.last_usage = usage
        body = parse_json(resp)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise map_graph_error(body["error"], resp, raw=excerpt(resp, self.secrets))
        if not 200 <= resp.status_code < 300 or not isinstance(body, dict):
            raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=self.secrets)
        self._last_resp = resp
        return body

    def get_list(self, path: str, params: dict[str, str]) -> tuple[list[dict], dict]:
        """GET a list edge → (objects of ``data``, whole body); a body without a ``data`` list is unreadable."""
        body = self.get(path, params)
        data = body.get("data")
        if not isinstance(data, list):
            raise unreadable_response(self._last_resp, platform=PLATFORM, creates=False, secrets=self.secrets)
        return [row for row in data if isinstance(row, dict)], body

    def next_page(self, body: dict) -> tuple[str, dict[str, str]] | None:
        """(url, params) of ``paging.next``, or None on the last page.

        A link to another host is refused (our token would follow it there); an empty page may
        still carry ``next`` (A5), so callers stop only when this returns None.
        """
        paging = body.get("paging")
        link = paging.get("next") if isinstance(paging, dict) else None
        if not link:
            return None
        parts = urlsplit(link) if isinstance(link, str) else None
        if parts is None or parts[:2] != self._origin:
            raise unreadable_response(self._last_resp, platform=PLATFORM, creates=False, secrets=self.secrets)
        params = {k: v for k, v in parse_qsl(parts.query) if k not in _AUTH_KEYS}
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), params


def parse_graph_time(value: object) -> datetime | None:
    """Graph times look like 2024-05-01T10:00:00+0000; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
