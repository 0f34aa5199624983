"""Webhook delivery against a real local HTTP server whose answers are scripted per request."""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from jukinet.config.models import Webhook
from jukinet.mailbox import free_port
from jukinet.notices.webhook import WebhookError, post, safe_url

TOKEN = "tok-9f8e7d6c5b4a"
KEY = "notice-3b1f2a"
PAYLOAD: dict[str, Any] = {
    "subject": "住基ネット障害の発生について",
    "addressee": "架空商事 髙橋 﨑子 様",
    "document_number": "多住第1号",
    "drill": False,
}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: bool = False  # answer only when the test ends: longer than any client timeout


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out has gone when a stalled answer is written


class ScriptedServer:
    """Answers the n-th request with `script[n]` (the last entry repeats) and records each one."""

    def __init__(self, *script: Reply) -> None:
        self.script = list(script) or [Reply()]
        self.seen: list[Seen] = []
        self.accepted: list[Any] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/notices"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server._lock:
                    n = len(server.seen)
                    server.seen.append(Seen(self.path, dict(self.headers.items()), body))
                    reply = server.script[min(n, len(server.script) - 1)]
                if reply.stall:
                    server.release.wait(30)
                if 200 <= reply.status < 300:
                    with server._lock:
                        server.accepted.append(json.loads(body.decode("utf-8")))
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


@pytest.fixture
def sleeps() -> list[float]:
    return []


def hook(url: str, **overrides: Any) -> Webhook:
    settings: dict[str, Any] = {"url": url, "timeout_seconds": 5, "attempts": 4}
    settings.update(overrides)
    return Webhook(**settings)


def send(server_url: str, sleeps: list[float], **overrides: Any) -> int:
    return post(
        hook(server_url, **overrides),
        PAYLOAD,
        token=TOKEN,
        idempotency_key=KEY,
        sleep=sleeps.append,
    )


@pytest.fixture
def scripted(request: pytest.FixtureRequest) -> Iterator[ScriptedServer]:
    with ScriptedServer(*request.param) as server:
        yield server


def script(*replies: Reply) -> Any:
    return pytest.mark.parametrize("scripted", [replies], indirect=True)


class TestDelivered:
    @script(Reply(503), Reply(503), Reply(200))
    def test_after_two_unavailable(self, scripted: ScriptedServer, sleeps: list[float]) -> None:
        assert send(scripted.url, sleeps) == 3
        assert len(scripted.seen) == 3
        assert scripted.accepted == [PAYLOAD]
        assert sleeps == [1, 2]  # backoff_seconds * 2**i

    @script(Reply(204))
    def test_request_as_sent(self, scripted: ScriptedServer, sleeps: list[float]) -> None:
        assert send(scripted.url, sleeps) == 1
        (seen,) = scripted.seen
        assert seen.path == "/hooks/notices"
        assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
        assert seen.headers["Idempotency-Key"] == KEY
        assert seen.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "髙橋 﨑子".encode() in seen.body  # UTF-8, not \\u escapes
        assert json.loads(seen.body.decode("utf-8")) == PAYLOAD
        assert sleeps == []

    @script(Reply(200))
    def test_without_a_token_no_authorization(
        self, scripted: ScriptedServer, sleeps: list[float]
    ) -> None:
        post(hook(scripted.url), PAYLOAD, token=None, idempotency_key=KEY, sleep=sleeps.append)
        assert "Authorization" not in scripted.seen[0].headers

    @script(Reply(500), Reply(200))
    def test_every_attempt_carries_the_same_key(
        self, scripted: ScriptedServer, sleeps: list[float]
    ) -> None:
        send(scripted.url, sleeps)
        assert [s.headers["Idempotency-Key"] for s in scripted.seen] == [KEY, KEY]
        assert scripted.seen[0].body == scripted.seen[1].body


class TestRetried:
    @pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
    def test_transient_status(self, status: int, sleeps: list[float]) -> None:
        with ScriptedServer(Reply(status), Reply(200)) as server:
            assert send(server.url, sleeps) == 2
        assert len(server.accepted) == 1

    @script(Reply(429, {"Retry-After": "1"}), Reply(200))
    def test_retry_after_is_honoured(self, scripted: ScriptedServer, sleeps: list[float]) -> None:
        assert send(scripted.url, sleeps, backoff_seconds=5) == 2
        assert sleeps == [1]

    @script(Reply(503, {"Retry-After": "86400"}), Reply(200))
    def test_retry_after_is_capped(self, scripted: ScriptedServer, sleeps: list[float]) -> None:
        send(scripted.url, sleeps)
        assert sleeps == [60]

    @script(Reply(429, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}), Reply(200))
    def test_retry_after_date_uses_the_backoff(
        self, scripted: ScriptedServer, sleeps: list[float]
    ) -> None:
        send(scripted.url, sleeps, backoff_seconds=3)
        assert sleeps == [3]

    @script(Reply(stall=True), Reply(200))
    def test_timeout(self, scripted: ScriptedServer, sleeps: list[float]) -> None:
        assert send(scripted.url, sleeps, timeout_seconds=0.2) == 2
        assert len(scripted.seen) == 2
        assert scripted.accepted == [PAYLOAD]


class TestFailed:
    @script(Reply(400))
    def test_client_error_is_not_retried(
        self, scripted: ScriptedServer, sleeps: list[float]
    ) -> None:
        with pytest.raises(WebhookError) as info:
            send(scripted.url, sleeps)
        assert len(scripted.seen) == 1
        assert sleeps == []
        error = info.value
        assert (error.retryable, error.attempts, error.status) == (False, 1, 400)
        assert str(error) == (
            f"Webhook {scripted.url} に送付できませんでした（1回試行、最後の応答: HTTP 400 Bad Request）"
        )

    @pytest.mark.parametrize("status", [301, 401, 403, 404, 409, 422])
    def test_other_statuses_are_not_retried(self, status: int, sleeps: list[float]) -> None:
        with ScriptedServer(Reply(status)) as server:
            with pytest.raises(WebhookError) as info:
                send(server.url, sleeps)
            assert len(server.seen) == 1
        assert (info.value.retryable, info.value.status) == (False, status)

    @script(Reply(500))
    def test_always_failing(self, scripted: ScriptedServer, sleeps: list[float]) -> None:
        with pytest.raises(WebhookError) as info:
            send(scripted.url, sleeps, attempts=3)
        assert len(scripted.seen) == 3
        assert scripted.accepted == []
        assert sleeps == [1, 2]  # none after the last attempt
        error = info.value
        assert (error.retryable, error.attempts, error.status) == (True, 3, 500)
        assert "3回試行、最後の応答: HTTP 500 Internal Server Error" in str(error)

    def test_connection_refused(self, sleeps: list[float]) -> None:
        url = f"http://127.0.0.1:{free_port()}/hooks/notices"  # nothing listens there
        with pytest.raises(WebhookError) as info:
            send(url, sleeps, attempts=3, backoff_seconds=0.5)
        error = info.value
        assert (error.retryable, error.attempts, error.status) == (True, 3, None)
        assert sleeps == [0.5, 1]
        assert str(error).startswith(
            f"Webhook {url} に送付できませんでした（3回試行、最後のエラー: "
        )
        assert "ConnectError" in str(error)

    @script(Reply(stall=True))
    def test_always_stalling(self, scripted: ScriptedServer, sleeps: list[float]) -> None:
        with pytest.raises(WebhookError) as info:
            send(scripted.url, sleeps, attempts=2, timeout_seconds=0.2)
        assert len(scripted.seen) == 2
        assert (info.value.retryable, info.value.attempts) == (True, 2)
        assert "ReadTimeout" in str(info.value)


class TestSecrecy:
    @script(Reply(401))
    def test_token_is_sent_but_never_in_the_message(
        self, scripted: ScriptedServer, sleeps: list[float]
    ) -> None:
        with pytest.raises(WebhookError) as info:
            send(scripted.url, sleeps)
        assert scripted.seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in str(info.value)
        assert TOKEN not in repr(info.value)

    def test_token_never_in_a_transport_error(self, sleeps: list[float]) -> None:
        with pytest.raises(WebhookError) as info:
            send(f"http://127.0.0.1:{free_port()}/in?token={TOKEN}", sleeps, attempts=1)
        assert TOKEN not in str(info.value)

    @script(Reply(404))
    def test_address_without_query_or_credentials(
        self, scripted: ScriptedServer, sleeps: list[float]
    ) -> None:
        url = scripted.url.replace("http://", "http://user:pa55word@") + "?key=q-s3cret#frag"
        # the configuration refuses credentials in the address; post() still never shows them
        unchecked = Webhook.model_construct(url=url, timeout_seconds=5, attempts=4)
        with pytest.raises(WebhookError) as info:
            post(unchecked, PAYLOAD, token=None, idempotency_key=KEY, sleep=sleeps.append)
        message = str(info.value)
        assert f"Webhook {scripted.url} に" in message
        assert "pa55word" not in message and "user" not in message
        assert "q-s3cret" not in message and "frag" not in message
        assert safe_url(url) == scripted.url

    @pytest.mark.parametrize("token", ["tok\r\nX-Evil: 1", "tok en", "秘密の鍵", ""])
    def test_unusable_token_is_refused_unsent(self, token: str, sleeps: list[float]) -> None:
        with ScriptedServer() as server:
            with pytest.raises(WebhookError) as info:
                post(
                    hook(server.url), PAYLOAD, token=token, idempotency_key=KEY, sleep=sleeps.append
                )
            assert server.seen == []
        assert (info.value.retryable, info.value.attempts) == (False, 0)
        assert "トークンに使用できない文字" in str(info.value)
        if token:
            assert token not in str(info.value)

    def test_idempotency_key_must_be_a_header_value(self) -> None:
        with pytest.raises(ValueError, match="Idempotency-Key"):
            post(hook("http://127.0.0.1:9/"), PAYLOAD, token=None, idempotency_key="a\nb")

    def test_error_survives_pickling(self) -> None:
        error = WebhookError("送付できませんでした", retryable=True, attempts=3, status=503)
        again = pickle.loads(pickle.dumps(error))
        assert (str(again), again.retryable, again.attempts, again.status) == (
            "送付できませんでした",
            True,
            3,
            503,
        )
