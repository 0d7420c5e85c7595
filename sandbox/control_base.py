"""Plumbing shared by the control API modules."""

from __future__ import annotations

import functools
import json

from starlette.requests import Request
from starlette.responses import Response

from sandbox.responses import json_response


class ControlError(Exception):
    """Bad control request → HTTP status with {"error": message}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def endpoint(fn):
    """Wrap a control handler: parse JSON body, map errors, serialise the result."""
    @functools.wraps(fn)
    async def wrapper(request: Request) -> Response:
        body: dict = {}
        if request.method in ("POST", "PUT", "DELETE"):
            raw = await request.body()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    return json_response({"error": "body must be JSON"}, 400)
                if not isinstance(body, dict):
                    return json_response({"error": "body must be a JSON object"}, 400)
        try:
            result = await fn(request.app.state.emu, body, request)
        except ControlError as e:
            return json_response({"error": str(e)}, e.status)
        except (ValueError, TypeError) as e:
            return json_response({"error": str(e)}, 400)
        return result if isinstance(result, Response) else json_response(result)
    return wrapper
