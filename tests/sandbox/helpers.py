"""Helpers for sandbox tests: image bytes and a tiny webhook receiver."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image


def png_bytes(size=(4, 4), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


class Receiver:
    """Tiny webhook receiver: records raw bodies and headers, answers statuses from a script."""

    def __init__(self, verify_token: str = "vt-123") -> None:
        self.verify_token = verify_token
        self.requests: list[dict] = []
        self.statuses: list[int] = []  # consumed one per POST; 200 when empty
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                q = parse_qs(urlsplit(self.path).query)
                ok = q.get("hub.mode") == ["subscribe"] and q.get("hub.verify_token") == [outer.verify_token]
                body = (q.get("hub.challenge", [""])[0] if ok else "forbidden").encode()
                self.send_response(200 if ok else 403)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.cond:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.requests.append({"raw": raw, "headers": dict(self.headers), "status": status,
                                           "json": json.loads(raw)})
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[dict]:
        """Block until at least n POSTs arrived."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.requests) >= n, timeout)
            return list(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
