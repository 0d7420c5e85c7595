"""Zalo OA OAuth v4: exchanging a consent code and refreshing tokens (platform-apis.md B2)."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from common.errors import AuthExpired, RetryLater
from platforms.http import DEFAULT_TIMEOUT, excerpt, parse_json, send, str_field, unreadable_response
from platforms.zalo_errors import PLATFORM, map_zalo_error


@dataclass(frozen=True)
class TokenPair:
    """A fresh access token and the refresh token that replaces the one just used."""

    access_token: str
    refresh_token: str
    expires_in: int


class ZaloAuthClient:
    """Calls ``POST /v4/oa/access_token`` for one Zalo app."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        oauth_url: str = "https://oauth.zaloapp.com",
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.app_id = app_id
        self._secret = app_secret
        self._url = f"{oauth_url.rstrip('/')}/v4/oa/access_token"
        self._session = session or requests.Session()
        self._timeout = timeout

    def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token for a new pair; the old refresh token is dead once this succeeds."""
        # Refresh tokens are single-use: the caller must persist the returned pair before using
        # it, and serialise refreshes per OA. If the reply is lost after Zalo applied the refresh,
        # the retry fails with AuthExpired and an OA admin has to grant access again.
        form = {"app_id": self.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_call(form, secrets=(refresh_token,),
                                failure_vi="Không làm mới được mã truy cập Zalo OA (mã làm mới đã hết hạn, "
                                           "đã dùng hoặc bị thu hồi); cần quản trị viên OA cấp quyền lại.")

    def exchange_code(self, code: str, code_verifier: str) -> TokenPair:
        """Exchange an authorization code (PKCE) from the consent callback for a token pair."""
        form = {"app_id": self.app_id, "grant_type": "authorization_code", "code": code,
                "code_verifier": code_verifier}
        return self._token_call(form, secrets=(code, code_verifier),
                                failure_vi="Không đổi được mã cấp quyền Zalo (mã đã hết hạn hoặc đã dùng); "
                                           "cần quản trị viên OA cấp quyền lại.")

    def _token_call(self, form: dict[str, str], *, secrets: tuple[str, ...], failure_vi: str) -> TokenPair:
        secrets = (*secrets, self._secret)
        # The app secret travels in a `secret_key` header, not in the form.
        resp = send(self._session, "POST", self._url, data=form, headers={"secret_key": self._secret},
                    platform=PLATFORM, creates=False, timeout=self._timeout, secrets=secrets)
        body = parse_json(resp)
        raw = excerpt(resp, secrets)
        code = body.get("error") if isinstance(body, dict) else None
        if isinstance(code, int) and not isinstance(code, bool) and code != 0 and resp.status_code < 500:
            if code == -32:
                raise map_zalo_error(code, str(body.get("message") or ""), resp, raw=raw)
            # Failure bodies are undocumented (error, error_name, error_reason, error_description):
            # everything except throttling is terminal for this grant.
            detail = str(body.get("error_description") or body.get("error_reason") or body.get("message") or "")
            raise AuthExpired(failure_vi, refreshable=False, platform=PLATFORM, platform_code=code, raw=raw,
                              platform_message=detail[:300])
        if resp.status_code != 200 or not isinstance(body, dict):
            raise unreadable_response(resp, platform=PLATFORM, creates=False, secrets=secrets)
        # Official SDKs read a flat body; one client fork reads a nested `data` ([conflict]).
        source = body if str_field(body, "access_token") else body.get("data")
        access, refresh = str_field(source, "access_token"), str_field(source, "refresh_token")
        expires_in = _seconds(source.get("expires_in") if isinstance(source, dict) else None)
        if access is None or refresh is None or expires_in is None:
            raise RetryLater("Zalo trả về phản hồi cấp mã không hợp lệ; hệ thống sẽ thử lại.",
                             platform=PLATFORM, platform_code="bad_token_response", raw=raw)
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=expires_in)


def _seconds(value: object) -> int | None:
    """`expires_in` arrives as a string ("90000"); accept an int too."""
    if isinstance(value, bool):
        return None
    try:
        seconds = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
