"""HTTP plumbing shared by the Facebook and Zalo clients: sending, transport failures, untrusted bodies.

The one rule that matters here: a request that *creates* something on a platform (a post, an
article job, a message) may have taken effect whenever the bytes could have left this machine.
Such failures become ``OutcomeUnknown`` so nobody retries blindly and double-posts; failures where
the request provably never left (connection refused, DNS, connect timeout, TLS handshake) are
``RetryLater``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import requests
from urllib3 import exceptions as urllib3_exc

from common.errors import OutcomeUnknown, PlatformError, RetryLater

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 20.0)
# Bodies are untrusted and may be huge; errors keep a short excerpt (common.errors caps at 2 KB too).
RAW_LIMIT = 2048
# Used when a platform says "slow down" (HTTP 429) without saying for how long.
DEFAULT_THROTTLE_SECONDS = 60.0

_DISPLAY_NAMES = {"facebook_page": "Facebook", "zalo_oa": "Zalo", "zalo_oauth": "Zalo"}
# Token values in URLs (``access_token=...``) and JSON bodies (``"refresh_token": "..."``).
_TOKEN_VALUE = re.compile(
    r"""((?:access_token|appsecret_proof|refresh_token|secret_key)["']?\s*[=:]\s*["']?)[^&\s'",}]+""")


def display_name(platform: str) -> str:
    """Name of the platform as shown to people."""
    return _DISPLAY_NAMES.get(platform, platform)


def appsecret_proof(app_secret: str, access_token: str) -> str:
    """Hex HMAC-SHA256 of the access token keyed by the app secret (Graph and Zalo use the same recipe)."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove tokens from text about to be stored or logged (requests puts full URLs in its errors)."""
    text = _TOKEN_VALUE.sub(r"\1***", text)
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "***")
    return text


def pooled_session() -> requests.Session:
    """A session that reads the environment's proxy and CA-bundle settings once, not on every request.

    With ``trust_env`` on, requests re-reads them for each call (about 0.5 ms of CPU, a third of a
    publish call's cost on the client side). The platform hosts are few and fixed, so `send` passes
    the proxies the environment chooses for each host, computed once per host.
    """
    session = requests.Session()
    session.trust_env = False
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


@functools.lru_cache(maxsize=64)
def _proxies_for(origin: str) -> dict[str, str]:
    """HTTP(S)_PROXY / NO_PROXY as requests would apply them to ``origin`` (scheme://host:port)."""
    return requests.utils.get_environ_proxies(origin)


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    platform: str,
    creates: bool,
    timeout: tuple[float, float],
    secrets: Iterable[str | None] = (),
    **kwargs: object,
) -> requests.Response:
    """Send one request; transport failures become RetryLater or, for creating calls, OutcomeUnknown."""
    if not session.trust_env and "proxies" not in kwargs:
        parts = urlsplit(url)
        kwargs["proxies"] = _proxies_for(f"{parts.scheme}://{parts.netloc}")
    try:
        # allow_redirects=False: a redirect from an API host is unexpected and could carry the
        # token elsewhere; it is reported as an unreadable response instead.
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise transport_error(exc, platform=platform, creates=creates, secrets=secrets) from None


def request_never_sent(exc: requests.RequestException) -> bool:
    """True when the failure happened before any byte of the request could reach the server."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.InvalidURL)):
        return True
    if isinstance(exc, (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3_exc.MaxRetryError):
            reason = reason.reason
        # NewConnectionError covers refused connections and DNS failures (NameResolutionError).
        return isinstance(reason, (urllib3_exc.NewConnectionError, urllib3_exc.ConnectTimeoutError))
    return False


def transport_error(
    exc: requests.RequestException, *, platform: str, creates: bool, secrets: Iterable[str | None] = ()
) -> PlatformError:
    """Map a requests exception to our error kinds (see the module docstring)."""
    name = display_name(platform)
    raw = redact(f"{type(exc).__name__}: {exc}", secrets)[:RAW_LIMIT]
    if request_never_sent(exc):
        return RetryLater(f"Không kết nối được tới {name}; hệ thống sẽ thử lại.",
                          platform=platform, platform_code="connect_error", raw=raw)
    code = "read_timeout" if isinstance(exc, requests.Timeout) else "connection_lost"
    if creates:
        # The request was (or may have been) delivered: the platform may have applied it.
        return OutcomeUnknown(platform=platform, platform_code=code, raw=raw)
    return RetryLater(f"{name} không phản hồi kịp hoặc ngắt kết nối; hệ thống sẽ thử lại.",
                      platform=platform, platform_code=code, raw=raw)


def parse_json(resp: requests.Response) -> object | None:
    """The decoded JSON body, or None when the body is not JSON."""
    try:
        return json.loads(resp.content or b"")
    except (ValueError, UnicodeDecodeError):
        return None


def excerpt(resp: requests.Response, secrets: Iterable[str | None] = ()) -> str:
    """A short, token-free excerpt of a response body for error records."""
    text = resp.content[:RAW_LIMIT * 2].decode("utf-8", errors="replace")
    return redact(f"HTTP {resp.status_code}: {text}", secrets)[:RAW_LIMIT]


def retry_after_header(resp: requests.Response) -> float | None:
    """Seconds from a standard ``Retry-After`` header given in seconds; None if absent or a date."""
    value = resp.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 7 * 24 * 3600 else None


def unreadable_response(
    resp: requests.Response, *, platform: str, creates: bool, secrets: Iterable[str | None] = ()
) -> PlatformError:
    """Error for a response that is not a recognisable platform answer (HTML 502, bad JSON, no id...)."""
    name = display_name(platform)
    raw = excerpt(resp, secrets)
    code = f"http_{resp.status_code}"
    if resp.status_code == 429:
        # A gateway rate limit: nothing was forwarded.
        return RetryLater(f"{name} yêu cầu giảm tốc độ gọi; hệ thống sẽ thử lại sau.", platform=platform,
                          platform_code=code, raw=raw, throttled=True,
                          retry_after=retry_after_header(resp) or DEFAULT_THROTTLE_SECONDS)
    if creates:
        # A proxy may have forwarded the request before failing, or the platform applied it and
        # then garbled the reply: settle with find_published, never by re-posting.
        return OutcomeUnknown(platform=platform, platform_code=code, raw=raw)
    return RetryLater(f"{name} trả về phản hồi không hợp lệ; hệ thống sẽ thử lại.",
                      platform=platform, platform_code=code, raw=raw, retry_after=retry_after_header(resp))


def str_field(obj: object, key: str) -> str | None:
    """``obj[key]`` as a non-empty string (ints accepted, since ids are numeric), else None."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None
