"""Shared pieces of the fake Graph host: request context, parameters, token checks, errors."""

from __future__ import annotations

import hashlib
import hmac
import json

from starlette.datastructures import UploadFile
from starlette.requests import Request

from sandbox.fields import parse_fields
from sandbox.responses import TOKEN_SUBCODE_MESSAGES, fb_error_body
from sandbox.state import FbToken, Page


class GraphError(Exception):
    """A Graph error answer (A10 body)."""

    def __init__(self, code: int, message: str | None = None, *, subcode: int | None = None, status: int = 400,
                 user_title: str | None = None, user_msg: str | None = None, err_type: str = "OAuthException"):
        super().__init__(message or str(code))
        self.code, self.message, self.subcode, self.status = code, message, subcode, status
        self.user_title, self.user_msg, self.err_type = user_title, user_msg, err_type

    def body(self) -> dict:
        """JSON body for this error."""
        return fb_error_body(self.code, self.message, self.subcode, self.user_title, self.user_msg, self.err_type)


def unknown_object(object_id: str, method: str) -> GraphError:
    """The famous 'Unsupported get request' error (code 100, subcode 33)."""
    verb = {"GET": "get", "POST": "post", "DELETE": "delete"}.get(method, method.lower())
    return GraphError(100, f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
                      "loaded due to missing permissions, or does not support this operation. Please read the "
                      "Graph API documentation at https://developers.facebook.com/docs/graph-api",
                      subcode=33, err_type="GraphMethodException")


def as_bool(value, default: bool) -> bool:
    """Graph accepts true/false, 1/0 and JSON booleans."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


class Ctx:
    """Everything a Graph handler needs about the current request."""

    def __init__(self, emu, request: Request, version: str, segs: list[str]) -> None:
        self.emu = emu
        self.request = request
        self.method = request.method
        self.version = version
        self.segs = segs
        self.params: dict = {}
        self.files: dict[str, tuple[str, str, bytes]] = {}
        self.token: FbToken | None = None
        self.page: Page | None = None
        url = request.url
        self.base = f"{url.scheme}://{url.netloc}"
        self.self_url = f"{self.base}{url.path}"

    async def load(self) -> None:
        """Merge query string, form/multipart body and JSON body into ``params``."""
        req = self.request
        self.params = dict(req.query_params)
        if self.method == "GET":
            return
        ctype = req.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            raw = await req.body()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise GraphError(100, "(#100) Request body is not valid JSON") from None
                if isinstance(body, dict):
                    self.params.update(body)
        elif ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await req.form(max_part_size=64 * 1024 * 1024)
            seen: dict[str, list] = {}
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    self.files[key] = (value.filename or "", value.content_type or "", await value.read())
                else:
                    seen.setdefault(key, []).append(value)
            # A repeated form key (requests encodes lists that way) becomes a list.
            self.params.update({k: v[0] if len(v) == 1 else v for k, v in seen.items()})

    def str(self, name: str, default: str | None = None) -> str | None:
        """Parameter as a string (JSON numbers are stringified)."""
        v = self.params.get(name)
        if v is None:
            return default
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return str(v)

    def bool(self, name: str, default: bool) -> bool:
        """Parameter as a boolean."""
        return as_bool(self.params.get(name), default)

    def int(self, name: str, default: int) -> int:
        """Parameter as an int; code 100 when unreadable."""
        v = self.params.get(name)
        if v in (None, ""):
            return default
        try:
            return int(v)
        except (TypeError, ValueError):
            raise GraphError(100, f"(#100) Param {name} must be an integer") from None

    @property
    def fields(self):
        """Parsed `fields` parameter (None when absent)."""
        return parse_fields(self.str("fields"))

    def query_for_links(self) -> dict:
        """Query parameters echoed in paging links (the token only when it came in the query)."""
        return dict(self.request.query_params)

    def page_viewer(self, page: Page | None) -> bool:
        """True when the caller holds this Page's own token."""
        return bool(page and self.token and self.token.kind == "page" and self.token.page_id == page.id)

    # -------------------------------------------------------------------------- auth
    def raw_token(self) -> str | None:
        tok = self.params.get("access_token")
        if tok:
            return str(tok)
        auth = self.request.headers.get("authorization", "")
        for prefix in ("Bearer ", "OAuth "):
            if auth.startswith(prefix):
                return auth[len(prefix):].strip()
        return None

    def authenticate(self) -> FbToken:
        """Resolve and validate the access token (190 family errors otherwise)."""
        tok = self.lookup_token(self.raw_token(), required=True)
        self.check_proof(tok.token)
        self.token = tok
        return tok

    def lookup_token(self, raw: str | None, *, required: bool) -> FbToken:
        """Find a token; raise the matching 104/190 error when missing, unknown, revoked or expired."""
        emu, status = self.emu, self.emu.cfg.fb_token_error_http_status
        if not raw:
            raise GraphError(104, "An access token is required to request this resource.", status=status)
        cfg = emu.cfg
        if "|" in raw:
            app_id, _, secret = raw.partition("|")
            if app_id == cfg.fb_app_id and secret == cfg.fb_app_secret:
                return FbToken(token=raw, kind="app", app_id=app_id, issued_at=0.0)
            raise GraphError(190, "Invalid OAuth access token signature.", status=status)
        tok = emu.world.fb_tokens.get(raw)
        if tok is None:
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token", status=status)
        if tok.revoked_subcode:
            raise GraphError(190, TOKEN_SUBCODE_MESSAGES.get(tok.revoked_subcode), subcode=tok.revoked_subcode,
                             status=status)
        if tok.expires_at is not None and tok.expires_at <= emu.clock.now():
            raise GraphError(190, "Error validating access token: Session has expired.", subcode=463, status=status)
        return tok

    def check_proof(self, raw: str) -> None:
        """Optional appsecret_proof = hex HMAC-SHA256(app secret, token)."""
        proof = self.params.get("appsecret_proof")
        cfg = self.emu.cfg
        if proof is None:
            if cfg.fb_require_appsecret_proof and "|" not in raw:
                raise GraphError(100, "API calls from the server require an appsecret_proof argument",
                                 err_type="GraphMethodException")
            return
        want = hmac.new(cfg.fb_app_secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(proof), want):
            raise GraphError(100, "Invalid appsecret_proof provided in the API argument",
                             err_type="GraphMethodException")

    def require_scope(self, scope: str | None) -> None:
        """Permission check: code 200 (or 10, configurable) when the token lacks ``scope``."""
        tok = self.token
        if scope and tok and tok.kind != "app" and scope not in tok.scopes:
            code = self.emu.cfg.fb_permission_error_code
            raise GraphError(code, f"(#{code}) Requires {scope} permission to manage the object")

    def require_page_token(self, page: Page, what: str = "publish") -> None:
        """Page writes need that Page's own token; a user token gets the 'as the page itself' error."""
        tok = self.token
        if tok and tok.kind == "page" and tok.page_id == page.id:
            return
        code = self.emu.cfg.fb_permission_error_code
        if tok and tok.kind == "user" and what == "unpublished":
            raise GraphError(code, f"(#{code}) Unpublished posts must be posted to a page as the page itself.")
        raise GraphError(code, f"(#{code}) If posting to a page, requires both pages_read_engagement and "
                         "pages_manage_posts as an admin with sufficient administrative permission")
