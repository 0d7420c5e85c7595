"""Fixtures of the digest tests: a real local SMTP server (aiosmtpd) and a seeded week."""

from __future__ import annotations

import email
import socket
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from common.mail import Mailer
from db.session import session_scope
from tests.digest.seed import Seeded, seed_week


class Inbox:
    """Collects messages; addresses in ``refuse`` are rejected at RCPT time like a real server does."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """(inbox, mailer) with a live SMTP server on loopback."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, Mailer(host="127.0.0.1", port=port, sender="loa@congdoan.test", timeout=5)
    finally:
        controller.stop()


@pytest.fixture
def seeded(factory, world) -> Seeded:
    """The standard world with a known week of activity (tests/digest/seed.py)."""
    with session_scope(factory) as s:
        return seed_week(s, world)
