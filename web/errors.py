"""Error kinds → HTTP status codes, in one place; every error body carries a Vietnamese message."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from common import errors as e

logger = logging.getLogger(__name__)

STATUS = [
    (e.NotFound, 404), (e.PermissionDenied, 403), (e.InvalidInput, 422), (e.InvalidState, 409),
    (e.Conflict, 409), (e.AuthExpired, 400), (e.Rejected, 400), (e.PlatformError, 502), (e.ServiceError, 400),
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


def body(code: str, message: str, **extra: object) -> dict:
    """The JSON shape of every error."""
    return {"error": {"code": code, "message": message, **extra}}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(e.ServiceError)
    async def service_error(_request: Request, exc: e.ServiceError) -> JSONResponse:
        status = next(code for cls, code in STATUS if isinstance(exc, cls))
        # Only ids the caller may know travel back (never another organisation's channel id).
        extra = {k: v for k, v in exc.details.items() if k in PUBLIC_DETAILS and isinstance(v, (int, str, bool))}
        return JSONResponse(body(exc.code, exc.message_vi, **extra), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            fields.append({"field": loc, "message": f"Trường '{loc or 'dữ liệu'}' "
                                                    f"{FIELD_MESSAGES.get(err.get('type'), 'không hợp lệ')}."})
        message = "Dữ liệu không hợp lệ: " + " ".join(f["message"] for f in fields[:5])
        return JSONResponse(body("invalid_input", message, fields=fields), status_code=422)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def data_error(_request: Request, exc: Exception) -> JSONResponse:
        # Ids beyond the column range, NUL characters in text...: bad input, never a 500.
        logger.info("database refused input: %s", type(exc).__name__)
        return JSONResponse(body("invalid_input", "Dữ liệu không hợp lệ (số quá lớn hoặc có ký tự không được phép)."),
                            status_code=422)

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, _exc: IntegrityError) -> JSONResponse:
        # Two identical requests at the same moment: the database's unique keys decide.
        return JSONResponse(body("conflict", "Dữ liệu bị trùng lặp hoặc vừa được người khác thay đổi; "
                                             "hãy tải lại và thử lại."), status_code=409)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code not in HTTP_MESSAGES else \
            HTTP_MESSAGES.get(exc.status_code, "Yêu cầu không hợp lệ.")
        return JSONResponse(body("http_error", message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
