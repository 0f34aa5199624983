"""Secrets named in the configuration, read when a run starts: a Prefect Secret block or an
environment variable, never a file in the repository.

    >>> resolve(SecretRef(env="JUKINET_SMTP_PASSWORD"), "town.yaml の smtp.password")
"""

from __future__ import annotations

import os

from jukinet.config.models import SecretRef


class SecretError(Exception):
    """A secret the configuration names cannot be read; the message names the field."""


def resolve(ref: SecretRef, field: str) -> str:
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if not value:
            raise SecretError(f"{field}: {ref} が設定されていません（値が空か、未設定です）")
        return value
    assert ref.block is not None
    from prefect.blocks.system import Secret

    try:
        secret: Secret = Secret.load(ref.block)  # type: ignore[assignment]  # sync in a sync caller
    except ValueError as exc:
        raise SecretError(f"{field}: {ref} が見つかりません（{exc}）") from exc
    value = secret.get()
    if not isinstance(value, str) or not value:
        raise SecretError(f"{field}: {ref} の値が文字列ではないか、空です")
    return value
