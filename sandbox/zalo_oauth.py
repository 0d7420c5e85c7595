"""Fake https://oauth.zaloapp.com/v4/oa: consent page and the token endpoint (B2).

Error codes of the token endpoint are [unverified] (the doc only says OAuth errors are -14xxx);
the body shape follows what clients read: error, error_name, error_reason, error_description.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sandbox.responses import json_response
from sandbox.state import ZaloCode
from sandbox.zalo_model import issue_pair, token_pair_json

ERR_APP = -14001
ERR_SECRET = -14002
ERR_REDIRECT = -14003
ERR_CODE = -14019
ERR_VERIFIER = -14020
ERR_REFRESH = -14014
ERR_GRANT = -14005


def oauth_error(code: int, name: str, reason: str) -> dict:
    """Failure body of the token endpoint (HTTP 200)."""
    return {"error": code, "error_name": name, "error_reason": reason, "error_description": reason,
            "ref_doc": "https://developers.zalo.me/docs/official-account/bat-dau/xac-thuc-va-uy-quyen-cho-ung-dung-new"}


def _pkce_ok(code: ZaloCode, verifier: str | None) -> bool:
    if not code.challenge:
        return True
    if not verifier:
        return False
    if code.method.upper() == "PLAIN":
        return hmac.compare_digest(verifier, code.challenge)
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return hmac.compare_digest(digest, code.challenge)


def mint_code(emu, oa_id: str, challenge: str | None = None, method: str = "S256") -> ZaloCode:
    """Authorization code for an OA (10 min, single use)."""
    oa = emu.world.oas[oa_id]
    code = ZaloCode(code=emu.world.token("zac_", 40), oa_id=oa_id, app_id=oa.app_id,
                    expires_at=emu.clock.now() + emu.cfg.zalo_code_ttl_s, challenge=challenge, method=method)
    emu.world.zalo_codes[code.code] = code
    return code


async def access_token(request: Request) -> Response:
    """POST /v4/oa/access_token (form body, `secret_key` header): code exchange or refresh."""
    emu = request.app.state.emu
    emu.calls["zalo"] += 1
    decision = await emu.faults.before("zalo", request.method, "/oauth/v4/oa/access_token")
    if decision.response is not None:
        return decision.response
    form = await request.form()
    app_id = str(form.get("app_id") or "")
    headers = emu.zalo_limits.peek(app_id or "-")
    body = _exchange(emu, request, form, app_id)
    resp = json_response(body, 200, headers)
    if decision.hang_after_s:
        await asyncio.sleep(decision.hang_after_s)
    return resp


def _exchange(emu, request: Request, form, app_id: str) -> dict:
    # No await in here: checking and consuming a refresh token is atomic on the event loop,
    # so of two concurrent refreshes exactly one wins.
    w, now = emu.world, emu.clock.now()
    app = w.zalo_apps.get(app_id)
    if app is None:
        return oauth_error(ERR_APP, "Invalid app_id", "app_id is invalid or missing")
    secret = request.headers.get("secret_key")
    if not secret or not hmac.compare_digest(secret, app.secret):
        return oauth_error(ERR_SECRET, "Invalid secret_key", "secret_key header is missing or wrong")
    grant = form.get("grant_type")
    if grant == "refresh_token":
        ref = w.zalo_refresh.get(str(form.get("refresh_token") or ""))
        if ref is None or ref.app_id != app_id:
            return oauth_error(ERR_REFRESH, "Invalid refresh_token", "refresh_token is invalid")
        if ref.used:
            return oauth_error(ERR_REFRESH, "Invalid refresh_token", "refresh_token has already been used")
        if ref.expires_at <= now:
            return oauth_error(ERR_REFRESH, "Invalid refresh_token", "refresh_token has expired")
        ref.used = True
        tok, new_ref = issue_pair(emu, w.oas[ref.oa_id])
        return token_pair_json(emu, tok, new_ref)
    if grant == "authorization_code":
        code = w.zalo_codes.get(str(form.get("code") or ""))
        if code is None or code.app_id != app_id or code.used or code.expires_at <= now:
            return oauth_error(ERR_CODE, "Invalid code", "code is invalid, expired or already used")
        if not _pkce_ok(code, form.get("code_verifier")):
            return oauth_error(ERR_VERIFIER, "Invalid code_verifier", "code_verifier does not match code_challenge")
        code.used = True
        tok, ref = issue_pair(emu, w.oas[code.oa_id])
        return token_pair_json(emu, tok, ref)
    return oauth_error(ERR_GRANT, "Invalid grant_type", "grant_type must be authorization_code or refresh_token")


async def permission(request: Request) -> Response:
    """GET /v4/oa/permission: a tiny consent page listing the app's OAs."""
    emu = request.app.state.emu
    q = request.query_params
    app = emu.world.zalo_apps.get(q.get("app_id", ""))
    if app is None:
        return HTMLResponse("<h1>Ứng dụng không tồn tại (-14001)</h1>", 400)
    redirect = q.get("redirect_uri", "")
    if not redirect or (app.redirect_uri and redirect != app.redirect_uri):
        return HTMLResponse("<h1>redirect_uri không khớp cấu hình ứng dụng (-14003)</h1>", 400)
    items = []
    for oa in emu.world.oas.values():
        if oa.app_id != app.app_id:
            continue
        params = dict(q)
        params["oa_id"] = oa.oa_id
        items.append(f'<li><a href="/zalo/oauth/v4/oa/permission/grant?{html.escape(urlencode(params))}">'
                     f'Cho phép ứng dụng truy cập OA “{html.escape(oa.name)}”</a></li>')
    return HTMLResponse("<!doctype html><meta charset=utf-8><title>Cấp quyền Zalo OA (giả lập)</title>"
                        "<h1>Cấp quyền cho ứng dụng</h1><ul>" + "".join(items) + "</ul>")


async def permission_grant(request: Request) -> Response:
    """Consent given: redirect to redirect_uri with code, oa_id and state."""
    emu = request.app.state.emu
    q = request.query_params
    oa_id = q.get("oa_id", "")
    if oa_id not in emu.world.oas:
        return HTMLResponse("<h1>OA không tồn tại</h1>", 400)
    code = mint_code(emu, oa_id, q.get("code_challenge") or None, q.get("code_challenge_method", "S256"))
    target = q.get("redirect_uri", "")
    query = {"code": code.code, "oa_id": oa_id}
    if q.get("state"):
        query["state"] = q["state"]
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}{urlencode(query)}", 302)
