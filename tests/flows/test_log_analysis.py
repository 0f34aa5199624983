"""The access-log analysis at 手順5 (C3.S5): with town.yaml `access_logs`, the chief chooses the
collected logs, the findings name every planted incident, they fill the cause form's 根拠 in
advance, and the level is raised by a human decision; a missing file is said and asked again.
No target key appears in the artifact, the records or the logs."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from ruamel.yaml import YAML

from flows.emergency import Mode
from flows.log_analysis import log_analysis
from flows.runtime import reset_runtime, runtime
from jukinet.accesslog.synthetic import Truth, synthetic_config, write_logs
from tasks.access_logs import artifact_key
from tests.flows import scenarios3 as t
from tests.flows.conftest import Driver
from tests.flows.test_chapter3 import _reported, convene_and_resume_after_raise
from tests.flows.test_integrity_gate import _logs_text


class Logs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.truth: Truth = write_logs(folder, 8_000, seed=11)

    def targets(self) -> set[str]:
        """Every target key written in the logs."""
        found = set(
            re.findall(r"\b\d{11}\b", (self.folder / "cs_ops.csv").read_text("utf-8", "replace"))
        )
        for line in (self.folder / "terminal_ops.jsonl").read_text("utf-8").splitlines():
            try:
                found.add(json.loads(line)["target"])
            except (ValueError, KeyError, TypeError):
                continue
        return found - {""}


@pytest.fixture
def logs(product: Path, tmp_path: Path) -> Iterator[Logs]:
    """town.yaml `access_logs` pointed at a folder of synthetic logs, for this test only."""
    made = Logs(tmp_path / "logs")
    town_path = Path(os.environ["JUKINET_CONFIG_DIR"]) / "town.yaml"
    original = town_path.read_text(encoding="utf-8")
    yaml = YAML()
    town = yaml.load(original)
    town["access_logs"] = synthetic_config(made.folder).model_dump(mode="json")
    with town_path.open("w", encoding="utf-8") as fh:
        yaml.dump(town, fh)
    reset_runtime()
    yield made
    town_path.write_text(original, encoding="utf-8")
    reset_runtime()


def _artifact(key: str) -> str:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
        assert found, f"no artifact {key}"
        return str(found[0].data)


def test_a_drill_finds_the_planted_cause_in_the_logs_and_the_chief_raises_the_level(
    driver: Driver, logs: Logs
) -> None:
    began = datetime.now(UTC)
    run, number = _reported(driver, t.L2_2, mode=Mode.DRILL)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(2, t.L2_2))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S3.3#1", t.CHIEF, **t.NO_MEETING)
    # a file that is not in the folder: said, and asked again
    driver.answer("C3.S5.r1.logs.1#1", t.CHIEF, files="cs_ops.csv、fw_2026.csv")
    driver.answer("C3.S5.r1.logs.2#1", t.CHIEF, files="")  # every file in the folder
    findings = {k: v for k, v in t.FINDINGS.items() if k != "evidence"}  # 根拠 as filled in
    driver.answer(
        "C3.S5.r1#1",
        t.CHIEF,
        **findings,
        raise_level="レベル3に引き上げる（新たな事実による）",
        raise_reason="ログの解析で op04 による大量の照会が判明",
    )
    convene_and_resume_after_raise(driver)
    assert run.join() == number

    store = runtime().store
    records = store.audit_records(store.incident(number).id)
    failed = [r.summary for r in records if r.kind == "アクセスログの解析（失敗）"]
    assert len(failed) == 1 and "fw_2026.csv" in failed[0]
    (analysed,) = [r for r in records if r.kind == "アクセスログの解析"]
    assert analysed.details is not None
    found = {(f["rule"], f["subject"]) for f in analysed.details["findings"]}
    assert found == logs.truth.planted
    assert {f["file"] for f in analysed.details["files"]} == {
        "cs_ops.csv",
        "terminal_ops.jsonl",
        "fw_log.csv",
    }
    assert analysed.details["malformed"] == len(logs.truth.malformed)
    cause = next(r for r in records if r.kind == "原因究明・復旧")
    assert "大量の照会 op04" in cause.summary  # the 根拠 the analysis filled in
    raised = next(r for r in records if r.kind == "脅威度引上げ")
    assert raised.details is not None and raised.details["at_clause"] == "C3.S5.r1"
    assert raised.actor == t.CHIEF

    shown = _artifact(artifact_key(f"{number}-C3.S5.r1.analysis.2"))
    assert "大量の照会" in shown and "op04" in shown and "C3.A.L3 (5)" in shown
    assert "tmp-user" in shown and "203.0.113.45" in shown
    written = "\n".join([shown, _logs_text(began), *(f"{r.summary}{r.details}" for r in records)])
    targets = logs.targets()
    assert len(targets) > 500
    assert not [k for k in targets if k in written], "照会の対象が出力に含まれています"


def test_the_standalone_analysis_records_outside_any_incident(logs: Logs) -> None:
    outcome = log_analysis(files="fw_log.csv")
    assert {(f["rule"], f["subject"]) for f in outcome["findings"]} == {
        ("firewall-passed", "203.0.113.45"),
        ("firewall-denied", "198.51.100.7"),
    }
    record = next(
        r
        for r in reversed(runtime().store.audit_records(kind="アクセスログの解析"))
        if r.incident_id is None
    )
    assert "所見 2 件" in record.summary
    with pytest.raises(ValueError, match="フォルダは指定できません"):
        log_analysis(files="../town.yaml")
