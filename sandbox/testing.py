"""`SandboxServer`: run the emulator on a free loopback port for tests and benchmarks.

    with SandboxServer() as sb:
        page = sb.add_page("Công đoàn thử nghiệm")
        requests.post(f"{sb.graph_url}/v25.0/{page['id']}/feed",
                      params={"access_token": page["page_token"]}, json={"message": "Xin chào"})
        assert sb.posts(page_id=page["id"])[0]["message"] == "Xin chào"

This is the only sandbox module the rest of Loa may import.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess as sp
import sys
import tempfile
import threading
import time

import requests


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (used for the subprocess mode)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SandboxError(RuntimeError):
    """A control-API call failed."""


class SandboxServer:
    """Context manager running the emulator in a background thread (default) or a subprocess."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, subprocess: bool = False, demo: bool = False,
                 seed: int | None = None, latency_ms: float = 0.0, jitter_ms: float = 0.0,
                 error_rate: float = 0.0, config: dict | None = None, startup_timeout: float = 20.0) -> None:
        self.host, self.port = host, port
        self.use_subprocess = subprocess
        self.demo, self.seed = demo, seed
        self.latency_ms, self.jitter_ms, self.error_rate = latency_ms, jitter_ms, error_rate
        self.config = config
        self.startup_timeout = startup_timeout
        self.app = None  # the Starlette app (thread mode only)
        self._server = None
        self._thread: threading.Thread | None = None
        self._proc: sp.Popen | None = None
        self._tmp: list[str] = []
        self._session = requests.Session()
        self._session.trust_env = False  # never route loopback calls through a proxy

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def graph_url(self) -> str:
        """Stand-in for https://graph.facebook.com."""
        return self.url + "/graph"

    @property
    def zalo_openapi_url(self) -> str:
        """Stand-in for https://openapi.zalo.me."""
        return self.url + "/zalo/openapi"

    @property
    def zalo_oauth_url(self) -> str:
        """Stand-in for https://oauth.zaloapp.com."""
        return self.url + "/zalo/oauth"

    @property
    def emulator(self):
        """The in-process Emulator (thread mode only; read-only use from tests is safest)."""
        return self.app.state.emu if self.app is not None else None

    def start(self) -> "SandboxServer":
        """Start the server and wait until /healthz answers."""
        if self.use_subprocess:
            self._start_subprocess()
        else:
            self._start_thread()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise SandboxError(f"sandbox exited with code {self._proc.returncode}")
            try:
                if self._session.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise SandboxError(f"sandbox did not become healthy on {self.url}")

    def _start_thread(self) -> None:
        import uvicorn

        from sandbox.app import create_app
        self.app = create_app(self.config, seed=self.seed, demo=self.demo, latency_ms=self.latency_ms,
                              jitter_ms=self.jitter_ms, error_rate=self.error_rate)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        cfg = uvicorn.Config(self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(cfg)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()

    def _start_subprocess(self) -> None:
        self.port = self.port or free_port(self.host)
        cmd = [sys.executable, "-m", "sandbox", "--host", self.host, "--port", str(self.port),
               "--latency-ms", str(self.latency_ms), "--jitter-ms", str(self.jitter_ms),
               "--error-rate", str(self.error_rate)]
        if self.demo:
            cmd.append("--demo")
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        if self.config:
            fd, path = tempfile.mkstemp(suffix=".json", prefix="sandbox-config-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.config, fh)
            self._tmp.append(path)
            cmd += ["--config", path]
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._proc = sp.Popen(cmd, cwd=root, env=env, stdout=sp.DEVNULL)

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = self._thread = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except sp.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
            self._proc = None
        for path in self._tmp:
            try:
                os.unlink(path)
            except OSError:
                pass
        self._tmp = []
        self._session.close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ control API
    def control(self, method: str, path: str, json_body: dict | None = None, params: dict | None = None):
        """Call /__emu{path}; returns the JSON answer, raises SandboxError on HTTP >= 400."""
        r = self._session.request(method, f"{self.url}/__emu{path}", json=json_body, params=params, timeout=30)
        if r.status_code >= 400:
            raise SandboxError(f"{method} /__emu{path} → {r.status_code}: {r.text[:500]}")
        return r.json()

    def reset(self, seed: int | None = None, demo: bool | None = None) -> dict:
        """Back to the startup state (startup latency/error-rate rules are kept)."""
        body: dict = {}
        if seed is not None:
            body["seed"] = seed
        if demo is not None:
            body["demo"] = demo
        return self.control("POST", "/reset", body)

    def add_page(self, name: str = "Công đoàn thử nghiệm", *, page_id: str | None = None,
                 page_token: str | None = None, user_token: str | None = None, **extra) -> dict:
        """Create a Facebook Page → {id, page_id, name, page_token, access_token, user_id, user_token, ...}."""
        body = {"name": name, "page_id": page_id, "page_token": page_token, "user_token": user_token, **extra}
        return self.control("POST", "/pages", {k: v for k, v in body.items() if v is not None})

    def add_oa(self, name: str = "OA thử nghiệm", *, oa_id: str | None = None, app_id: str | None = None,
               secret: str | None = None, **extra) -> dict:
        """Create a Zalo OA → {oa_id, app_id, secret, oa_secret, access_token, refresh_token, expires_in}."""
        body = {"name": name, "oa_id": oa_id, "app_id": app_id, "secret": secret, **extra}
        return self.control("POST", "/oas", {k: v for k, v in body.items() if v is not None})

    def add_zalo_user(self, oa_id: str, display_name: str = "Người theo dõi", **extra) -> dict:
        """Add a follower/user to an OA (last_interaction_ago_s=… sets the interaction window)."""
        return self.control("POST", "/zalo/users", {"oa_id": oa_id, "display_name": display_name, **extra})

    def zalo_message(self, oa_id: str, user_id: str, text: str, **extra) -> dict:
        """A follower writes to the OA (fires user_send_text when a receiver is configured)."""
        return self.control("POST", "/zalo/messages", {"oa_id": oa_id, "user_id": user_id, "text": text, **extra})

    def faults(self, **rule) -> dict:
        """Add a fault rule (see sandbox.faults.FaultRule) or a special kind (policy_block, throttle, revoke_token)."""
        return self.control("POST", "/faults", rule)

    def clear_faults(self) -> dict:
        """Remove every fault rule, policy block and forced throttle."""
        return self.control("DELETE", "/faults")

    def advance_clock(self, seconds: float) -> dict:
        """Move the emulator clock forward."""
        return self.control("POST", "/clock", {"advance_s": seconds})

    def set_clock_offset(self, seconds: float) -> dict:
        """Set the emulator clock offset from wall time."""
        return self.control("POST", "/clock", {"set_offset_s": seconds})

    def posts(self, platform: str | None = None, page_id: str | None = None) -> list[dict]:
        """Every created post/article (oldest accepted first) with accepted_at wall times."""
        params = {k: v for k, v in (("platform", platform), ("page_id", page_id)) if v}
        return self.control("GET", "/posts", params=params)["data"]

    def add_comment(self, post_id: str, message: str, *, from_id: str = "200000000000999",
                    from_name: str = "Khách thử nghiệm", parent_id: str | None = None, **extra) -> dict:
        """A visitor comments on a post (fires a feed webhook when subscribed)."""
        body = {"post_id": post_id, "message": message, "from": {"id": from_id, "name": from_name}, **extra}
        if parent_id:
            body["parent_id"] = parent_id
        return self.control("POST", "/comments", body)

    def configure_webhooks(self, facebook: dict | None = None, zalo: dict | None = None, **extra) -> dict:
        """Set webhook receivers (Facebook handshake is performed at once)."""
        body = dict(extra)
        if facebook is not None:
            body["facebook"] = facebook
        if zalo is not None:
            body["zalo"] = zalo
        return self.control("POST", "/webhooks/config", body)

    def emit_webhooks(self, platform: str, events: list[dict], **switches) -> dict:
        """Arbitrary deliveries; switches: batch, bad_signature, duplicate, out_of_order, redeliver_until_200."""
        return self.control("POST", "/webhooks/emit", {"platform": platform, "events": events, **switches})

    def deliveries(self, platform: str | None = None) -> list[dict]:
        """Webhook delivery log with attempts and receiver status codes."""
        return self.control("GET", "/webhooks/deliveries", params={"platform": platform} if platform else None)["data"]

    def revoke_token(self, **spec) -> dict:
        """Facebook: token|page_id, subcode; Zalo: platform='zalo', access_token|oa_id, code."""
        return self.control("POST", "/tokens/revoke", spec)

    def set_config(self, **knobs) -> dict:
        """Change behaviour knobs (sandbox.config.EmuConfig)."""
        return self.control("POST", "/config", knobs)

    def stats(self) -> dict:
        """Call counters and object counts."""
        return self.control("GET", "/stats")
