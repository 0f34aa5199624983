"""The automatic integrity check at resumption (C2.S5, C3.S6.1): with town.yaml `integrity`, the
chapters compare the CS copy with the registry; differences go back to the officer; resumption is
refused while differences remain unless the approving official accepts them with a reason."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    LogFilter,
    LogFilterTimestamp,
)
from ruamel.yaml import YAML

from flows.emergency import Mode, emergency_response
from flows.integrity_check import integrity_check
from flows.runtime import reset_runtime, runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.integrity.compare import FIELDS, KEY
from jukinet.integrity.synthetic import generate, plant, write_table
from tasks.integrity import artifact_key
from tests.flows import scenarios as s
from tests.flows import scenarios3 as t
from tests.flows.conftest import Driver, Run, start
from tests.flows.test_chapter2 import _incident_number
from tests.flows.test_chapter3 import _reported

COLUMNS = {KEY: "住民票コード", **{f: f"c_{f}" for f in FIELDS}}
ROWS = 300
CS_ENV, REGISTRY_ENV = "JUKINET_TEST_CS_URL", "JUKINET_TEST_JUKI_URL"


class Tables:
    def __init__(self, folder: Path) -> None:
        self.cs = f"sqlite:///{folder / 'cs.sqlite3'}"
        self.registry = f"sqlite:///{folder / 'registry.sqlite3'}"
        self.folder = folder
        rows, self.truth = plant(
            generate(ROWS, seed=3), changed=0.02, deleted=0.01, inserted=0.01, invalid=0.01, seed=3
        )
        write_table(self.cs, "cs_honnin", rows, COLUMNS)
        write_table(self.registry, "kizon_juki", generate(ROWS, seed=3), COLUMNS)

    def repair(self) -> None:
        """The CS copy rebuilt from the registry, as the vendor would after the check."""
        (self.folder / "cs.sqlite3").unlink()
        write_table(self.cs, "cs_honnin", generate(ROWS, seed=3), COLUMNS)

    def keys(self) -> set[str]:
        """Every well-formed key the check must list (malformed keys are listed as found)."""
        t = self.truth
        return (
            set(t.changed)
            | t.missing_on_cs
            | set(t.malformed.values())
            | t.missing_on_registry
            | {k for k in t.invalid_on_cs if re.fullmatch(r"\d{11}", k)}
        )

    def differences(self) -> int:
        t = self.truth
        return (
            len(t.changed)
            + len(t.missing_on_cs | set(t.malformed.values()))
            + len(t.missing_on_registry)
            + len(t.invalid_on_cs)
        )


@pytest.fixture
def tables(product: Path, tmp_path: Path) -> Iterator[Tables]:
    """town.yaml `integrity` pointed at two synthetic tables, for this test only."""
    made = Tables(tmp_path)
    town_path = Path(os.environ["JUKINET_CONFIG_DIR"]) / "town.yaml"
    original = town_path.read_text(encoding="utf-8")
    yaml = YAML()
    town = yaml.load(original)
    town["integrity"] = {
        "cs": {"url": {"env": CS_ENV}, "table": "cs_honnin"},
        "registry": {"url": {"env": REGISTRY_ENV}, "table": "kizon_juki"},
        "columns": COLUMNS,
        "artifact_keys": 5,
    }
    with town_path.open("w", encoding="utf-8") as fh:
        yaml.dump(town, fh)
    os.environ[CS_ENV], os.environ[REGISTRY_ENV] = made.cs, made.registry
    reset_runtime()
    yield made
    town_path.write_text(original, encoding="utf-8")
    os.environ.pop(CS_ENV)
    os.environ.pop(REGISTRY_ENV)
    reset_runtime()


def _artifacts_text(number: str) -> str:
    """The check artifacts of the incident's two checks, by key (the API pages its lists)."""
    keys = [artifact_key(f"{number}-C2.S5.r1.check.{n}") for n in (1, 2)]
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
        assert {a.key for a in found} == set(keys)
        return "\n".join(str(a.data) for a in found)


def _logs_text(since: datetime) -> str:
    """Every log line since `since`, page by page."""
    lines: list[str] = []
    with get_client(sync_client=True) as client:
        while page := client.read_logs(
            log_filter=LogFilter(timestamp=LogFilterTimestamp(after_=since)),
            limit=200,
            offset=len(lines),
        ):
            lines += [log.message for log in page]
    return "\n".join(lines)


def _repaired(driver: Driver) -> tuple[Run, str]:
    """Chapter 2 up to the integrity check: 第1章 → C2.S1.1–3 → C2.S2 (no meeting) → C2.S4."""
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="CS の機器故障")
    driver.answer("C2.S1.1#1", s.OPERATOR, **s.IDENTIFICATION)
    driver.answer("C2.S1.3#1", s.OFFICER, remarks="保守事業者へ連絡済み")
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    driver.answer("C2.S4.r1.1#1", s.OFFICER, **s.REPAIRED)
    return run, number


def test_chapter_2_refuses_resumption_until_the_differences_are_repaired(
    driver: Driver, tables: Tables
) -> None:
    began = datetime.now(UTC)
    run, number = _repaired(driver)
    # the check found the planted differences: the officer must say what was repaired
    driver.answer("C2.S5.r1.differences.1#1", s.OFFICER, action="修復したので再照合する")
    tables.repair()
    driver.answer(
        "C2.S5.r1.differences.1#2",
        s.OFFICER,
        action="修復したので再照合する",
        repairs="保守事業者が既存住基システムから CS の本人確認情報を再作成",
    )
    driver.answer("C2.S5.r1#1", s.CHIEF, **s.RESUME)  # no differences left: the plain approval
    driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    records = store.audit_records(incident.id)
    checks = [r for r in records if r.kind == "整合性の照合"]
    assert [r.clause for r in checks] == ["C2.S5", "C2.S5"]
    assert (
        checks[0].details is not None and checks[0].details["differences"] == tables.differences()
    )
    assert "相違なし" in checks[1].summary
    refused = [r for r in records if r.kind == "回答拒否" and r.clause == "C2.S5"]
    assert refused and "「修復の内容」を記入してください" in refused[0].summary
    assert any(r.kind == "運用再開" for r in records)
    # keys: in full in the repair list only; masked in the artifact, absent from the records
    listed = Path(checks[0].details["file"]).read_text(encoding="utf-8")
    assert tables.keys() <= set(re.findall(r"\b\d{11}\b", listed))
    shown = _artifacts_text(number)
    assert "＊＊＊＊＊＊＊" in shown
    for key in tables.keys():  # noqa: SIM118 (Tables is not a mapping)
        assert key not in shown
        assert not any(key in r.summary or key in str(r.details) for r in records)
    # no field value either, in the artifacts, the records or the logs
    logs = _logs_text(began)
    written = "\n".join([shown, logs, *(f"{r.summary}{r.details}" for r in records)])
    personal = ("number", "name", "kana", "address")
    leaked = sorted({f for row in generate(ROWS, seed=3) for f in personal if row[f] in written})
    assert not leaked, f"照合の出力に本人確認情報の値（{leaked}）"
    assert "照合を終えました" in logs and "件/秒" in logs


def test_chapter_3_resumes_over_differences_only_when_the_chief_accepts_them(
    driver: Driver, tables: Tables
) -> None:
    run, number = _reported(driver, t.L2_2)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(2, t.L2_2))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S3.3#1", t.CHIEF, **t.NO_MEETING)
    driver.answer("C3.S5.r1#1", t.CHIEF, **t.FINDINGS)
    driver.answer(
        "C3.S6.1.r1.differences.1#1",
        t.SEC_ADMIN,
        action="相違を残したまま運用再開の判断を求める",
        reason="相違は転入届の処理待ちによるもので、業務に支障がない",
    )
    driver.answer("C3.S6.1.r1#1", t.CHIEF, **t.RESUME)  # not accepted: refused
    driver.answer(
        "C3.S6.1.r1#2", t.CHIEF, **t.RESUME, accept_differences=True, acceptance_reason=""
    )
    driver.answer(
        "C3.S6.1.r1#3",
        t.CHIEF,
        **t.RESUME,
        accept_differences=True,
        acceptance_reason="相違の内容を確認し、本日中の修復を条件に再開する",
    )
    driver.answer("C3.S6.2#1", t.SEC_ADMIN, **t.RESUMPTION)
    driver.answer("C3.2#1", t.CHIEF, **t.PERMANENT)
    assert run.join() == number

    store = runtime().store
    records = store.audit_records(store.incident(number).id)
    refusals = [r.summary for r in records if r.kind == "回答拒否" and r.clause == "C3.S6.1"]
    assert len(refusals) == 2
    assert "照合の相違が残っていることを認めて運用を再開する" in refusals[0]
    assert "「相違を認める理由」を記入してください" in refusals[1]
    approved = next(r for r in records if r.kind == "再開承認")
    assert approved.actor == t.CHIEF
    assert approved.details == {
        "accepted_differences": True,
        "acceptance_reason": "相違の内容を確認し、本日中の修復を条件に再開する",
    }
    assert "相違が残っていることを認めて再開" in approved.summary


def test_a_check_that_cannot_run_is_recorded_and_left_to_the_officer(
    driver: Driver, tables: Tables
) -> None:
    """The CS copy unreachable: the reason is recorded, the officer checks again (still failing),
    then enters the result by hand; the chapter goes on."""
    os.environ[CS_ENV] = f"sqlite:///{tables.folder / 'nowhere' / 'cs.sqlite3'}"
    run, number = _repaired(driver)
    driver.answer("C2.S5.r1.check-failed.1#1", s.OFFICER, action="再度照合する")
    driver.answer("C2.S5.r1.check-failed.2#1", s.OFFICER, action="照合せずに確認結果を入力する")
    driver.answer("C2.S5.r1.integrity.1#1", s.OFFICER, **s.CONSISTENT)
    driver.answer("C2.S5.r1#1", s.CHIEF, **s.RESUME)
    driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)
    assert run.join() == number
    store = runtime().store
    records = store.audit_records(store.incident(number).id)
    failed = [r.summary for r in records if r.kind == "整合性の照合（失敗）"]
    assert len(failed) == 2
    assert all("CS（表 cs_honnin）を読めませんでした" in f for f in failed)
    assert any(r.kind == "整合性確認" and r.clause == "C2.S5" for r in records)


def test_the_standalone_check_records_outside_any_incident(tables: Tables) -> None:
    outcome = integrity_check()
    assert outcome["differences"] == tables.differences() > 5
    records = runtime().store.audit_records(kind="整合性の照合")
    record = next(r for r in reversed(records) if r.incident_id is None)
    assert record.incident_id is None and "相違" in record.summary
