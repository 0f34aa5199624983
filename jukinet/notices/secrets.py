"""Secrets named in the configuration, read when a run starts: a Prefect Secret block or an
environment variable, never a file in the repository.

    >>> resolve(SecretRef(env="JUKINET_SMTP_PASSWORD"), "town.yaml の smtp.password")
"""

from __future__ import annotations

import os

import httpx

from jukinet.config.loader import Config
from jukinet.config.models import Contact, SecretRef


class SecretError(Exception):
    """A secret the configuration names cannot be read; the message names the field, never a value."""


def resolve(ref: SecretRef, field: str) -> str:
    """The secret's text, exactly as stored; works from sync code and inside a running event loop."""
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if not value:
            raise SecretError(f"{field}: {_named(ref)}が設定されていません（値が空か、未設定です）")
        return value
    assert ref.block is not None
    return _from_block(ref, ref.block, field)


def _from_block(ref: SecretRef, name: str, field: str) -> str:
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        # `load` returns a coroutine when it sees an event loop or an async flow; `_sync`
        # makes it read with a synchronous client wherever resolve() is called from.
        loaded = Secret.load(name, _sync=True)  # type: ignore[call-arg]
    except ValueError as exc:
        if isinstance(exc.__cause__, ObjectNotFound):
            raise SecretError(
                f"{field}: {_named(ref)}が見つかりません（Prefect に登録されていません）"
            ) from None
        raise SecretError(
            f"{field}: {_named(ref)}を読み込めません（{type(exc).__name__}）"
        ) from None
    except (httpx.HTTPError, OSError) as exc:
        raise SecretError(
            f"{field}: {_named(ref)}を読み込めません（Prefect サーバに接続できません: "
            f"{type(exc).__name__}: {exc}）"
        ) from exc
    except Exception as exc:  # the text of an unexpected error might quote the stored value
        raise SecretError(
            f"{field}: {_named(ref)}を読み込めません（{type(exc).__name__}）"
        ) from None
    # Secret.get() would parse the text as JSON ("12345" -> 12345); the stored text is the secret.
    assert isinstance(loaded, Secret)
    value = loaded.value.get_secret_value()
    if not isinstance(value, str) or not value:
        raise SecretError(f"{field}: {_named(ref)}の値が文字列ではないか、空です")
    return value


def delivery_secrets(config: Config) -> tuple[str | None, dict[str, str]]:
    """The SMTP password and each webhook's token (by recipient id), read once when a run starts."""
    smtp = config.town.smtp
    password = (
        resolve(
            smtp.password,
            "town.yaml の「メール送信」(smtp) の「SMTP パスワードの参照先」(password)",
        )
        if smtp.password
        else None
    )
    places: list[tuple[str, str, list[Contact]]] = [
        (b.value, f"bodies の {b.value}", list(cs)) for b, cs in config.contacts.bodies.items()
    ]
    places.append(("receivers", "receivers", list(config.contacts.receivers)))
    tokens: dict[str, str] = {}
    for kind, where, contacts in places:
        for i, c in enumerate(contacts):
            if c.webhook is not None and c.webhook.token is not None:
                tokens[f"{kind}:{i}"] = resolve(
                    c.webhook.token,
                    f"contacts.yaml の {where} の {i + 1}件目（{c.organization}）の webhook の token",
                )
    return password, tokens


def _named(ref: SecretRef) -> str:
    """`環境変数 X ` or `Prefect Secret ブロック「x」` before a particle."""
    return f"{ref} " if ref.env is not None else str(ref)
