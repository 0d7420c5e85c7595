"""Error kinds → HTTP status codes, in one place; every error body carries a Vietnamese message."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from common import errors as e

logger = logging.getLogger(__name__)

STATUS = [
    (e.NotFound, 404), (e.PermissionDenied, 403), (e.InvalidInput, 422), (e.InvalidState, 409),
    (e.Conflict, 409), (e.Throttled, 429), (e.AuthExpired, 400), (e.Rejected, 400), (e.PlatformError, 502),
    (e.ServiceError, 400),
]
PUBLIC_DETAILS = {"post_id", "target_id", "status", "org_id"}
FIELD_MESSAGES = {
    "missing": "là bắt buộc",
    "string_too_long": "quá dài",
    "string_too_short": "quá ngắn",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "bool_parsing": "phải là true hoặc false",
    "datetime_parsing": "không đúng định dạng thời gian",
    "datetime_from_date_parsing": "không đúng định dạng thời gian",
    "enum": "không thuộc các giá trị cho phép",
    "literal_error": "không thuộc các giá trị cho phép",
    "list_type": "phải là một danh sách",
    "dict_type": "phải là một đối tượng",
    "json_invalid": "không phải JSON hợp lệ",
    "model_attributes_type": "phải là một đối tượng",
    "too_long": "có quá nhiều phần tử",
    "greater_than_equal": "quá nhỏ",
    "less_than_equal": "quá lớn",
    "string_type": "phải là chuỗi ký tự",
    "extra_forbidden": "không được phép",
}
HTTP_MESSAGES = {401: "Cần đăng nhập (thiếu hoặc sai mã truy cập API).", 404: "Không tìm thấy địa chỉ yêu cầu.",
                 405: "Phương thức không được hỗ trợ.", 413: "Dữ liệu gửi lên quá lớn."}


ERROR_DESCRIPTIONS = {
    400: "Yêu cầu không thực hiện được (nền tảng từ chối, mã truy cập hết hạn...)",
    401: "Thiếu hoặc sai mã truy cập API",
    403: "Không có quyền (hoặc chữ ký webhook không hợp lệ)",
    404: "Không tìm thấy (hoặc thuộc tổ chức khác)",
    409: "Trạng thái hiện tại không cho phép, hoặc dữ liệu bị trùng",
    413: "Dữ liệu gửi lên quá lớn",
    422: "Dữ liệu không hợp lệ",
    502: "Nền tảng (Facebook/Zalo) trả lỗi",
}


def error_responses(*codes: int, json_only: bool = False) -> dict:
    """OpenAPI ``responses=`` for these error statuses, all with the ErrorBody shape.

    ``json_only`` spells the JSON content out instead of naming the model: FastAPI would otherwise declare the
    errors of a plain-text route (the webhook handshake) as text/plain, while they are always JSON.
    """
    from web.schemas import ErrorBody

    if json_only:
        schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schema["properties"]["error"] = schema.pop("$defs")["ErrorDetail"]
        return {code: {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}
                for code in codes}
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


# What any bearer-token API route may answer besides success (see STATUS and the handlers below).
API_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


def body(code: str, message: str, **extra: object) -> dict:
    """The JSON shape of every error."""
    return {"error": {"code": code, "message": message, **extra}}


API_PREFIXES = ("/api/", "/api", "/webhooks/", "/healthz", "/docs", "/openapi.json", "/redoc", "/media/", "/static/")
PAGE_TITLES = {401: "Cần đăng nhập", 403: "Không có quyền", 404: "Không tìm thấy", 409: "Không thực hiện được",
               422: "Dữ liệu không hợp lệ", 429: "Thử lại sau"}
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def is_page(request: Request) -> bool:
    """Whether the request is for a server-rendered page (errors become HTML, not JSON)."""
    path = request.url.path
    return not path.startswith(API_PREFIXES) and "application/json" not in request.headers.get("accept", "")


def html_error(request: Request, status: int, message: str) -> Response:
    """An error page in Vietnamese (public text escaped by the template)."""
    from web.pages.kit import templates

    back = request.headers.get("referer") or "/"
    return templates.TemplateResponse(request, "error.html", {
        "viewer": None, "csrf_token": "", "flash": None, "path": request.url.path, "Role": None,
        "title": PAGE_TITLES.get(status, "Có lỗi"), "message": message,
        "back": back if back.startswith(str(request.base_url)) else "/"}, status_code=status)


def install_pages(app: FastAPI) -> None:
    """Handlers and headers for the server-rendered pages: sign-in redirects, CSRF refusals, security headers."""
    from web.pages.kit import CsrfFailed, LoginRequired, login_url

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if not is_page(request) or request.headers.get("x-csrf-token"):
            return JSONResponse(body("login_required", "Phiên đăng nhập đã hết hạn; hãy đăng nhập lại."),
                                status_code=401)
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        message = "Biểu mẫu đã hết hạn hoặc không đến từ Loa. Hãy tải lại trang rồi thử lại."
        if request.headers.get("x-csrf-token") is not None:
            return JSONResponse(body("csrf_failed", message), status_code=403)
        return html_error(request, 403, message)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if is_page(request) or request.url.path.startswith("/static/"):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Content-Security-Policy", CSP)
            if response.headers.get("content-type", "").startswith("text/html"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(e.ServiceError)
    async def service_error(request: Request, exc: e.ServiceError) -> Response:
        status = next(code for cls, code in STATUS if isinstance(exc, cls))
        if is_page(request):
            return html_error(request, status, exc.message_vi)
        # Only ids the caller may know travel back (never another organisation's channel id).
        extra = {k: v for k, v in exc.details.items() if k in PUBLIC_DETAILS and isinstance(v, (int, str, bool))}
        return JSONResponse(body(exc.code, exc.message_vi, **extra), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            fields.append({"field": loc, "message": f"Trường '{loc or 'dữ liệu'}' "
                                                    f"{FIELD_MESSAGES.get(err.get('type'), 'không hợp lệ')}."})
        message = "Dữ liệu không hợp lệ: " + " ".join(f["message"] for f in fields[:5])
        if is_page(request):
            return html_error(request, 422, message)
        return JSONResponse(body("invalid_input", message, fields=fields), status_code=422)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def data_error(request: Request, exc: Exception) -> Response:
        # Ids beyond the column range, NUL characters in text...: bad input, never a 500.
        logger.info("database refused input: %s", type(exc).__name__)
        message = "Dữ liệu không hợp lệ (số quá lớn hoặc có ký tự không được phép)."
        if is_page(request):
            return html_error(request, 422, message)
        return JSONResponse(body("invalid_input", message), status_code=422)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, _exc: IntegrityError) -> Response:
        # Two identical requests at the same moment: the database's unique keys decide.
        message = "Dữ liệu bị trùng lặp hoặc vừa được người khác thay đổi; hãy tải lại và thử lại."
        if is_page(request):
            return html_error(request, 409, message)
        return JSONResponse(body("conflict", message), status_code=409)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code not in HTTP_MESSAGES else \
            HTTP_MESSAGES.get(exc.status_code, "Yêu cầu không hợp lệ.")
        if is_page(request):
            page_messages = {404: "Không tìm thấy trang hoặc đối tượng này (hoặc bạn không có quyền xem).",
                             405: "Thao tác không được hỗ trợ ở địa chỉ này."}
            return html_error(request, exc.status_code, page_messages.get(exc.status_code, message))
        return JSONResponse(body("http_error", message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
