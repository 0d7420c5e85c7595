"""Sign-in, sessions, CSRF and throttling of the web app, through real HTTP requests on PostgreSQL."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from db.models import User, WebSession
from db.session import session_scope
from domain.accounts import set_password
from tests.web.conftest import PASSWORD


def _form_token(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def _set_password(factory, user_id: int) -> str:
    with session_scope(factory) as s:
        user = s.get(User, user_id)
        set_password(s, user=user, password=PASSWORD)
        return user.email


def test_anonymous_visitor_is_sent_to_sign_in_and_back(client, factory, world):
    first = client.get("/?tab=duyet", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2F%3Ftab%3Dduyet"
    email = _set_password(factory, world.approver)
    form = client.get(first.headers["location"])
    assert "Đăng nhập" in form.text
    done = client.post("/login", data={"email": email.upper(), "password": PASSWORD, "csrf_token": _form_token(form.text),
                                       "next": "/?tab=duyet"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/?tab=duyet"
    cookie = done.headers["set-cookie"]
    assert "loa_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; see the next test for TLS
    home = client.get("/")
    assert home.status_code == 200 and "Duyệt" in home.text


def test_cookie_is_secure_behind_tls(settings, world, factory):
    from publishers.fake import FakeClientFactory
    from web.app import create_app

    email = _set_password(factory, world.editor)
    with TestClient(create_app(settings, clients=FakeClientFactory()), base_url="https://loa.test") as c:
        token = _form_token(c.get("/login").text)
        done = c.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                      follow_redirects=False)
    assert done.status_code == 303 and "Secure" in done.headers["set-cookie"]


def test_password_is_stored_as_argon2_hash(factory, world):
    _set_password(factory, world.editor)
    with factory() as s:
        stored = s.get(User, world.editor).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_and_unknown_email_get_the_same_answer(client, factory, world):
    email = _set_password(factory, world.editor)
    answers = []
    for who, pw in ((email, "sai-mat-khau-123"), ("khongco@tinh.vn", "sai-mat-khau-123")):
        token = _form_token(client.get("/login").text)
        r = client.post("/login", data={"email": who, "password": pw, "csrf_token": token})
        answers.append((r.status_code, "Email hoặc mật khẩu không đúng." in r.text))
    assert answers == [(401, True), (401, True)]
    assert "loa_session" not in client.cookies


def test_sign_in_is_throttled_after_repeated_failures_even_with_the_right_password(client, factory, world):
    email = _set_password(factory, world.editor)
    for _ in range(5):
        token = _form_token(client.get("/login").text)
        assert client.post("/login", data={"email": email, "password": "doan-mo-123456", "csrf_token": token}
                           ).status_code == 401
    token = _form_token(client.get("/login").text)
    blocked = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429 and "quá nhiều lần" in blocked.text
    assert "loa_session" not in client.cookies


def test_sign_in_form_without_its_csrf_cookie_is_refused(client, factory, world):
    email = _set_password(factory, world.editor)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"},
                    follow_redirects=False)
    assert r.status_code == 403 and "loa_session" not in client.cookies


def test_unsafe_request_without_csrf_token_is_refused(client, login):
    token = login("editor")
    refused = client.post("/logout", data={}, follow_redirects=False)
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in: no token, no logout
    assert refused.status_code == 303  # logout without a token only leaves
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_open_redirect_after_sign_in_is_neutralised(client, factory, world):
    email = _set_password(factory, world.editor)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        c = TestClient(client.app)
        token = _form_token(c.get("/login").text)
        r = c.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": evil},
                   follow_redirects=False)
        assert r.headers["location"] == "/"


def test_sessions_are_stored_hashed_and_end_with_password_change(client, factory, world, login):
    login("editor")
    cookie = client.cookies.get("loa_session")
    with factory() as s:
        hashes = list(s.scalars(select(WebSession.token_hash).where(WebSession.user_id == world.editor)))
    assert hashes and cookie not in hashes
    from web.auth import end_all_sessions

    with session_scope(factory) as s:
        end_all_sessions(s, user_id=world.editor)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_pages_send_security_headers(client, login):
    login("editor")
    r = client.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
