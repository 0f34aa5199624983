"""本人確認情報 appears nowhere (issue 5, item 7). Synthetic residents' names, kana, birth dates,
addresses, 住民票コード and 個人番号 are typed where a careless implementation would keep them: the
discovery report, a notification from outside, answers' free text in chapters 1 to 3, the
integrity result, the log findings, 不在の登録 and 事後承認. Each is refused by the field's title
and asked again. Then everything the product and Prefect keep is scanned for every value: Prefect's
logs, artifacts, runs (parameters, state messages), task runs, stored answers; the store (records,
answers, notices, incidents); the mailbox; the archive; the audit export in every format; the
exceptions raised. Zero occurrences, or the test fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.logging.handlers import APILogHandler
from sqlalchemy import select

from flows.absence import register_absence
from flows.emergency import Mode, emergency_response
from flows.notification import outside_notification
from flows.ratification import ratify
from flows.runtime import runtime
from jukinet.audit_export import collect, render
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.forms.chapter3 import OutsideNotification
from jukinet.mailbox import Mailbox
from jukinet.residents import address_variants, normalise
from jukinet.store.models import Answer, Incident, Notice
from tasks.chapter1 import PersonalDataInReport
from tasks.chapter3_report import PersonalDataInNotification
from tests.flows import scenarios as s
from tests.flows import scenarios3 as t
from tests.flows.conftest import Driver, start
from tests.flows.test_deputies import _ratify_step
from tests.residents import RESIDENTS, Resident

A, B, C = RESIDENTS
REFUSAL_TIMEOUT = 60  # a report that is not refused pauses at C1.2 instead of failing


def needles(label: str, resident: Resident) -> dict[str, str]:
    """Each value in its normalised form → what it is (the failure names that, not the value)."""
    grouped = " ".join(resident.number[i : i + 4] for i in (0, 4, 8))
    values = {
        "氏名": [resident.name],
        "氏名カナ": [resident.kana],
        "生年月日": [resident.birth],
        "住民票コード": [resident.code],
        "個人番号": [resident.number, grouped],
        "住所": sorted(address_variants(resident.address)),
    }
    return {normalise(v): f"住民{label}の{kind}" for kind, vs in values.items() for v in vs}


NEEDLES = {
    k: v for label, r in zip("ABC", RESIDENTS, strict=True) for k, v in needles(label, r).items()
}


def refused_then(driver: Driver, key: str, who: str, leak: dict[str, Any], clean: dict[str, Any]):
    """Answer `key` with the leaking values (refused), then the next attempt cleanly."""
    step, attempt = key.split("#")
    driver.answer(key, who, **{**clean, **leak})
    driver.answer(f"{step}#{int(attempt) + 1}", who, **clean)


def _chapter2(driver: Driver) -> str:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = driver.paused("C1.2#1").name.split(" ")[0]
    driver.name_filter = number
    c12 = {"emergency_class": "障害", "reason": "機器の故障"}
    refused_then(driver, "C1.2#1", s.OPERATOR, {"reason": f"{A.kana}様の証明書発行中に停止"}, c12)
    impact = {"impact": f"{A.address} の世帯の転入処理ができない"}
    refused_then(driver, "C2.S1.1#1", s.OPERATOR, impact, s.IDENTIFICATION)
    _ratification(driver, number)
    remarks = {"remarks": "保守事業者へ連絡済み"}
    refused_then(driver, "C2.S1.3#1", s.OFFICER, {"remarks": f"{B.birth}の方の照会"}, remarks)
    grouped = " ".join(C.number[i : i + 4] for i in (0, 4, 8))
    reason = {"reason": f"個人番号 {grouped} の照会で停止"}
    refused_then(driver, "C2.S2#1", s.CHIEF, reason, s.JUDGEMENT_SHORT)
    work = {"work": f"住民票コード {B.code} の記録を修正"}
    refused_then(driver, "C2.S4.r1.1#1", s.OFFICER, work, s.REPAIRED)
    integrity = {"method": f"{B.name} ほか2件の不整合を修正（{C.address}）"}
    refused_then(driver, "C2.S5.r1.integrity.1#1", s.OFFICER, integrity, s.CONSISTENT)
    driver.answer("C2.S5.r1#1", s.CHIEF, **s.RESUME)
    driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)
    assert run.join() == number
    return number


def _chapter3(driver: Driver) -> str:
    run = start(emergency_response, DiscoveryReport(**s.declaration("不正行為")), Mode.REAL)
    number = driver.paused("C1.2#1").name.split(" ")[0]
    driver.name_filter = number
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="不正行為", reason="権限外の操作の痕跡")
    driver.answer("C3.S1.2#1", t.OPERATOR, **t.report(t.L2_2))
    driver.answer("C3.S1.4#1", t.OFFICER, **t.FORWARD)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(2, t.L2_2))
    cause = {"cause": f"{C.name}（{C.kana}）の記録の不正な照会"}
    refused_then(driver, "C3.S3.2#1", t.SEC_ADMIN, cause, t.CAUSE)
    driver.answer("C3.S3.3#1", t.CHIEF, **t.NO_MEETING)
    evidence = {"evidence": f"操作ログ: {A.name} {A.code} {B.number} を照会"}
    refused_then(driver, "C3.S5.r1#1", t.CHIEF, evidence, t.FINDINGS)
    driver.answer("C3.S6.1.r1.integrity.1#1", t.SEC_ADMIN, **t.CONSISTENT)
    driver.answer("C3.S6.1.r1#1", t.CHIEF, **t.RESUME)
    driver.answer("C3.S6.2#1", t.SEC_ADMIN, **t.RESUMPTION)
    driver.answer("C3.2#1", t.CHIEF, **t.PERMANENT)
    assert run.join() == number
    return number


def _ratification(driver: Driver, number: str) -> None:
    run = start(ratify, number, "C2.S1.1")
    step = _ratify_step(number)
    clean = {
        "measure": "CS を庁内ネットワークから切り離した",
        "acted_by": s.OPERATOR,
        "acted_on": "2026-11-27",
        "acted_at": "00:05",
        "decision": "承認する",
    }
    leak = {"measure": f"{C.kana}様の記録を保護するため CS を切り離した"}
    refused_then(driver, f"{step}#1", s.CHIEF, leak, clean)
    run.join()


def _absence() -> None:
    run = start(register_absence)
    leak = {"absent": s.OFFICER, "reason": f"{B.address}の{B.name}さん宅の火災対応"}
    clean = {**leak, "reason": "戻った", "action": "不在を取り消す（戻った）"}
    refused_then(Driver(), "ABSENCE#1", s.OFFICER, leak, clean)
    run.join()


def _texts(mailbox: Mailbox, numbers: list[str]) -> Iterator[tuple[str, str]]:
    """(where, text) of everything kept, Prefect's and the product's."""
    APILogHandler().flush()  # logs still queued in this process
    with get_client(sync_client=True) as client:
        offset = 0
        while logs := client.read_logs(limit=200, offset=offset):
            yield from ((f"log {log.flow_run_id}", log.message) for log in logs)
            offset += len(logs)
        for artifact in client.read_artifacts():
            yield f"artifact {artifact.key}", f"{artifact.data} {artifact.description}"
        for run in client.read_flow_runs():
            yield f"run {run.name}", json.dumps(run.parameters, ensure_ascii=False, default=str)
            yield f"run state {run.name}", str(run.state and run.state.message)
            for kept in client.filter_flow_run_input(run.id, "", 1000, set()):
                yield f"run input {run.name} {kept.key}", kept.value
        for task_run in client.read_task_runs():
            yield f"task run {task_run.name}", str(task_run.state and task_run.state.message)
    store = runtime().store
    with store.session() as session:
        for row in session.execute(select(Answer)).scalars():
            yield f"answer {row.ask_key}", f"{row.payload} {row.reason} {row.answerer}"
        for n in session.execute(select(Notice)).scalars():
            yield f"notice {n.key}", f"{n.subject} {n.body} {n.last_error} {n.delivery_note}"
        for i in session.execute(select(Incident)).scalars():
            yield f"incident {i.number}", f"{i.summary} {i.declaration}"
    for r in store.audit_records():
        yield f"audit {r.seq}", f"{r.summary} {r.details} {r.actor} {r.on_behalf_of}"
    for message in mailbox.messages():
        yield f"mail {message['Message-ID']}", f"{message['Subject']} {message.get_content()}"
    for path in Path(runtime().settings.archive_dir).rglob("*"):
        if path.is_file():
            yield f"archive {path.name}", path.read_text(encoding="utf-8", errors="replace")
    for number in numbers:
        for fmt in ("jsonl", "md", "html"):
            yield f"export {number} {fmt}", render(collect(store, number), fmt)


def test_residents_data_typed_anywhere_is_refused_and_kept_nowhere(
    driver: Driver, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    raised: list[str] = []
    observed = {**s.declaration(), "observed": f"{A.name}さんの住民票の写しの発行中に停止"}
    with pytest.raises(PersonalDataInReport) as report_error:
        start(emergency_response, DiscoveryReport(**observed), Mode.REAL).join(REFUSAL_TIMEOUT)
    content = {**t.NOTIFICATION, "content": f"住民票コード {C.code} の照会が不審"}
    with pytest.raises(PersonalDataInNotification) as notification_error:
        start(outside_notification, OutsideNotification(**content), Mode.REAL).join(REFUSAL_TIMEOUT)
    for caught in (report_error, notification_error):
        raised += [str(caught.value), repr(caught.value)]
    assert "「発見した状況」に住民の氏名と思われる語" in raised[0]
    assert "「通報の内容」に住民票コード・個人番号と思われる11桁以上の数字" in raised[2]

    numbers = [_chapter2(driver), _chapter3(Driver())]
    _absence()

    store = runtime().store
    refusals = [r for r in store.audit_records() if r.kind == "回答拒否"]
    mine = [r for r in refusals if "本人確認情報は記入しないでください" in r.summary]
    assert len(mine) >= 10  # every leaking answer above was refused by its field
    places = [*(("exception", text) for text in raised), ("captured log", caplog.text)]
    places += list(_texts(mailbox, numbers))
    found = [
        (where, what)
        for where, text in places
        for needle, what in NEEDLES.items()
        if needle in normalise(str(text))
    ]
    scanned = len(places)  # (a count: pytest would print the texts of a list it inspects)
    assert scanned > 100
    assert not found, found[:10]
