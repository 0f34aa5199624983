"""第2章 機器障害, driven through its paused steps via the API as the UI would."""

from __future__ import annotations

from email.message import EmailMessage

from prefect.input.actions import read_flow_run_input

from flows.emergency import Mode, emergency_response
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.mailbox import Mailbox
from jukinet.plan import Body
from tests.flows import scenarios as s
from tests.flows.conftest import Driver, Run, answer_short_outage, away, start


def _incident_number(driver: Driver) -> str:
    run = driver.paused("C1.2#1")
    number = run.name.split(" ")[0]
    driver.name_filter = number
    return number


def run_short_outage(driver: Driver) -> str:
    """A real emergency declared, classed 障害 and answered along chapter 2's shortest path to
    its close; returns the incident number."""
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="CS の機器故障")
    answer_short_outage(driver)
    assert run.join() == number
    return number


def _mails_for(mailbox: Mailbox, number: str) -> list[EmailMessage]:
    return [m for m in mailbox.messages() if number in m.get_content()]


def test_short_outage_runs_chapter_1_and_2_to_the_end(driver: Driver, mailbox: Mailbox) -> None:
    """C1.2 (C1.2.FAILURE) → C2.S1.1–3 → C2.S2 (no meeting) → C2.S4 → C2.S5 → C2.3, with every
    notice once."""
    number = run_short_outage(driver)

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "終結"
    notices = store.notices(incident.id)
    assert all(n.status == "sent" for n in notices)
    documents = [(n.clause, n.document) for n in notices]
    assert ("C2.S1.2", "maintenance_request") in documents
    assert ("C2.S4", "repair_request") in documents
    assert not any(n.document == "mayor_report" for n in notices)
    mails = _mails_for(mailbox, number)
    assert len(mails) == len(notices)
    assert store.verify_chain().ok
    classified = [r for r in store.audit_records(incident.id) if r.kind == "区分確定"]
    assert [r.clause for r in classified] == ["C1.2.FAILURE"]
    assert classified[0].actor == s.OPERATOR


def _documents(number: str) -> list[tuple[str, str, str]]:
    store = runtime().store
    return [(n.clause, n.document, n.recipient) for n in store.notices(store.incident(number).id)]


def _records(number: str, kind: str | None = None) -> list[tuple[str, str, str]]:
    store = runtime().store
    return [
        (r.clause, r.kind, r.actor)
        for r in store.audit_records(store.incident(number).id)
        if kind is None or r.kind == kind
    ]


def _through_identification(driver: Driver, **ident: object) -> tuple[Run, str]:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="障害", reason="機器の故障")
    driver.answer("C2.S1.1#1", s.OPERATOR, **{**s.IDENTIFICATION, **ident})
    driver.answer("C2.S1.3#1", s.OFFICER, remarks="特になし")
    return run, number


def _finish(driver: Driver, resumption_key: str) -> None:
    driver.answer("C2.S4.r1.1#1", s.OFFICER, **s.REPAIRED)
    driver.answer("C2.S5.r1.integrity.1#1", s.OFFICER, **s.CONSISTENT)
    driver.answer(resumption_key, s.CHIEF, **s.RESUME)
    driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)


def test_help_requests_go_to_the_bodies_chosen_at_identification(
    driver: Driver, mailbox: Mailbox
) -> None:
    """C2.S1.1: where the cause is hard to find, the vendor, 滋賀県 and 全国センター are asked, at the
    addresses of the 緊急時連絡網 (C2.1)."""
    run, number = _through_identification(
        driver,
        help_from=["保守委託事業者", "滋賀県", "全国センター"],
        request_maintenance=False,
        cause="調査中",
    )
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    _finish(driver, "C2.S5.r1#1")
    run.join()
    docs = _documents(number)
    help_to = sorted(r for c, d, r in docs if d == "help_request")
    assert [c for c, d, _ in docs if d == "help_request"] == ["C2.S1.1"] * 3
    assert any("保守委託事業者" in r for r in help_to)
    assert any("滋賀県" in r for r in help_to)
    assert any("全国センター" in r for r in help_to)
    assert not any(d == "maintenance_request" for _, d, _ in docs)
    contacts = runtime().config.contacts.bodies
    addresses = {
        n.address
        for n in runtime().store.notices(runtime().store.incident(number).id)
        if n.document == "help_request"
    }
    assert addresses == {
        contacts[Body.VENDOR][0].email,
        contacts[Body.PREFECTURE][0].email,
        contacts[Body.CENTER][0].email,
    }
    bodies = [m for m in _mails_for(mailbox, number) if "支援について（依頼）" in m["Subject"]]
    assert len(bodies) == 3
    assert "原因　調査中" in bodies[0].get_content()


def test_long_outage_convenes_the_meeting_and_its_decisions_drive_the_notices(
    driver: Driver, mailbox: Mailbox
) -> None:
    """C2.S2.2 → C2.S3.1–3: mayor report, convening notice, the approval of measures (C2.S3.2),
    each decision recorded under its clause — C2.S3.D1 機器等への対応, C2.S3.D2 関係機関への連絡,
    C2.S3.D3 技術的支援依頼, C2.S3.D4 緊急体制, C2.S3.D5 町民への対応, C2.S3.D6 広報対応,
    C2.S3.D7 代替措置, C2.S3.D8 再開運用の決定 — with D2/D3/D6 sending what was chosen, the result
    to the mayor, and D8 leaving resumption to the chief (C2.S5)."""
    run, number = _through_identification(driver)
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_LONG)
    driver.answer("C2.S3.1#1", s.CHIEF, **s.CONVENING)
    driver.answer("C2.S3.3#1", s.CHIEF, **s.meeting())
    driver.answer("C2.S3.D6#1", s.CHIEF, **s.PUBLICITY_APPROVED)
    _finish(driver, "C2.S5.r1#1")
    run.join()

    docs = _documents(number)
    by_doc: dict[str, list[str]] = {}
    for _, d, r in docs:
        by_doc.setdefault(d, []).append(r)
    assert len(by_doc["mayor_report"]) == 1 and "町長" in by_doc["mayor_report"][0]
    assert len(by_doc["meeting_convening"]) == 5  # the meeting's five members
    notified = by_doc["body_notification"]
    assert sum("全国センター" in r for r in notified) == 1
    assert sum("滋賀県" in r for r in notified) == 1
    assert sum("関係市町村" in r for r in notified) == 2
    assert len(by_doc["body_notification"]) == 4  # 全国センター, 滋賀県, two 関係市町村
    assert len(by_doc["support_request"]) == 1 and "保守委託事業者" in by_doc["support_request"][0]
    assert by_doc["homepage_notice"] == by_doc["press_release"] == ["企画課（多賀町 企画課）"]
    assert "info_sheet" not in by_doc
    assert "equipment_order" not in by_doc  # D1: no stop
    assert len(by_doc["meeting_result_report"]) == 1
    # 関係市町村 were notified in D2, so they also hear of recovery and resumption (C2.S5)
    assert sum("関係市町村" in r for r in by_doc["resumption_notice"]) == 2
    decisions = [c for c, k, _ in _records(number, "会議決定")]
    assert decisions == [f"C2.S3.D{i}" for i in range(1, 9)]
    approval = _records(number, "措置の承認")
    assert [(c, a) for c, _, a in approval] == [("C2.S3.2", f"セキュリティ会議（議長 {s.CHIEF}）")]
    assert ("C2.S5", "再開承認") in [(c, k) for c, k, _ in _records(number)]
    press = next(m for m in _mails_for(mailbox, number) if "記者発表資料" in m["Subject"])
    assert "【案】" not in press.get_content()
    assert f"【公表用】この文書はセキュリティ統括責任者 {s.CHIEF}が" in press.get_content()
    assert "住基ネットを利用する手続に時間がかかります" in press.get_content()
    assert [(c, a) for c, _, a in _records(number, "広報文の承認")] == [
        ("C2.S3.D6", f"セキュリティ統括責任者 {s.CHIEF}")
    ]


def test_public_texts_wait_for_the_official_the_meeting_named(driver: Driver) -> None:
    """C2.S3.D6: the meeting names セキュリティ責任者 to approve the homepage notice and the press
    release; the chair cannot answer in that place; a refusal needs a reason, and a refused text
    never goes out while the 情報資料 (no approval needed) does."""
    run, number = _through_identification(driver)
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_LONG)
    driver.answer("C2.S3.1#1", s.CHIEF, **s.CONVENING)
    driver.answer(
        "C2.S3.3#1",
        s.CHIEF,
        **s.meeting(
            d6_publicity=["ホームページ等での告知", "情報資料提供", "記者発表"],
            d6_approver="セキュリティ責任者",
        ),
    )
    driver.answer("C2.S3.D6#1", s.CHIEF, **s.PUBLICITY_APPROVED)  # not the one named
    driver.answer("C2.S3.D6#2", s.OFFICER, decision="承認しない（送付しない）")  # no reason
    driver.answer(
        "C2.S3.D6#3", s.OFFICER, decision="承認しない（送付しない）", opinion="表現を改めること"
    )
    _finish(driver, "C2.S5.r1#1")
    run.join()
    docs = {d for _, d, _ in _documents(number)}
    assert "info_sheet" in docs
    assert "homepage_notice" not in docs and "press_release" not in docs
    refused = _records(number, "回答拒否")
    assert [c for c, _, _ in refused][-2:] == ["C2.S3.D6", "C2.S3.D6"]
    assert [(c, a) for c, _, a in _records(number, "広報文の不承認")] == [
        ("C2.S3.D6", f"セキュリティ責任者 {s.OFFICER}")
    ]


def test_a_stop_ordered_by_the_meeting_makes_the_meeting_decide_resumption(
    driver: Driver,
) -> None:
    """C2.S3.D1 完全停止 → the order goes out, and C2.S5.MEETING replaces the chief's approval."""
    run, number = _through_identification(driver)
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_LONG)
    driver.answer("C2.S3.1#1", s.CHIEF, **s.CONVENING)
    driver.answer("C2.S3.3#1", s.CHIEF, **s.meeting(d1="システムの完全停止", d1_detail="CS 全体"))
    driver.answer("C2.S3.D6#1", s.CHIEF, **s.PUBLICITY_APPROVED)
    _finish(driver, "C2.S5.MEETING.r1#1")
    run.join()
    docs = _documents(number)
    orders = [r for _, d, r in docs if d == "equipment_order"]
    assert len(orders) == 2  # セキュリティ責任者 and 住基ネット担当者
    records = _records(number)
    assert ("C2.S5.MEETING", "再開承認") in [(c, k) for c, k, _ in records]
    assert not any(c == "C2.S5" and k == "再開承認" for c, k, _ in records)
    resumed = next(a for c, k, a in records if k == "再開承認")
    assert resumed.startswith("セキュリティ会議（議長 ")


def test_refused_answers_are_recorded_and_asked_again(driver: Driver) -> None:
    """Wrong code, wrong role and personal data are refused, recorded, and the step is asked
    again; nothing proceeds on them. A deputy's answer (the holder registered absent) names
    whom it stands in for and why."""
    with away(s.OPERATOR, s.CHIEF):
        _refused_answers(driver)


def _refused_answers(driver: Driver) -> None:
    run = start(emergency_response, DiscoveryReport(**s.declaration()), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, code="0000", emergency_class="障害", reason="故障")
    driver.answer("C1.2#2", s.OUTSIDER, emergency_class="障害", reason="故障")
    driver.answer("C1.2#3", s.OPERATOR_DEPUTY, emergency_class="障害", reason="担当者不在のため")
    leaked = driver.answer(
        "C2.S1.1#1",
        s.OPERATOR,
        **{**s.IDENTIFICATION, "impact": "住民票コード 12345678901 の照会不可"},
    )
    driver.answer("C2.S1.1#2", s.OPERATOR, **s.IDENTIFICATION)
    driver.answer("C2.S1.3#1", s.OFFICER, remarks="特になし")
    driver.answer("C2.S2#1", s.CHIEF_DEPUTY, **s.JUDGEMENT_SHORT)
    _finish(driver, "C2.S5.r1#1")
    run.join()

    store = runtime().store
    incident = store.incident(number)
    refused = _records(number, "回答拒否")
    assert [c for c, _, _ in refused] == ["C1.2", "C1.2", "C2.S1.1"]
    texts = [r.summary for r in store.audit_records(incident.id) if r.kind == "回答拒否"]
    assert "承認コードが正しくありません" in texts[0]
    assert (
        "セキュリティ統括責任者" not in texts[1] and "住基ネット担当者の担当者・代理者" in texts[1]
    )
    assert "「支障の程度」" in texts[2] and "12345678901" not in texts[2]
    answers = [r for r in store.audit_records(incident.id) if r.kind == "回答"]
    c12 = next(r for r in answers if r.clause == "C1.2")
    assert c12.actor.startswith(s.OPERATOR_DEPUTY) and "代理者（第1順位）" in c12.actor
    assert c12.on_behalf_of == "住基ネット担当者 犬上 一郎 に代わり"
    assert c12.details["deputy_ground"] == "担当者等（犬上 一郎）が不在として登録されているため"
    assert "（代理の理由: 担当者等（犬上 一郎）が不在" in c12.summary
    chief = next(r for r in answers if r.clause == "C2.S2.1")
    assert chief.on_behalf_of == "セキュリティ統括責任者 霊仙 正 に代わり"
    # the refused personal data reached neither the store nor the records
    dump = " ".join(r.summary + str(r.details) for r in store.audit_records(incident.id))
    assert "12345678901" not in dump
    assert "0000" not in dump
    # nor does Prefect's stored copy of the answer keep it, nor the approval code
    assert leaked.state is not None
    stored: dict[str, str] = read_flow_run_input(  # type: ignore[assignment]
        f"paused-{leaked.state.state_details.pause_key}-response", flow_run_id=leaked.id
    )
    assert stored["impact"] == "（本人確認情報のおそれがあるため削除）"
    assert stored["approval_code"] == "********"


def test_progress_reports_inconsistency_and_a_refused_resumption_go_round_again(
    driver: Driver,
) -> None:
    """C2.S4 progress until repaired; C2.S5 integrity until consistent; a refused resumption
    goes back to 手順4 with a second repair request."""
    run, number = _through_identification(driver)
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    driver.answer("C2.S4.r1.1#1", s.OFFICER, **s.REPAIR_IN_PROGRESS)
    driver.answer("C2.S4.r1.2#1", s.OFFICER, **s.REPAIRED)
    driver.answer("C2.S5.r1.integrity.1#1", s.OFFICER, **s.INCONSISTENT)
    driver.answer("C2.S5.r1.integrity.2#1", s.OFFICER, **s.CONSISTENT)
    driver.answer("C2.S5.r1#1", s.CHIEF, **s.HOLD)
    driver.answer("C2.S4.r2.1#1", s.OFFICER, **s.REPAIRED)
    driver.answer("C2.S5.r2.integrity.1#1", s.OFFICER, **s.CONSISTENT)
    driver.answer("C2.S5.r2#1", s.CHIEF, **s.RESUME)
    driver.answer("C2.3#1", s.OFFICER, **s.PREVENTION)
    run.join()
    kinds = [(c, k) for c, k, _ in _records(number)]
    assert kinds.count(("C2.S4", "作業経過")) == 1
    assert kinds.count(("C2.S4", "復旧")) == 2
    assert kinds.count(("C2.S5", "整合性確認")) == 3
    assert kinds.count(("C2.S5", "再開不承認")) == 1
    assert kinds.count(("C2.S5", "再開承認")) == 1
    docs = _documents(number)
    assert [d for _, d, _ in docs].count("repair_request") == 2
    assert [d for _, d, _ in docs].count("recovery_notice") == 4  # 滋賀県 and センター, twice
    assert [d for _, d, _ in docs].count("resumption_notice") == 2
    assert runtime().store.incident(number).state == "終結"


def test_prevention_plan_must_name_content_owner_and_due_date(driver: Driver) -> None:
    """C2.3: an adopted measure without 担当 or with an impossible date is refused; the report lists
    every measure of the plan, adopted or not (C2.3.T2, C2.3.O2, C2.3.O4 here are not)."""
    run, number = _through_identification(driver)
    driver.answer("C2.S2#1", s.CHIEF, **s.JUDGEMENT_SHORT)
    driver.answer("C2.S4.r1.1#1", s.OFFICER, **s.REPAIRED)
    driver.answer("C2.S5.r1.integrity.1#1", s.OFFICER, **s.CONSISTENT)
    driver.answer("C2.S5.r1#1", s.CHIEF, **s.RESUME)
    bad = {**s.PREVENTION, "t1_monitoring": {**s.item("監視"), "owner": "", "due": "2027-02-30"}}
    driver.answer("C2.3#1", s.OFFICER, **bad)
    others = [
        {
            "title": "手順書の改訂",
            "content": "復旧手順を追記",
            "owner": "総務課",
            "due": "2027-01-31",
        }
    ]
    driver.answer("C2.3#2", s.OFFICER, **{**s.PREVENTION, "others": others})
    run.join()
    records = runtime().store.audit_records(runtime().store.incident(number).id)
    refusal = next(r for r in records if r.kind == "回答拒否")
    assert "「T1 障害監視の強化」を実施する場合は「担当」を記入してください" in refusal.summary
    assert "2027-02-30 は存在しない日付です" in refusal.summary
    adopted = [r.clause for r in records if r.kind == "再発防止策"]
    assert adopted == ["C2.3.T1", "C2.3.O1", "C2.3.O3", "C2.3"]
    store = runtime().store
    report = next(
        n for n in store.notices(store.incident(number).id) if n.document == "prevention_report"
    )
    for line in (
        "C2.3.T2 技術情報の収集　実施しない",
        "C2.3.O2 オーバーホールの実施　実施しない",
        "C2.3.O4 教育・研修　実施しない",
        "期限 令和9年1月31日",
    ):
        assert line in report.body
