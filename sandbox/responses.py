"""Error bodies shared by the fake hosts and the fault injector (A10 for Graph, B3/B8 for Zalo)."""

from __future__ import annotations

import json
import random
import string

from starlette.responses import Response

_TRACE_CHARS = string.ascii_letters + string.digits
_trace_rng = random.Random(0)

# Graph answers 5xx for unknown/service errors and 4xx for everything the client got wrong.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80001})

FB_DEFAULT_MESSAGES = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    10: "(#10) Application does not have permission for this action",
    100: "(#100) Invalid parameter",
    190: "Error validating access token: The session has been invalidated.",
    200: "(#200) Permissions error",
    368: "It looks like you were misusing this feature by going too fast. You've been blocked from using it.",
    506: "(#506) Duplicate status message",
}
TOKEN_SUBCODE_MESSAGES = {
    458: "Error validating access token: The user has not authorized application.",
    459: "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired.",
    464: "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user.",
    467: "Error validating access token: The user is enrolled in a blocking, logged-in checkpoint or has logged out.",
    492: "Error validating access token: The user does not have a role on the Page.",
}


def fbtrace_id() -> str:
    """Random trace id like Graph's (only for display; not security relevant)."""
    return "A" + "".join(_trace_rng.choice(_TRACE_CHARS) for _ in range(22))


def fb_error_body(code: int, message: str | None = None, subcode: int | None = None,
                  user_title: str | None = None, user_msg: str | None = None,
                  err_type: str = "OAuthException") -> dict:
    """`{"error": {...}}` exactly as A10, always with fbtrace_id."""
    err: dict = {"message": message or FB_DEFAULT_MESSAGES.get(code, "An unknown error occurred"),
                 "type": err_type, "code": code}
    if subcode is not None:
        err["error_subcode"] = subcode
    err["is_transient"] = code in TRANSIENT_CODES
    if user_title:
        err["error_user_title"] = user_title
    if user_msg:
        err["error_user_msg"] = user_msg
    err["fbtrace_id"] = fbtrace_id()
    return {"error": err}


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """Compact JSON response (cheaper than Starlette's JSONResponse defaults)."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    headers=headers, media_type="application/json; charset=UTF-8")


def fb_error_response(code: int, status: int = 400, **kw) -> Response:
    """Graph error as an HTTP response."""
    return json_response(fb_error_body(code, **kw), status)


def zalo_error_body(code: int, message: str) -> dict:
    """Zalo failure envelope (HTTP 200, negative error, no data)."""
    return {"error": code, "message": message}


def raw_502_html() -> Response:
    """What a load balancer in front of the API answers when the backend is down."""
    return Response("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                    "</h1></center><hr><center>nginx</center></body></html>", 502, media_type="text/html")


def raw_503_empty() -> Response:
    """503 with an empty body."""
    return Response(b"", 503)


def raw_500_html() -> Response:
    """500 with an HTML body."""
    return Response("<html><body><h1>500 Internal Server Error</h1></body></html>", 500, media_type="text/html")


def raw_429(retry_after_s: int = 30) -> Response:
    """A gateway/CDN rate limit: HTTP 429 with Retry-After and a non-platform body."""
    return Response("Too Many Requests", 429, headers={"Retry-After": str(retry_after_s)},
                    media_type="text/plain")
