"""A local HTTP feed server for the RSS tests: fixtures, validators, redirects, huge and slow bodies."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
ETAG = '"tin-tuc-v1"'
LAST_MODIFIED = "Mon, 01 Jul 2024 02:00:00 GMT"
RSS = "application/rss+xml; charset=utf-8"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """Clients hanging up on purpose (capped bodies, loops) are expected here."""


class FeedServer:
    """Serves on 127.0.0.1 in a thread; ``requests`` records (path, headers) of every GET."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers)))
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                route = getattr(outer, "route_" + parts.path.strip("/").split("/")[0].replace("-", "_"), None)
                if route is None:
                    self.reply(404, b"not found", "text/plain")
                else:
                    route(self, parts.path, query)

            def reply(self, status, body=b"", ctype=RSS, headers=None):
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- routes (path's first segment, dashes as underscores) ------------------------------------

    def route_file(self, h, path, query):
        """/file/<name>?ct=<content type>: a fixture as is."""
        name = path.split("/", 2)[2]
        h.reply(200, (FIXTURES / name).read_bytes(), query.get("ct", RSS))

    def route_validated(self, h, path, query):
        """tin-tuc.xml with an ETag and Last-Modified; 304 when the client sends either back."""
        if h.headers.get("If-None-Match") == ETAG or h.headers.get("If-Modified-Since") == LAST_MODIFIED:
            h.reply(304, b"", None, {"ETag": ETAG})
            return
        h.reply(200, (FIXTURES / "tin-tuc.xml").read_bytes(), RSS, {"ETag": ETAG, "Last-Modified": LAST_MODIFIED})

    def route_redirect(self, h, path, query):
        """/redirect/<n>: n more redirects, then the feed."""
        n = int(path.rsplit("/", 1)[1])
        if n == 0:
            h.reply(200, (FIXTURES / "tin-tuc.xml").read_bytes())
        else:
            h.reply(302, b"", None, {"Location": f"/redirect/{n - 1}"})

    def route_loop(self, h, path, query):
        """/loop/a ⇄ /loop/b forever."""
        h.reply(301, b"", None, {"Location": "/loop/b" if path.endswith("/a") else "/loop/a"})

    def route_huge(self, h, path, query):
        """An endless feed without Content-Length (streamed until the client hangs up)."""
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.send_header("Connection", "close")
        h.end_headers()
        try:
            h.wfile.write('<?xml version="1.0"?><rss version="2.0"><channel><title>Lớn</title>'.encode())
            chunk = b"<item><title>" + "Tin rác lặp lại ".encode() * 400 + b"</title></item>"
            for _ in range(2000):
                h.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route_declared_huge(self, h, path, query):
        """Announces 50 MB in Content-Length: refused before reading."""
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.send_header("Content-Length", str(50_000_000))
        h.send_header("Connection", "close")
        h.end_headers()

    def route_gzip_bomb(self, h, path, query):
        """A small gzip body that inflates to 20 MB."""
        body = gzip.compress(b"<rss>" + b" " * 20_000_000, compresslevel=9)
        h.reply(200, body, RSS, {"Content-Encoding": "gzip"})

    def route_slow(self, h, path, query):
        """Drips one byte every 50 ms."""
        h.send_response(200)
        h.send_header("Content-Type", RSS)
        h.send_header("Connection", "close")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route_status(self, h, path, query):
        """/status/<code>: that status with a short body."""
        code = int(path.rsplit("/", 1)[1])
        h.reply(code, b"loi", "text/plain", {"Retry-After": "120"} if code == 429 else None)
