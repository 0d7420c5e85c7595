"""Encryption of channel credentials at rest (Fernet, with key rotation)."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from common.errors import ServiceError


class CredentialCipher:
    """Encrypts and decrypts small JSON documents with the first key; decrypts with any."""

    def __init__(self, keys: list[str]) -> None:
        keys = [k.strip() for k in keys if k and k.strip()]
        if not keys:
            raise ServiceError("Thiếu khoá mã hoá LOA_SECRET_KEYS: không thể lưu mã truy cập của kênh.")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except ValueError as exc:
            raise ServiceError("Khoá mã hoá LOA_SECRET_KEYS không hợp lệ (cần khoá Fernet base64 32 byte).") from exc

    @classmethod
    def from_setting(cls, value: str) -> "CredentialCipher":
        """Build a cipher from the comma separated ``LOA_SECRET_KEYS`` value."""
        return cls(value.split(","))

    def encrypt(self, data: dict) -> str:
        """Encrypt a JSON-able dict to a URL-safe token string."""
        return self._fernet.encrypt(json.dumps(data, ensure_ascii=False).encode()).decode()

    def decrypt(self, token: str) -> dict:
        """Decrypt a token made by ``encrypt``."""
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ServiceError("Không giải mã được thông tin đăng nhập của kênh (sai khoá mã hoá).") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the newest key."""
        return self._fernet.rotate(token.encode()).decode()


def generate_key() -> str:
    """Return a new random Fernet key."""
    return Fernet.generate_key().decode()
