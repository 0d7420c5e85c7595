"""Sending email over SMTP (alerts now, the leadership digest later).

A thin wrapper over the standard library's smtplib and email packages: the caller builds an
``EmailMessage`` (plain-text part first, HTML alternative), this sends it. Failures are sorted
into the two cases a caller acts on differently: the server refused this recipient (no retry
will help: report it and move on) and everything else (retry later).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid


class MailError(Exception):
    """Sending failed for a reason that may pass (server down, timeout): retry later."""


class RecipientRefused(MailError):
    """The server refused the recipient's address: retrying will not help."""


@dataclass(frozen=True)
class Mailer:
    """SMTP settings; ``host`` empty means mail is disabled (send raises MailError)."""

    host: str
    port: int = 25
    sender: str = "loa@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, s) -> Mailer:  # noqa: ANN001
        """Build from ``common.settings.Settings``."""
        return cls(host=s.smtp_host, port=s.smtp_port, sender=s.smtp_from, user=s.smtp_user,
                   password=s.smtp_password.get_secret_value(), starttls=s.smtp_port == 587)

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def message(self, *, to: str, subject: str, text: str, html: str | None = None,
                to_name: str = "") -> EmailMessage:
        """A message with a plain-text part and, when given, an HTML alternative."""
        msg = EmailMessage()
        msg["From"] = formataddr(("Loa", self.sender))
        msg["To"] = formataddr((to_name, to)) if to_name else to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "loa.local")
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
        return msg

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raises RecipientRefused or MailError."""
        if not self.enabled:
            raise MailError("chưa cấu hình máy chủ thư (LOA_SMTP_HOST)")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise RecipientRefused(f"máy chủ thư từ chối địa chỉ nhận: {', '.join(exc.recipients)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"gửi thư thất bại: {type(exc).__name__}: {str(exc)[:300]}") from exc
