"""E-mail over real local SMTP servers: STARTTLS with a verified certificate and a login, the
ISO-2022-JP charset and its UTF-8 fallback, refused header injection, the password from the
environment."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import smtplib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from jukinet.config.models import Charset, SecretRef, Smtp
from jukinet.mailbox import Mailbox, free_port
from jukinet.notices.secrets import SecretError, resolve
from jukinet.notices.smtp import Built, build_message, send

USERNAME = "juki-sender"
PASSWORD = "s3cret-#12345"
PASSWORD_ENV = "JUKINET_TEST_SMTP_PASSWORD"
FROM = "juki@town.taga.example"
TO = ("soumu@town.taga.example",)


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(directory: Path, *names: str) -> Certificate:
    """A self-signed certificate for `names` (host names or IP addresses), its own CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alternative: list[x509.GeneralName] = []
    for n in names:
        try:
            alternative.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alternative.append(x509.DNSName(n))
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(directory / "cert.pem", directory / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"), "localhost", "127.0.0.1")


@dataclass
class Received:
    raw: bytes
    tls: bool
    login: bytes | None

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(
            self.raw.replace(b"\r\n", b"\n"), policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Recorder:
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(
                Received(envelope.original_content, session.ssl is not None, session.auth_data)
            )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        ok = auth_data.login == USERNAME.encode() and auth_data.password == PASSWORD.encode()
        with self.lock:
            self.logins.append((auth_data.login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class TlsServer:
    """SMTP on 127.0.0.1 that offers STARTTLS and requires it, and a login, before mail."""

    def __init__(self, certificate: Certificate) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate.cert, certificate.key)
        self.certificate = certificate
        self.recorder = _Recorder()
        self.port = free_port()
        self._controller = Controller(
            self.recorder,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="localhost",
            tls_context=context,
            require_starttls=True,
            authenticator=self.recorder.authenticate,
            auth_required=True,
            auth_require_tls=True,
        )

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._controller.stop()


@pytest.fixture
def server(certificate: Certificate) -> Iterator[TlsServer]:
    with TlsServer(certificate) as s:
        yield s


def starttls(port: int, certificate: Certificate | None, **overrides: Any) -> Smtp:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "from_address": FROM,
        "timeout_seconds": 5,
        "security": "starttls",
        "username": USERNAME,
        "password": SecretRef(env=PASSWORD_ENV),
        "ca_file": str(certificate.cert) if certificate else None,
    }
    settings.update(overrides)
    return Smtp(**settings)


def plain(port: int) -> Smtp:
    return Smtp(host="127.0.0.1", port=port, from_address=FROM, timeout_seconds=5)


def build(
    smtp: Smtp, subject: str, body: str, charset: Charset = Charset.UTF8, *, key: str = "k"
) -> Built:
    return build_message(smtp, key=key, to=TO, subject=subject, body=body, charset=charset)


def raw_headers(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


class TestStartTls:
    def test_delivered_encrypted_after_login(self, server: TlsServer) -> None:
        smtp = starttls(server.port, server.certificate)
        built = build(smtp, "住基ネット障害の発生について", "多賀町住民課です。\n髙橋様\n")
        send(smtp, built.message, password=PASSWORD)
        (got,) = server.received
        assert got.tls and got.login == USERNAME.encode()
        mail = got.message
        assert mail["Subject"] == "住基ネット障害の発生について"
        assert mail.get_content_charset() == "utf-8"
        assert mail.get_content() == "多賀町住民課です。\n髙橋様\n"
        assert server.recorder.logins == [(USERNAME.encode(), True)]

    def test_wrong_password_is_refused(self, server: TlsServer) -> None:
        smtp = starttls(server.port, server.certificate)
        with pytest.raises(smtplib.SMTPAuthenticationError) as info:
            send(smtp, build(smtp, "件名", "本文\n").message, password="wrong-password")
        assert "wrong-password" not in str(info.value)
        # smtplib tries each mechanism the server offers (PLAIN, then LOGIN)
        assert server.recorder.logins
        assert all(login == (USERNAME.encode(), False) for login in server.recorder.logins)
        assert server.received == []

    def test_untrusted_certificate_is_refused(self, server: TlsServer) -> None:
        smtp = starttls(server.port, None)  # the system's CAs do not know the test certificate
        with pytest.raises(ssl.SSLCertVerificationError):
            send(smtp, build(smtp, "件名", "本文\n").message, password=PASSWORD)
        assert server.recorder.logins == []
        assert server.received == []

    def test_certificate_for_another_host_is_refused(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        other = make_certificate(tmp_path_factory.mktemp("other"), "mail.other.example")
        with TlsServer(other) as elsewhere:
            smtp = starttls(elsewhere.port, other)  # trusted, but not issued for 127.0.0.1
            with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
                send(smtp, build(smtp, "件名", "本文\n").message, password=PASSWORD)
            assert elsewhere.recorder.logins == []
            assert elsewhere.received == []

    def test_server_without_starttls_is_never_used_in_clear(
        self, tmp_path: Path, certificate: Certificate
    ) -> None:
        with Mailbox(tmp_path) as clear:
            smtp = starttls(clear.port, certificate)
            with pytest.raises(smtplib.SMTPNotSupportedError) as info:
                send(smtp, build(smtp, "件名", "本文\n").message, password=PASSWORD)
            assert clear.count() == 0
        assert "STARTTLS に対応していない" in str(info.value)
        assert PASSWORD not in str(info.value)

    def test_login_without_a_password_is_not_attempted(self) -> None:
        smtp = starttls(free_port(), None)  # nothing listens: the check comes before connecting
        with pytest.raises(smtplib.SMTPException) as info:
            send(smtp, build(smtp, "件名", "本文\n").message, password=None)
        assert "パスワードが読み込まれていない" in str(info.value)

    def test_non_ascii_password_is_refused_before_connecting(self) -> None:
        smtp = starttls(free_port(), None)
        with pytest.raises(smtplib.SMTPException) as info:
            send(smtp, build(smtp, "件名", "本文\n").message, password="パスワード1")
        assert "ASCII 以外の文字" in str(info.value)
        assert "パスワード1" not in str(info.value)

    def test_plain_smtp_still_works(self, tmp_path: Path) -> None:
        with Mailbox(tmp_path) as box:
            smtp = plain(box.port)
            send(smtp, build(smtp, "件名", "本文\n").message)
            (mail,) = box.messages()
        assert mail["Subject"] == "件名"


class TestPasswordFromEnvironment:
    def test_resolved_and_used_to_log_in(
        self, server: TlsServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        smtp = starttls(server.port, server.certificate)
        assert smtp.password is not None
        password = resolve(smtp.password, "town.yaml の smtp.password")
        assert password == PASSWORD
        send(smtp, build(smtp, "件名", "本文\n").message, password=password)
        assert len(server.received) == 1

    @pytest.mark.parametrize("value", [None, ""])
    def test_missing_names_the_field(
        self, value: str | None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if value is None:
            monkeypatch.delenv(PASSWORD_ENV, raising=False)
        else:
            monkeypatch.setenv(PASSWORD_ENV, value)
        with pytest.raises(SecretError) as info:
            resolve(SecretRef(env=PASSWORD_ENV), "town.yaml の smtp.password")
        assert str(info.value) == (
            f"town.yaml の smtp.password: 環境変数 {PASSWORD_ENV} が設定されていません"
            "（値が空か、未設定です）"
        )


class TestIso2022Jp:
    def test_text_that_fits_is_sent_as_iso_2022_jp(self, tmp_path: Path) -> None:
        subject = "住基ネット障害の発生について（緊急）【訓練】"
        body = "多賀町住民課です。\n受付時間 8:30〜17:15（−・‖ を含む）\nCS サーバ #2 停止\n"
        with Mailbox(tmp_path) as box:
            smtp = plain(box.port)
            built = build(smtp, subject, body, Charset.ISO2022JP)
            assert (built.charset, built.fallback) == (Charset.ISO2022JP, None)
            send(smtp, built.message)
            (raw,) = [p.read_bytes() for p in box.paths()]
            (mail,) = box.messages()
        assert raw.isascii()
        headers = raw_headers(raw)
        assert b"Subject: =?iso-2022-jp?b?" in headers
        assert b"=?utf-8?" not in headers.lower()
        assert b'Content-Type: text/plain; charset="iso-2022-jp"' in headers
        assert b"Content-Transfer-Encoding: 7bit" in headers
        assert b"\x1b$B" in raw  # JIS X 0208 in the body itself
        assert mail["Subject"] == subject
        assert mail.get_content_charset() == "iso-2022-jp"
        assert mail.get_content() == body

    def test_long_subject_folds_into_several_encoded_words(self, tmp_path: Path) -> None:
        subject = "本人確認情報の提供状況の報告について（第3章 手順2④の関係機関への照会）" * 2
        subject = subject.replace("④", "4")
        with Mailbox(tmp_path) as box:
            smtp = plain(box.port)
            send(smtp, build(smtp, subject, "本文\n", Charset.ISO2022JP).message)
            (raw,) = [p.read_bytes() for p in box.paths()]
            (mail,) = box.messages()
        lines = raw_headers(raw).split(b"\r\n")
        assert all(len(line) <= 78 for line in lines)
        assert sum(b"=?iso-2022-jp?b?" in line for line in lines) > 1
        assert mail["Subject"] == subject

    def test_a_name_with_taka_falls_back_to_utf_8(self, tmp_path: Path) -> None:
        body = "架空商事 髙橋 一郎 様\n\n多賀町住民課です。\n"
        with Mailbox(tmp_path) as box:
            smtp = plain(box.port)
            built = build(smtp, "住基ネット障害の発生について", body, Charset.ISO2022JP)
            send(smtp, built.message)
            (mail,) = box.messages()
        assert built.charset is Charset.UTF8
        assert built.fallback == "ISO-2022-JP で表せない文字（髙）があるため UTF-8 で送付"
        assert mail.get_content_charset() == "utf-8"
        assert mail["Subject"] == "住基ネット障害の発生について"
        assert mail.get_content() == body

    def test_fallback_names_each_character_once_in_order(self) -> None:
        built = build(plain(25), "﨑山様", "髙橋様、髙田様\n①について\n", Charset.ISO2022JP)
        assert built.fallback == "ISO-2022-JP で表せない文字（﨑、髙、①）があるため UTF-8 で送付"

    @pytest.mark.parametrize(
        "char",
        ["髙", "﨑", "①", "Ⅰ", "㈱", "㍻", "～", "－", "—", "∥", "￢", "ｱ", "𠮷", "\x1b"],
    )
    def test_characters_the_codec_refuses(self, char: str) -> None:
        built = build(plain(25), "件名", f"本文{char}\n", Charset.ISO2022JP)
        assert built.charset is Charset.UTF8
        assert built.fallback is not None

    @pytest.mark.parametrize("char", ["〜", "−", "‖", "―", "¥", "‾", "（", "【", "々"])
    def test_characters_the_codec_accepts(self, char: str) -> None:
        built = build(plain(25), "件名", f"本文{char}\n", Charset.ISO2022JP)
        assert (built.charset, built.fallback) == (Charset.ISO2022JP, None)

    def test_a_line_too_long_for_7bit_is_sent_as_base64(self, tmp_path: Path) -> None:
        body = "住民基本台帳ネットワーク" * 50 + "\n二行目\n"  # 600 characters: 1,200+ octets
        with Mailbox(tmp_path) as box:
            smtp = plain(box.port)
            built = build(smtp, "件名", body, Charset.ISO2022JP)
            send(smtp, built.message)
            (raw,) = [p.read_bytes() for p in box.paths()]
            (mail,) = box.messages()
        assert built.charset is Charset.ISO2022JP
        assert b"Content-Transfer-Encoding: base64" in raw_headers(raw)
        assert max(len(line) for line in raw.split(b"\r\n")) <= 78
        assert mail.get_content() == body

    def test_message_id_does_not_depend_on_the_charset(self) -> None:
        smtp = plain(25)
        utf8 = build(smtp, "件名", "本文\n", key="notice-1").message
        jis = build(smtp, "件名", "本文\n", Charset.ISO2022JP, key="notice-1").message
        assert utf8["Message-ID"] == jis["Message-ID"]
        assert utf8["X-Jukinet-Notice"] == jis["X-Jukinet-Notice"] == utf8["Message-ID"][1:33]


class TestHeaderInjection:
    @pytest.mark.parametrize("charset", list(Charset))
    @pytest.mark.parametrize(
        "subject",
        [
            "件名\r\nBcc: evil@attacker.example",
            "件名\nBcc: evil@attacker.example",
            "件名\rX-Evil: 1",
            "件名\u2028X-Evil: 1",
            "件名\x00",
        ],
    )
    def test_subject(self, subject: str, charset: Charset) -> None:
        with pytest.raises(ValueError, match="件名に改行または制御文字が含まれている"):
            build(plain(25), subject, "本文\n", charset)

    @pytest.mark.parametrize(
        "address",
        [
            "soumu@town.taga.example\r\nBcc: evil@attacker.example",
            "soumu@town.taga.example\nBcc: evil@attacker.example",
            "soumu@town.taga.example, evil@attacker.example",
            "soumu@town.taga.example,evil@attacker.example",
            "総務課 <soumu@town.taga.example>",
            "<soumu@town.taga.example>",
            "soumu@town.taga.example\t",
        ],
    )
    def test_address(self, address: str) -> None:
        with pytest.raises(ValueError, match="メールアドレス"):
            build_message(plain(25), key="k", to=(address,), subject="件名", body="本文\n")

    def test_no_recipient(self) -> None:
        with pytest.raises(ValueError, match="宛先のメールアドレスがありません"):
            build_message(plain(25), key="k", to=(), subject="件名", body="本文\n")

    def test_tab_and_internationalized_address_are_accepted(self, tmp_path: Path) -> None:
        with Mailbox(tmp_path) as box:  # the mailbox offers SMTPUTF8
            smtp = plain(box.port)
            built = build_message(
                smtp, key="k", to=("髙橋@town.taga.example",), subject="件名\tA", body="本文\n"
            )
            send(smtp, built.message)
            (raw,) = [p.read_bytes() for p in box.paths()]
        assert "To: 髙橋@town.taga.example\r\n".encode() in raw_headers(raw) + b"\r\n"
        assert built.message["Subject"] == "件名\tA"
