"""Notices to a webhook: a JSON POST with an Idempotency-Key, retried while the failure is transient.

    >>> post(hook, {"subject": "件名"}, token=token, idempotency_key="2f1c…")   # attempts used
    2

Retried: connection errors and timeouts, 408, 429 (a numeric Retry-After is honoured) and 5xx,
after `backoff_seconds * 2**i`. Not retried: any other status. A failure raises `WebhookError`,
whose message names the address without its query string or credentials, and never the token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from jukinet.config.models import Webhook

MAX_RETRY_AFTER_SECONDS = 60.0
_RETRYABLE_4XX = frozenset({408, 429})


class WebhookError(Exception):
    """Not delivered; `retryable` says whether sending again later may succeed."""

    def __init__(
        self, message: str, *, retryable: bool = False, attempts: int = 0, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.attempts = attempts
        self.status = status


def post(
    hook: Webhook,
    payload: dict[str, Any],
    *,
    token: str | None,
    idempotency_key: str,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Deliver `payload` and return the number of attempts it took (1 when the first succeeded)."""
    where = safe_url(hook.url)
    if not _header_safe(idempotency_key):
        raise ValueError("Idempotency-Key には改行や空白を含まない ASCII 文字列を指定してください")
    if token is not None and not _header_safe(token):
        raise WebhookError(
            f"Webhook {where} のトークンに使用できない文字（改行、空白、ASCII 以外の文字）が"
            "含まれているため、送付しませんでした",
            retryable=False,
            attempts=0,
        )
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": idempotency_key,
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = json.dumps(payload, ensure_ascii=False).encode("utf-8")

    with httpx.Client(timeout=hook.timeout_seconds, follow_redirects=False) as client:
        for attempt in range(1, hook.attempts + 1):
            last = attempt == hook.attempts
            delay = hook.backoff_seconds * 2 ** (attempt - 1)
            try:
                response = client.post(hook.url, content=content, headers=headers)
            except httpx.TransportError as exc:
                if last:
                    detail = _scrub(f"{type(exc).__name__}: {exc}", hook.url, where, token)
                    raise WebhookError(
                        f"Webhook {where} に送付できませんでした"
                        f"（{attempt}回試行、最後のエラー: {detail}）",
                        retryable=True,
                        attempts=attempt,
                    ) from exc
            else:
                status = response.status_code
                if response.is_success:
                    return attempt
                retryable = status >= 500 or status in _RETRYABLE_4XX
                if last or not retryable:
                    answer = _scrub(
                        f"HTTP {status} {response.reason_phrase}".strip(), hook.url, where, token
                    )
                    raise WebhookError(
                        f"Webhook {where} に送付できませんでした"
                        f"（{attempt}回試行、最後の応答: {answer}）",
                        retryable=retryable,
                        attempts=attempt,
                        status=status,
                    )
                asked = _retry_after(response)
                if asked is not None:
                    delay = asked
            sleep(delay)
    raise AssertionError("unreachable: a Webhook has at least one attempt")


def safe_url(url: str) -> str:
    """The address without credentials, query string or fragment: `https://hooks.example/in`."""
    u = httpx.URL(url)
    return str(u.copy_with(username=None, password=None, query=None, fragment=None))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None  # absent, or an HTTP date: the backoff applies
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def _header_safe(value: str) -> bool:
    return bool(value) and value.isascii() and value.isprintable() and " " not in value


def _scrub(text: str, url: str, where: str, token: str | None) -> str:
    text = text.replace(url, where)
    return text.replace(token, "***") if token else text
