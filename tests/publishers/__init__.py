"""Helpers for the platform client tests: a scripted requests transport and misbehaving sockets."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


class FakeTransport(BaseAdapter):
    """A requests adapter answering from a script, so unit tests replay platform responses offline."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: list[dict] = []
        self.calls: list[requests.PreparedRequest] = []

    def add(self, method: str, path: str, *, status: int = 200, json_body: object = None, body: bytes | str = b"",
            headers: dict | None = None, exc: Exception | None = None, times: int = 1) -> FakeTransport:
        """Answer the next ``times`` calls of ``method`` to a URL path ending with ``path``."""
        content = json.dumps(json_body).encode() if json_body is not None else (
            body.encode() if isinstance(body, str) else body)
        self.routes.append({"method": method, "path": path, "status": status, "content": content,
                            "headers": headers or {}, "exc": exc, "left": times})
        return self

    def send(self, request, **kwargs):  # noqa: D102 - BaseAdapter API
        self.calls.append(request)
        path = urlsplit(request.url).path
        for route in self.routes:
            if route["left"] and route["method"] == request.method and path.endswith(route["path"]):
                route["left"] -= 1
                if route["exc"] is not None:
                    raise route["exc"]
                resp = requests.Response()
                resp.status_code = route["status"]
                resp._content = route["content"]
                resp.headers = CaseInsensitiveDict(route["headers"])
                resp.url, resp.request, resp.encoding = request.url, request, "utf-8"
                return resp
        raise AssertionError(f"unexpected call {request.method} {request.url}")

    def close(self) -> None:  # noqa: D102 - BaseAdapter API
        pass


def fake_session() -> tuple[requests.Session, FakeTransport]:
    """A session whose every request goes to a new FakeTransport."""
    session, transport = requests.Session(), FakeTransport()
    session.mount("http://", transport)
    session.mount("https://", transport)
    return session, transport


def query_of(request: requests.PreparedRequest) -> dict[str, str]:
    """The query string of a recorded request as a flat dict."""
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def json_of(request: requests.PreparedRequest) -> object:
    """The JSON body of a recorded request."""
    return json.loads(request.body)


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def misbehaving_server(mode: str) -> Iterator[str]:
    """A loopback server that reads each request, then hangs ("hang") or resets the connection ("reset")."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.05)  # lets the thread notice `stop`
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(2)
            conn.recv(65536)
            if mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()
        for conn in held:
            conn.close()
