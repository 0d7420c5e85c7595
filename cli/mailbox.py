"""A local SMTP server for `make run`: alert emails land in var/mail as .eml files (aiosmtpd)."""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook name
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns() % 10**9}.eml"
        path.write_bytes(envelope.content)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        print(f"Thư mới → {', '.join(envelope.rcpt_tos)}: {msg['subject']}  ({path})", flush=True)
        return "250 OK"


def serve(*, port: int, folder: str) -> None:
    """Run until interrupted."""
    controller = Controller(_SaveToFolder(Path(folder)), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"Hộp thư cục bộ: smtp://127.0.0.1:{port}, thư lưu tại {folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
