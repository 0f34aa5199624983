"""A local SMTP mailbox: every message received on 127.0.0.1 is kept as an `.eml` file.

    >>> with Mailbox(tmp_path) as mb:                # port=0 picks a free port
    ...     smtplib.SMTP("127.0.0.1", mb.port).send_message(msg)
    ...     mb.messages()[0]["Subject"]

    python -m jukinet.mailbox --dir var/mailbox --port 8025   # runs until Ctrl-C / SIGTERM

Files are named `<UTC timestamp>-<counter>.eml` and hold the message bytes exactly as received
(the SMTP envelope, e.g. Bcc recipients, is not part of them).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import signal
import socket
import sys
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller

DEFAULT_PORT = 8025


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class _Handler:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.store(envelope.original_content)
        return "250 OK"

    def store(self, raw: bytes) -> Path:
        with self._lock:
            number = next(self._counter)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"{stamp}-{number:06d}.eml"
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(raw)
        partial.replace(path)
        return path


class Mailbox:
    """An SMTP server on `host:port` that writes each message into `directory`."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = Path(directory)
        self.host = host
        self.port = port or free_port(host)
        self._controller: Controller | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        controller = Controller(
            _Handler(self.directory),
            hostname=self.host,
            port=self.port,
            server_hostname="localhost",
            enable_SMTPUTF8=True,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def paths(self) -> list[Path]:
        """The stored files, oldest first."""
        return sorted(self.directory.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        return [read_message(path) for path in self.paths()]

    def count(self) -> int:
        return len(self.paths())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def read_message(path: Path) -> EmailMessage:
    """Parse a stored file; CRLF line ends are read as LF, as the email package expects."""
    raw = path.read_bytes().replace(b"\r\n", b"\n")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jukinet.mailbox",
        description="受信したメールを .eml ファイルとして保存するローカルのメールボックス",
    )
    parser.add_argument("--dir", type=Path, required=True, help="保存先のフォルダ")
    parser.add_argument("--host", default="127.0.0.1", help="待ち受けるアドレス")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="待ち受けるポート")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    mailbox = Mailbox(args.dir, host=args.host, port=args.port)
    try:
        mailbox.start()
    except OSError as exc:
        print(
            f"メールボックスを {args.host}:{args.port} で起動できません: {exc}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    print(
        f"メールボックスを起動しました: smtp://{mailbox.host}:{mailbox.port} "
        f"（保存先: {mailbox.directory.resolve()}）",
        flush=True,
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        mailbox.stop()
    print("メールボックスを停止しました", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
