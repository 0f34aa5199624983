"""A session-scoped Prefect test server, the product's runtime pointed at temporary folders,
and a driver that answers paused steps through the API as the UI would."""

from __future__ import annotations

import contextvars
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterName,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.testing.utilities import prefect_test_harness

from flows.runtime import reset_runtime, runtime
from jukinet.mailbox import Mailbox
from jukinet.store.models import Absence, utcnow
from tests.conftest import CODES, copy_config, restore_environ
from tests.residents import registry_config, write_registry

TIMEOUT = 120
REGISTRY_ENV = "JUKINET_TEST_REGISTRY_URL"


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def product(
    prefect_server: None, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    registry = write_registry(home / "registry.sqlite3")  # every flow test checks against it
    config = copy_config(home / "config", mailbox.port, residents=registry_config(REGISTRY_ENV))
    names = ("JUKINET_HOME", "JUKINET_CONFIG_DIR", "JUKINET_STORE_URL", REGISTRY_ENV)
    saved = {k: os.environ.get(k) for k in names}
    os.environ["JUKINET_HOME"] = str(home)
    os.environ["JUKINET_CONFIG_DIR"] = str(config)
    os.environ[REGISTRY_ENV] = registry
    os.environ.pop("JUKINET_STORE_URL", None)
    reset_runtime()
    yield home
    restore_environ(saved)
    reset_runtime()


@dataclass
class Run:
    """A flow started in a background thread (pauses block it, as in production they suspend)."""

    thread: threading.Thread
    outcome: dict[str, Any] = field(default_factory=dict)

    def join(self, timeout: float = TIMEOUT) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "flow did not finish"
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome.get("value")


def start(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Run:
    ctx = contextvars.copy_context()
    run = Run(threading.Thread(target=lambda: None, daemon=True))

    def target() -> None:
        try:
            run.outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # reported to the test by join()
            run.outcome["error"] = exc

    run.thread = threading.Thread(target=lambda: ctx.run(target), daemon=True)
    run.thread.start()
    return run


class Driver:
    """Answers paused human steps the way the UI does: `resume_flow_run(run_input=...)`."""

    def __init__(self) -> None:
        self.name_filter: str | None = None
        self.started = time.time()

    def paused(self, key: str, timeout: float = TIMEOUT) -> FlowRun:
        deadline = time.monotonic() + timeout
        with get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                runs = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        state=FlowRunFilterState(
                            type=FlowRunFilterStateType(any_=[StateType.PAUSED])
                        ),
                        name=FlowRunFilterName(like_=self.name_filter)
                        if self.name_filter
                        else None,
                    )
                )
                step, attempt = key.split("#")
                suffix = "--" + re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-") + f"--{attempt}"
                for r in runs:
                    if r.state and (r.state.state_details.pause_key or "").endswith(suffix):
                        return r
                time.sleep(0.2)
        raise AssertionError(f"no run paused at {key}")

    def answer(self, key: str, answerer: str, **values: Any) -> FlowRun:
        run = self.paused(key)
        payload = {
            "answerer": answerer,
            "approval_code": values.pop("code", CODES.get(answerer)),
            **values,
        }
        deadline = time.monotonic() + 10
        with get_client(sync_client=True) as client:
            while True:
                result = client.resume_flow_run(run.id, run_input=payload)
                # Prefect sets Paused before it saves the form's schema: a resume in that gap
                # is rejected ("Run input schema not found") and is simply sent again.
                reason = str(getattr(result.details, "reason", ""))
                if result.status.value == "ACCEPT" or "schema not found" not in reason:
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert result.status.value == "ACCEPT", result.details
        return run


@pytest.fixture
def driver(product: Path) -> Driver:
    return Driver()


@contextmanager
def away(*labels: str) -> Iterator[None]:
    """The people are registered absent for the block (as 不在の登録 does) and back after it."""
    store, roster = runtime().store, runtime().config.roster
    now = utcnow()
    people = [roster.by_label(label) for label in labels]
    for person in people:
        assert person is not None
        store.register_absence(
            Absence(
                registration_key=uuid.uuid4().hex,
                person_id=person.id,
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=1),
                reason="試験のため不在",
                registered_by="試験",
                registered_at=now,
            )
        )
    try:
        yield
    finally:
        for person in people:
            assert person is not None
            store.end_absences(person.id, utcnow())


def answer_short_outage(driver: Driver, *, close: bool = True) -> None:
    """Chapter 2 after C1.2, short outage: C2.S1.1 → C2.S1.3 → C2.S2 (no meeting) → C2.S4 →
    C2.S5 → C2.3 (unless not `close`), every step answered by its holder."""
    from tests.flows import scenarios as s

    driver.answer("C2.S1.1#1", s.OPERATOR, **s.IDENTIFICATION)
    driver.answer("C2.S1.3#1", s.OFFICER, remarks="保守事業者へ連絡済み")
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    driver.answer("C2.S4.r1.1#1", s.OFFICER, **s.REPAIRED)
    driver.answer("C2.S5.r1.integrity.1#1", s.OFFICER, **s.CONSISTENT)
    driver.answer("C2.S5.r1#1", s.CHIEF, **s.RESUME)
    if close:
        driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)
