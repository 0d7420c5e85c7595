"""Webhook sender for both platforms: A9 (Facebook) and B7 (Zalo) payloads and signatures.

Deliveries run as background asyncio tasks on a shared httpx.AsyncClient so the API call that
caused them answers immediately, like the real platforms.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time

import httpx

from sandbox.config import EmuConfig

MAX_LOG = 500


def fb_signature_headers(raw: bytes, app_secret: str, legacy_sha1: bool = True) -> dict[str, str]:
    """X-Hub-Signature-256 = sha256=HMAC-SHA256(app secret, raw body) (+ legacy sha1 header)."""
    headers = {"X-Hub-Signature-256": "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()}
    if legacy_sha1:
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(app_secret.encode(), raw, hashlib.sha1).hexdigest()
    return headers


def zalo_mac(raw: bytes, app_id: str, timestamp: str, secret: str, mode: str = "sdk") -> str:
    """Hex for X-ZEvent-Signature: plain SHA-256 of app_id + body + timestamp + secret (official SDK)."""
    if mode == "hmac_body":
        return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if mode == "oa_first":
        return hashlib.sha256(secret.encode() + raw + timestamp.encode() + app_id.encode()).hexdigest()
    return hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret.encode()).hexdigest()


def encode(payload: dict) -> bytes:
    """Raw body as sent: compact JSON, UTF-8, Vietnamese left unescaped so re-serialising breaks the MAC."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    """Holds the receiver configuration, sends deliveries and keeps a log of attempts."""

    def __init__(self, cfg: EmuConfig) -> None:
        self.cfg = cfg
        self.facebook: dict = {}
        self.zalo: dict = {}
        self.log: list[dict] = []
        self._tasks: set[asyncio.Task] = set()
        self._client: httpx.AsyncClient | None = None
        self._next_id = 1

    def reset(self) -> None:
        """Forget receivers and the delivery log (in-flight deliveries are cancelled)."""
        for t in list(self._tasks):
            t.cancel()
        self.facebook, self.zalo, self.log = {}, {}, []

    async def close(self) -> None:
        """Close the HTTP client (app shutdown)."""
        self.reset()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def client(self) -> httpx.AsyncClient:
        """Shared async HTTP client (created lazily on the running loop)."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.cfg.webhook_timeout_s, trust_env=False)
        return self._client

    def configured(self, platform: str) -> bool:
        """True when a callback URL is set for the platform."""
        return bool((self.facebook if platform == "facebook" else self.zalo).get("callback_url"))

    async def handshake(self, verify_token: str | None = None) -> dict:
        """Facebook GET verification: hub.mode=subscribe, hub.verify_token, hub.challenge → echo."""
        fb = self.facebook
        challenge = secrets.token_hex(8)
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token or fb.get("verify_token", ""),
                  "hub.challenge": challenge}
        try:
            r = await self.client().get(fb["callback_url"], params=params)
        except httpx.HTTPError as exc:
            return {"ok": False, "error": repr(exc)}
        return {"ok": r.status_code == 200 and r.text == challenge, "status": r.status_code, "body": r.text[:200]}

    # -------------------------------------------------------------------------- sending
    def _sign(self, platform: str, raw: bytes, payload: dict, bad: bool) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if platform == "facebook":
            secret = self.facebook.get("app_secret") or ""
            if bad:
                secret = secret + "-wrong"
            headers.update(fb_signature_headers(raw, secret, self.cfg.fb_webhook_legacy_sha1))
        else:
            z = self.zalo
            use_app = self.cfg.zalo_signature_secret == "app_secret"
            secret = (z.get("app_secret") if use_app else z.get("oa_secret")) or ""
            app_id = str(payload.get("app_id") or z.get("app_id") or "")
            ts = str(payload.get("timestamp", ""))
            mac = zalo_mac(raw, app_id, ts, secret + ("-wrong" if bad else ""), self.cfg.zalo_signature_mode)
            headers["X-ZEvent-Signature"] = "mac=" + mac
        return headers

    def send(self, platform: str, payloads: list[dict], *, bad_signature: bool = False, duplicate: bool = False,
             out_of_order: bool = False, redeliver: bool | None = None) -> list[int]:
        """Queue deliveries (one POST per payload) and return their log ids; no-op when unconfigured."""
        if not self.configured(platform) or not payloads:
            return []
        order = list(reversed(payloads)) if out_of_order else list(payloads)
        redeliver = self.cfg.webhook_redeliver if redeliver is None else redeliver
        items = []
        for payload in order:
            raw = encode(payload)
            headers = self._sign(platform, raw, payload, bad_signature)
            copies = 2 if duplicate else 1
            for _ in range(copies):
                entry = {"id": self._next_id, "platform": platform, "payload": payload,
                         "bad_signature": bad_signature, "attempts": [], "delivered": False, "done": False}
                self._next_id += 1
                self.log.append(entry)
                items.append((entry, raw, headers))
        del self.log[:-MAX_LOG]
        url = (self.facebook if platform == "facebook" else self.zalo)["callback_url"]
        task = asyncio.get_running_loop().create_task(self._run(url, items, redeliver))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return [e["id"] for e, _, _ in items]

    async def _run(self, url: str, items: list, redeliver: bool) -> None:
        # First attempts go out one after another so "out of order" really arrives out of order;
        # retries run on their own so one failing receiver call does not hold the rest back.
        for entry, raw, headers in items:
            ok = await self._attempt(url, entry, raw, headers)
            if not ok and redeliver and self.cfg.webhook_retry_schedule_s:
                task = asyncio.get_running_loop().create_task(self._retry(url, entry, raw, headers))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                entry["done"] = True

    async def _retry(self, url: str, entry: dict, raw: bytes, headers: dict) -> None:
        for delay in self.cfg.webhook_retry_schedule_s:
            await asyncio.sleep(float(delay))
            if await self._attempt(url, entry, raw, headers):
                break
        entry["done"] = True

    async def _attempt(self, url: str, entry: dict, raw: bytes, headers: dict) -> bool:
        attempt = {"at": time.time(), "status": None, "error": None}
        entry["attempts"].append(attempt)
        try:
            r = await self.client().post(url, content=raw, headers=headers)
            attempt["status"] = r.status_code
        except (httpx.HTTPError, OSError) as exc:
            attempt["error"] = repr(exc)
            return False
        if r.status_code == 200:
            entry["delivered"] = True
            return True
        return False

    # -------------------------------------------------------------------------- payloads
    @staticmethod
    def fb_feed(page_id: str, values: list[dict], at: float) -> dict:
        """Page feed change payload (one entry, several changes)."""
        return {"object": "page", "entry": [{"id": page_id, "time": int(at),
                                             "changes": [{"field": "feed", "value": v} for v in values]}]}

    @staticmethod
    def fb_messaging(page_id: str, sender_id: str, text: str, mid: str, at: float) -> dict:
        """Messenger message payload (entry[].messaging[])."""
        ms = int(at * 1000)
        return {"object": "page", "entry": [{"id": page_id, "time": ms, "messaging": [
            {"sender": {"id": sender_id}, "recipient": {"id": page_id}, "timestamp": ms,
             "message": {"mid": mid, "text": text}}]}]}
