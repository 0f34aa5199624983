"""E-mail over SMTP, UTF-8, with a Message-ID derived from the notice key (receivers can dedupe)."""

from __future__ import annotations

import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from jukinet.config.models import Smtp


def build_message(
    smtp: Smtp, *, key: str, to: tuple[str, ...], subject: str, body: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = smtp.from_address
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    msg["Message-ID"] = f"<{digest}@{smtp.from_address.split('@', 1)[1]}>"
    msg["X-Jukinet-Notice"] = digest
    msg.set_content(body, charset="utf-8")
    return msg


def send(smtp: Smtp, message: EmailMessage) -> None:
    """Raises OSError or smtplib.SMTPException when the message was not accepted."""
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
        client.send_message(message)
