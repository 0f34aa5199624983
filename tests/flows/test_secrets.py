"""Secrets from Prefect Secret blocks: read from sync code, inside an event loop and inside flows,
exactly as stored; a missing block names the field."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prefect import flow
from prefect.blocks.system import Secret

from jukinet.config.models import SecretRef
from jukinet.notices.secrets import SecretError, resolve

FIELD = "town.yaml の smtp.password"


def saved(value: object) -> SecretRef:
    """A Secret block with a name of its own (the Prefect server is shared by the session)."""
    name = f"jukinet-test-{uuid.uuid4().hex[:12]}"
    Secret(value=value).save(name)
    return SecretRef(block=name)


@pytest.fixture
def ref(prefect_server: None) -> SecretRef:
    return saved("s3cret-#12345")


def test_from_sync_code(ref: SecretRef) -> None:
    assert resolve(ref, FIELD) == "s3cret-#12345"


def test_inside_a_running_event_loop(ref: SecretRef) -> None:
    # Secret.load would hand back a coroutine here; resolve() still reads synchronously.
    async def main() -> str:
        return resolve(ref, FIELD)

    assert asyncio.run(main()) == "s3cret-#12345"


def test_inside_a_sync_flow(ref: SecretRef) -> None:
    @flow
    def reads() -> str:
        return resolve(ref, FIELD)

    assert reads() == "s3cret-#12345"


def test_inside_an_async_flow(ref: SecretRef) -> None:
    @flow
    async def reads() -> str:
        return resolve(ref, FIELD)

    assert asyncio.run(reads()) == "s3cret-#12345"


@pytest.mark.parametrize("text", ["12345", "true", "null", '"quoted"', '{"a": 1}', " padded "])
def test_text_is_kept_exactly(prefect_server: None, text: str) -> None:
    # Secret.get() would parse these as JSON (12345, True, None, "quoted", a dict).
    assert resolve(saved(text), FIELD) == text


def test_missing_block_names_the_field(prefect_server: None) -> None:
    with pytest.raises(SecretError) as info:
        resolve(SecretRef(block="jukinet-no-such-secret"), FIELD)
    assert str(info.value) == (
        "town.yaml の smtp.password: Prefect Secret ブロック「jukinet-no-such-secret」"
        "が見つかりません（Prefect に登録されていません）"
    )


def test_a_value_that_is_not_text(prefect_server: None) -> None:
    ref = saved({"user": "juki", "password": "s3cret"})
    with pytest.raises(SecretError) as info:
        resolve(ref, FIELD)
    assert str(info.value) == f"{FIELD}: {ref}の値が文字列ではないか、空です"
    assert "s3cret" not in str(info.value)
