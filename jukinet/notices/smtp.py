"""E-mail over SMTP: `build_message` (UTF-8, or ISO-2022-JP where a receiver needs it) and `send`
(plain, or STARTTLS with a verified certificate and an optional login).

The Message-ID is derived from the notice key, so receivers can drop a duplicate.

    >>> built = build_message(smtp, key="k", to=("a@x.example",), subject="件名", body="本文\\n")
    >>> send(smtp, built.message, password=password)
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from jukinet.config.models import Charset, Smtp, is_email

# RFC 5322 §2.1.1: a line of a message is at most 998 octets.
MAX_LINE_OCTETS = 998
# ISO-2022-JP uses these to switch character sets; text holding them would not decode back.
_SHIFT_CHARACTERS = frozenset("\x0e\x0f\x1b")
_NAMED_AT_MOST = 10


@dataclass(frozen=True)
class Built:
    """A message ready to send, the charset it is written in, and why it is not the one asked for."""

    message: EmailMessage
    charset: Charset
    fallback: str | None = None


def build_message(
    smtp: Smtp,
    *,
    key: str,
    to: tuple[str, ...],
    subject: str,
    body: str,
    charset: Charset = Charset.UTF8,
) -> Built:
    """Raises ValueError when the subject or an address could add a header (CR, LF, ...)."""
    _check_subject(subject)
    if not to:
        raise ValueError("宛先のメールアドレスがありません")
    for address in (smtp.from_address, *to):
        _check_address(address)

    fallback = None
    if charset is Charset.ISO2022JP:
        refused = _outside_iso_2022_jp(subject + body)
        if refused:
            fallback = f"ISO-2022-JP で表せない文字（{refused}）があるため UTF-8 で送付"
            charset = Charset.UTF8

    msg = EmailMessage()
    msg["From"] = smtp.from_address
    msg["To"] = ", ".join(to)
    if charset is Charset.ISO2022JP and not subject.isascii():
        # The default policy would re-encode an encoded-word as UTF-8; a raw value is kept as is.
        msg.set_raw("Subject", Header(subject, "iso-2022-jp", header_name="Subject").encode())
    else:
        msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    msg["Message-ID"] = f"<{digest}@{smtp.from_address.split('@', 1)[1]}>"
    msg["X-Jukinet-Notice"] = digest
    if charset is Charset.ISO2022JP:
        lines = body.encode("iso-2022-jp").splitlines()
        fits = max((len(line) for line in lines), default=0) <= MAX_LINE_OCTETS
        msg.set_content(body, charset="iso-2022-jp", cte="7bit" if fits else "base64")
    else:
        msg.set_content(body, charset="utf-8")
    return Built(msg, charset, fallback)


def send(smtp: Smtp, message: EmailMessage, *, password: str | None = None) -> None:
    """Raises OSError or smtplib.SMTPException when the message was not accepted.

    With `security: starttls` nothing is sent before TLS is up with a verified certificate
    (smtplib.SMTPNotSupportedError when the server does not offer STARTTLS).
    """
    if smtp.username is not None:
        if not password:
            raise smtplib.SMTPException(
                f"SMTP ログイン名「{smtp.username}」のパスワードが読み込まれていないため、"
                "送付できません"
            )
        if not (smtp.username + password).isascii():
            # smtplib encodes AUTH as ASCII; it would fail with a UnicodeEncodeError mid-session.
            raise smtplib.SMTPException(
                f"SMTP ログイン名「{smtp.username}」またはそのパスワードに ASCII 以外の文字が"
                "含まれているため、ログインできません（英数字と記号で設定してください）"
            )
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
        if smtp.security == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                raise smtplib.SMTPNotSupportedError(
                    f"SMTP サーバ {smtp.host}:{smtp.port} が STARTTLS に対応していないため、"
                    "送付を中止しました（暗号化せずには送付しません）"
                )
            client.starttls(context=ssl.create_default_context(cafile=smtp.ca_file))
            client.ehlo()
        if smtp.username is not None and password:
            client.login(smtp.username, password)
        client.send_message(message)


def _check_subject(subject: str) -> None:
    if any(_breaks_header(c) for c in subject):
        raise ValueError("件名に改行または制御文字が含まれているため、メールを作成できません")


def _check_address(address: str) -> None:
    if any(_breaks_header(c) or c.isspace() for c in address):
        raise ValueError(
            f"メールアドレス「{address!r}」に改行、空白または制御文字が含まれているため、"
            "メールを作成できません"
        )
    # Non-ASCII letters (an internationalized address, sent with SMTPUTF8) stand in as `x`.
    shape = "".join(c if c.isascii() else "x" for c in address)
    try:
        parsed = Address(addr_spec=shape).addr_spec
    except (HeaderParseError, ValueError, IndexError):
        parsed = None
    if parsed != shape or not is_email(address):
        raise ValueError(
            f"メールアドレス「{address}」の形式が正しくありません"
            "（名前や複数のアドレスを含めず、taga@town.example の形式で指定してください）"
        )


def _breaks_header(c: str) -> bool:
    """CR, LF and every other control or line/paragraph separator (a tab is allowed)."""
    return c != "\t" and unicodedata.category(c) in ("Cc", "Zl", "Zp")


def _outside_iso_2022_jp(text: str) -> str:
    """The characters ISO-2022-JP cannot carry, in order of appearance: `髙、﨑`."""
    refused: list[str] = []
    for c in dict.fromkeys(text):
        try:
            c.encode("iso-2022-jp")
        except UnicodeEncodeError:
            refused.append(c)
        else:
            if c in _SHIFT_CHARACTERS:
                refused.append(c)
    shown = [c if c.isprintable() else f"U+{ord(c):04X}" for c in refused[:_NAMED_AT_MOST]]
    more = len(refused) - len(shown)
    return "、".join(shown) + (f" ほか{more}文字" if more else "")
