"""The local mailbox keeps every received message as an .eml file."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from jukinet.mailbox import Mailbox, free_port


def _message(subject: str, body: str, to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "juki@town.taga.example"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def test_stores_each_message_as_eml(tmp_path: Path) -> None:
    with Mailbox(tmp_path / "mailbox") as mb:
        assert mb.port > 0
        with smtplib.SMTP(mb.host, mb.port, timeout=10) as smtp:
            smtp.send_message(_message("Plain notice", "Hello.\n", "ops@example.org"))
            smtp.send_message(
                _message(
                    "【訓練】住基ネット障害の発生について（髙橋様・﨑山様）",
                    "多賀町住民課です。\n機器障害が発生しました。\n",
                    "総務課 <soumu@town.taga.example>, kikaku@pref.shiga.example",
                )
            )
        assert mb.count() == 2
        first, second = mb.messages()

    files = sorted((tmp_path / "mailbox").glob("*.eml"))
    assert len(files) == 2
    assert all(f.name.endswith(("-000001.eml", "-000002.eml")) for f in files)
    assert not list((tmp_path / "mailbox").glob("*.part"))

    assert first["Subject"] == "Plain notice"
    assert first["To"] == "ops@example.org"
    assert first.get_content() == "Hello.\n"

    assert second["Subject"] == "【訓練】住基ネット障害の発生について（髙橋様・﨑山様）"
    assert [a.addr_spec for a in second["To"].addresses] == [
        "soumu@town.taga.example",
        "kikaku@pref.shiga.example",
    ]
    assert second["To"].addresses[0].display_name == "総務課"
    assert second.get_content_charset() == "utf-8"
    assert second.get_content() == "多賀町住民課です。\n機器障害が発生しました。\n"


def test_stores_bytes_exactly_as_received(tmp_path: Path) -> None:
    raw = (
        b"From: a@example.org\r\nTo: b@example.org\r\nSubject: raw\r\n\r\n"
        b".leading dot\r\nline two\r\n"
    )
    with Mailbox(tmp_path) as mb, smtplib.SMTP(mb.host, mb.port, timeout=10) as smtp:
        smtp.sendmail("a@example.org", ["b@example.org"], raw)
    (path,) = tmp_path.glob("*.eml")
    assert path.read_bytes() == raw


def test_stop_releases_the_port(tmp_path: Path) -> None:
    mb = Mailbox(tmp_path)
    mb.start()
    port = mb.port
    mb.stop()
    with Mailbox(tmp_path, port=port) as again:
        assert again.port == port
        assert again.count() == 0


def test_command_line_runs_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jukinet.mailbox", "--dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                    smtp.send_message(_message("起動確認", "本文\n", "ops@example.org"))
                break
            except OSError:
                assert proc.poll() is None, "メールボックスが起動直後に終了しました"
                assert time.monotonic() < deadline, "メールボックスが起動しません"
                time.sleep(0.2)
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "メールボックスを停止しました" in out.decode("utf-8")
    assert Mailbox(tmp_path).messages()[0]["Subject"] == "起動確認"
