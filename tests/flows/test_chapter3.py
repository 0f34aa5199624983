"""第3章 不正行為, driven through its paused steps via the API as the UI would: every branch of the
determination (C3.S3), the outside notification (C3.S1.3), a raised level and the refusals."""

from __future__ import annotations

from flows.emergency import Mode, emergency_response
from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.mailbox import Mailbox
from tests.flows import scenarios as s
from tests.flows import scenarios3 as t
from tests.flows.conftest import Driver, Run, away, start
from tests.flows.test_chapter2 import _documents, _incident_number, _mails_for, _records


def _reported(driver: Driver, *examples: str, mode: Mode = Mode.REAL) -> tuple[Run, str]:
    """第1章 → C3.S1.2 → C3.S1.4."""
    run = start(emergency_response, DiscoveryReport(**s.declaration("不正行為")), mode)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="不正行為", reason="権限外の操作の痕跡")
    driver.answer("C3.S1.2#1", t.OPERATOR, **t.report(*examples))
    driver.answer("C3.S1.4#1", t.OFFICER, **t.FORWARD)
    return run, number


def convene_and_resume_after_raise(driver: Driver) -> None:
    """After a raise to level 3 at C3.S5: the meeting (C3.S4), integrity, resumption, C3.2."""
    driver.answer("C3.S4.1#1", t.CHIEF, **t.CONVENING)
    driver.answer("C3.S4.3#1", t.CHIEF, **t.meeting())
    driver.answer("C3.S4.D6#1", t.CHIEF, **t.PUBLICITY_APPROVED)
    driver.answer("C3.S4.D8.1#1", t.CHIEF, **t.REVIEW_PROCEED)
    driver.answer("C3.S6.1.r1.integrity.1#1", t.SEC_ADMIN, **t.CONSISTENT)
    driver.answer("C3.S6.1.r1#1", t.CHIEF, **t.RESUME)
    driver.answer("C3.S6.2#1", t.SEC_ADMIN, **t.RESUMPTION)
    driver.answer("C3.2#1", t.CHIEF, **t.PERMANENT)


def _resume_and_close(driver: Driver, approval_key: str) -> None:
    driver.answer("C3.S5.r1#1", t.CHIEF, **t.FINDINGS)
    driver.answer("C3.S6.1.r1.integrity.1#1", t.SEC_ADMIN, **t.CONSISTENT)
    driver.answer(approval_key, t.CHIEF, **t.RESUME)
    driver.answer("C3.S6.2#1", t.SEC_ADMIN, **t.RESUMPTION)
    driver.answer("C3.2#1", t.CHIEF, **t.PERMANENT)


def test_level_3_with_a_system_stop_runs_to_resumption(driver: Driver, mailbox: Mailbox) -> None:
    """C3.S1–S6 and C3.2 at level 3: the stop order (C3.S2.2) is a record with who and when and a
    notice to those who carry it out; the meeting is mandatory (C3.S3.4) and, as it approved the
    stop, decides resumption (C3.S4.D9)."""
    run, number = _reported(driver, t.L3_3)
    driver.answer(
        "C3.S2#1", t.CHIEF, **t.instruction(True, "ネットワークからの切り離し", hearings=True)
    )
    driver.answer("C3.S2.2#1", t.OPERATOR, **t.STOP_DONE)
    driver.answer(
        "C3.S2.1#1",
        t.OPERATOR,
        **t.measures(hearings_result="窓口職員3名から聴取", receiving_body="湖東年金事務所"),
    )
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(3, t.L3_3))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S4.1#1", t.CHIEF, **t.CONVENING)
    driver.answer("C3.S4.3#1", t.CHIEF, **t.meeting())
    driver.answer("C3.S4.D6#1", t.CHIEF, **t.PUBLICITY_APPROVED)
    driver.answer("C3.S4.D8.1#1", t.CHIEF, **t.REVIEW_AGAIN)
    driver.answer("C3.S4.D8.2#1", t.CHIEF, **t.REVIEW_PROCEED)
    _resume_and_close(driver, "C3.S4.D9.r1#1")
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "終結"
    notices = store.notices(incident.id)
    assert notices and all(n.status == "sent" for n in notices)
    assert len(_mails_for(mailbox, number)) == len(notices)
    docs = _documents(number)
    for clause, doc in [
        ("C3.S1.2", "unauthorized_report"),
        ("C3.S1.4", "unauthorized_report"),
        ("C3.S2", "unauthorized_mayor_report"),
        ("C3.S2", "protection_instruction"),
        ("C3.S2.2", "system_stop_order"),
        ("C3.S2.1", "cooperation_request"),
        ("C3.S2.4", "receiving_body_request"),
        ("C3.S3.2", "cause_report"),
        ("C3.S3.4", "unauthorized_mayor_report"),
        ("C3.S4.1", "meeting_convening"),
        ("C3.S4.D2", "unauthorized_notification"),
        ("C3.S4.D3", "unauthorized_support_request"),
        ("C3.S4.D6", "unauthorized_homepage_notice"),
        ("C3.S4.D6", "unauthorized_press_release"),
        ("C3.S4.3", "meeting_result_report"),
        ("C3.S4.D8", "review_notice"),
        ("C3.S5", "findings_report"),
        ("C3.S6.1", "integrity_report"),
        ("C3.S6.3", "resumption_mayor_report"),
        ("C3.S6.4", "unauthorized_resumption_notice"),
        ("C3.2", "permanent_measures_report"),
    ]:
        assert any(c == clause and d == doc for c, d, _ in docs), (clause, doc)
    # C3.S1.1: 第1章 already sent the discovery report to セキュリティ責任者 (presumed 不正行為): not twice
    to_officer = [c for c, d, r in docs if d == "discovery_report" and "セキュリティ責任者" in r]
    assert to_officer == ["C2.S1.1"]
    assert ("C3.S1.1", "報告", "システム") in _records(number)
    stop_order = [r for c, d, r in docs if d == "system_stop_order"]
    assert sorted(stop_order) == ["セキュリティ責任者 大滝 健二", "住基ネット担当者 犬上 一郎"]
    records = store.audit_records(incident.id)
    order = next(r for r in records if r.kind == "停止命令")
    assert (order.clause, order.actor) == ("C3.S2.2", t.CHIEF)
    assert "ネットワークからの切り離し" in order.summary and order.details["ordered_at"]
    done = next(r for r in records if r.kind == "停止実施")
    assert done.details["at"] == "2026-11-27T17:45:00+09:00"
    level = next(r for r in records if r.kind == "脅威度判定")
    assert (level.clause, level.actor, level.details["level"]) == ("C3.S3", t.SEC_ADMIN, 3)
    decision = next(r for r in records if r.kind == "再開承認")
    assert decision.clause == "C3.S4.D9" and decision.actor.startswith("セキュリティ会議（議長")
    assert len([r for r in records if r.clause == "C3.S4.D8" and r.kind == "見直し"]) == 2
    decided = {r.clause: r.summary for r in records if r.kind == "会議決定"}
    assert list(decided) == [f"C3.S4.D{i}" for i in range(1, 10)]  # one record per item
    assert decided["C3.S4.D4"] == "緊急体制の確立: 統括責任者の指揮の下、総務課が調査、住民課が窓口"
    assert decided["C3.S4.D5"].startswith("町民への対応: 問い合わせ窓口")
    assert decided["C3.S4.D7"].startswith("代替措置の実施: 広域交付は一時停止")
    assert store.verify_chain().ok


def test_level_1_is_reported_inside_and_lifted(driver: Driver, mailbox: Mailbox) -> None:
    """C3.S3.1: level 1 → internal report, the emergency is lifted; no meeting, no resumption. A
    determination by a role C3.S3 does not name, or one whose examples contradict the level, is
    refused and asked again. The C3.S1.2 form starts from the discoverer's report."""
    run = start(emergency_response, DiscoveryReport(**s.declaration("不正行為")), Mode.REAL)
    number = _incident_number(driver)
    driver.answer("C1.2#1", s.OPERATOR, emergency_class="不正行為", reason="権限外の操作の痕跡")
    given = {k: v for k, v in t.report(t.L1_1).items() if k not in ("found_on", "found_at", "act")}
    driver.answer("C3.S1.2#1", t.OPERATOR, **given)  # 発見日時 and 内容 kept as filled in
    driver.answer("C3.S1.4#1", t.OFFICER, **t.FORWARD)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", s.OUTSIDER, **t.determination(1, t.L1_1))  # 企画課長: not the role
    driver.answer("C3.S3#2", t.SEC_ADMIN, **t.determination(1, t.L1_1, t.L2_2))  # L2 example
    driver.answer("C3.S3#3", t.SEC_ADMIN, **t.determination(1, t.L1_1))
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    assert incident.state == "解除（レベル1）"
    assert incident.closed_at is not None
    refused = [(c, a) for c, k, a in _records(number, "回答拒否")]
    assert refused == [("C3.S3", s.OUTSIDER), ("C3.S3", t.SEC_ADMIN)]
    reasons = [r.summary for r in store.audit_records(incident.id) if r.kind == "回答拒否"]
    assert "セキュリティ管理者の担当者・代理者として登録されていません" in reasons[0]
    assert "レベル2-(2)" in reasons[1]
    docs = _documents(number)
    lifted = sorted(r for c, d, r in docs if d == "level1_report")
    assert lifted == [
        "システム管理者 芹川 直樹",
        "セキュリティ統括責任者 霊仙 正",
        "セキュリティ責任者 大滝 健二",
        "住基ネット担当者 犬上 一郎",
    ]
    assert not any(
        d in ("meeting_convening", "cause_report", "system_stop_order") for _, d, _ in docs
    )
    assert ("C3.S3.1", "解除", t.SEC_ADMIN) in _records(number)
    reported = next(r for r in store.audit_records(incident.id) if r.kind == "不正行為の報告")
    assert reported.details["found"] == "2026-11-27T10:30:00+09:00"  # 第1章's 発見日・発見時刻
    assert reported.summary.endswith(s.declaration()["observed"])
    suggestion = [r for r in store.audit_records(incident.id) if r.kind == "脅威度の提案"]
    assert [(r.clause, r.summary.split("（")[0]) for r in suggestion] == [("C3.A", "レベル1")]
    assert len(_mails_for(mailbox, number)) == len(store.notices(incident.id))
    assert store.verify_chain().ok


def test_level_2_without_a_meeting_resumes_on_the_chiefs_approval_after_a_refusal(
    driver: Driver,
) -> None:
    """C3.S3.2 → C3.S3.3 (no meeting) → C3.S5 → C3.S6.1: a refused resumption goes back to 手順5;
    a stop the chief cannot order below level 3 is refused (C3.S2.2)."""
    run, number = _reported(driver, t.L2_2)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False, "システムの完全停止"))
    driver.answer("C3.S2#2", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(2, t.L2_2))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S3.3#1", t.CHIEF, **t.NO_MEETING)
    driver.answer("C3.S5.r1#1", t.CHIEF, **t.FINDINGS)
    driver.answer("C3.S6.1.r1.integrity.1#1", t.SEC_ADMIN, **t.CONSISTENT)
    driver.answer("C3.S6.1.r1#1", t.CHIEF, **t.HOLD)
    driver.answer("C3.S5.r2#1", t.CHIEF, **{**t.FINDINGS, "recovery": "全端末を点検した"})
    driver.answer("C3.S6.1.r2.integrity.1#1", t.SEC_ADMIN, **t.CONSISTENT)
    driver.answer("C3.S6.1.r2#1", t.CHIEF, **t.RESUME)
    driver.answer("C3.S6.2#1", t.SEC_ADMIN, **t.RESUMPTION)
    driver.answer("C3.2#1", t.CHIEF, **t.PERMANENT)
    assert run.join() == number

    store = runtime().store
    assert store.incident(number).state == "終結"
    records = _records(number)
    refused = next(
        r for r in store.audit_records(store.incident(number).id) if r.kind == "回答拒否"
    )
    assert refused.clause == "C3.S2" and "レベル3に該当する可能性が高い場合" in refused.summary
    assert ("C3.S3.3", "会議招集判断", t.CHIEF) in records
    assert [k for c, k, _ in records if c == "C3.S6.1" and k.startswith("再開")] == [
        "再開不承認",
        "再開承認",
    ]
    docs = _documents(number)
    assert not any(d in ("meeting_convening", "system_stop_order") for _, d, _ in docs)
    assert not any(c == "C3.S3.4" for c, _, _ in docs)  # no mayor report for level 2 …
    assert [
        r for c, d, r in docs if c == "C3.S2" and d == "unauthorized_mayor_report"
    ]  # … but 手順2's
    # two rounds; セキュリティ管理者 is also システム管理者 in this roster: one letter each round
    assert [r for _, d, r in docs if d == "findings_report"] == ["セキュリティ管理者 芹川 直樹"] * 2
    integrity = [r for c, d, r in docs if d == "integrity_report"]
    assert integrity == ["セキュリティ統括責任者 霊仙 正"] * 2
    assert {r for c, d, r in docs if d == "unauthorized_resumption_notice"} == {
        "全国センター（地方公共団体情報システム機構（全国センター） 住基ネット全国センター 運用監視）",
        "滋賀県（滋賀県 総合企画部 市町振興課（都道府県管理課））",
        "関係市町村（彦根市 市民課）",
        "関係市町村（甲良町 住民課）",
    }
    assert store.verify_chain().ok


def test_level_2_with_a_meeting_and_a_deputy_determining(driver: Driver) -> None:
    """C3.S3.3: the chief convenes the meeting at level 2; セキュリティ管理者's deputy determines the
    level (セキュリティ管理者 being away) and the record says in whose place; no stop was decided,
    so the chief approves."""
    with away(t.SEC_ADMIN):
        _deputy_determining(driver)


def _deputy_determining(driver: Driver) -> None:
    run, number = _reported(driver, t.L2_3)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN_DEPUTY, **t.determination(2, t.L2_3))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S3.3#1", t.CHIEF, **t.CONVENE)
    driver.answer("C3.S4.1#1", t.CHIEF, **t.CONVENING)
    driver.answer("C3.S4.3#1", t.CHIEF, **t.meeting(d6_publicity=[]))
    driver.answer("C3.S4.D8.1#1", t.CHIEF, **t.REVIEW_PROCEED)
    _resume_and_close(driver, "C3.S6.1.r1#1")
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    answer = next(
        r for r in store.audit_records(incident.id) if r.kind == "回答" and r.clause == "C3.S3"
    )
    assert answer.actor.startswith(t.SEC_ADMIN_DEPUTY) and "代理者" in answer.actor
    assert answer.on_behalf_of == "セキュリティ管理者 芹川 直樹 に代わり"
    docs = _documents(number)
    assert len([d for _, d, _ in docs if d == "meeting_convening"]) == 5
    assert not any(c == "C3.S3.4" or c == "C3.S4.D6" for c, _, _ in docs)
    decision = next(r for r in store.audit_records(incident.id) if r.kind == "再開承認")
    assert (decision.clause, decision.actor) == ("C3.S6.1", t.CHIEF)


def test_level_3_without_a_stop_resumes_on_the_chiefs_approval(driver: Driver) -> None:
    """C3.S3.4: level 3 reports to the mayor and convenes the meeting without asking whether;
    the meeting decided no stop and left resumption to the chief (C3.S6.1)."""
    with away(t.CHIEF):
        _level_3_without_a_stop(driver)


def _level_3_without_a_stop(driver: Driver) -> None:
    run, number = _reported(driver, t.L3_2)
    driver.answer("C3.S2#1", s.CHIEF_DEPUTY, **t.instruction(True))  # the chief is away
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(3, t.L3_2, t.L2_2))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S4.1#1", t.CHIEF, **t.CONVENING)
    driver.answer("C3.S4.3#1", t.CHIEF, **t.meeting())
    driver.answer("C3.S4.D6#1", t.CHIEF, **t.PUBLICITY_APPROVED)
    driver.answer("C3.S4.D8.1#1", t.CHIEF, **t.REVIEW_PROCEED)
    _resume_and_close(driver, "C3.S6.1.r1#1")
    assert run.join() == number

    store = runtime().store
    records = _records(number)
    assert ("C3.S3.4", "会議招集決定", "システム") in records
    assert not any(c == "C3.S3.3" for c, _, _ in records)
    docs = _documents(number)
    assert [r for c, d, r in docs if c == "C3.S3.4"] == ["町長 青龍 太郎"]
    # the mayor hears it from whoever acted as the chief at 手順2, here the deputy
    mayor = next(n for n in store.notices(store.incident(number).id) if n.clause == "C3.S3.4")
    assert f"多賀町 セキュリティ統括責任者 {s.CHIEF_DEPUTY}" in mayor.body
    resumed = next(n for n in store.notices(store.incident(number).id) if n.clause == "C3.S6.3")
    assert f"多賀町 セキュリティ統括責任者 {t.CHIEF}" in resumed.body
    assert not any(d == "system_stop_order" for _, d, _ in docs)
    assert any(d == "unauthorized_press_release" for _, d, _ in docs)
    assert store.incident(number).state == "終結"


def test_a_notification_from_the_national_center_starts_chapter_3(
    driver: Driver, mailbox: Mailbox
) -> None:
    """C3.S1.3: 全国センター notifies; 住基ネット担当者 gathers (ア) and analyses (イ); level 2 being
    likely, 滋賀県 and 全国センター are asked to coordinate (ウ); then C3.S1.4 and on."""
    from flows.notification import outside_notification
    from jukinet.forms.chapter3 import OutsideNotification

    run = start(outside_notification, OutsideNotification(**t.NOTIFICATION), Mode.REAL)
    first = driver.paused("C3.S1.3#1")
    number = first.name.split(" ")[0]
    driver.name_filter = number
    driver.answer("C3.S1.3#1", t.OPERATOR, **t.analysis("レベル1に該当する見込み", t.L2_2))
    driver.answer(
        "C3.S1.3#2",
        t.OPERATOR,
        **t.analysis("レベル2に該当する可能性が高い", t.L2_2),
    )
    driver.answer("C3.S1.4#1", t.OFFICER, **t.FORWARD)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(1, t.L1_1))
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    assert incident.emergency_class == "不正行為"
    assert incident.declaration["origin"] == "notification"
    records = _records(number)
    assert ("C3.S1.3", "通報受付", t.NOTIFICATION["received_by"]) in records
    assert ("C3.S1.3", "情報の集約", t.OPERATOR) in records
    assert ("C3.S1.3", "調査・分析", t.OPERATOR) in records
    refused = [r for r in store.audit_records(incident.id) if r.kind == "回答拒否"]
    assert len(refused) == 1 and "見込みの理由" in refused[0].summary
    docs = _documents(number)
    assert sorted(r.split("（")[0] for c, d, r in docs if d == "coordination_request") == [
        "全国センター",
        "滋賀県",
    ]
    received = sorted(r for c, d, r in docs if d == "notification_received")
    assert received == ["セキュリティ責任者 大滝 健二", "住基ネット担当者 犬上 一郎"]
    assert not any(d == "discovery_report" for _, d, _ in docs)  # no staff report: no C3.S1.1
    forwarded = [r for c, d, r in docs if c == "C3.S1.4"]
    assert "本人確認情報管理責任者 大滝 健二" in forwarded
    mail = next(m for m in _mails_for(mailbox, number) if "被害状況の把握" in str(m["Subject"]))
    assert "全国センターからの通報" in mail.get_content()
    assert store.incident(number).state == "解除（レベル1）"


def test_a_level_raised_at_the_cause_report_takes_level_3s_path(driver: Driver) -> None:
    """C3.S3.2 raises level 2 to 3 on new facts: the mayor is told (C3.S3.4) and the meeting is
    convened without the chief's level-2 decision (C3.S3.3 is not asked)."""
    run, number = _reported(driver, t.L2_2)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(2, t.L2_2))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **{**t.CAUSE_RAISED, "raise_reason": ""})
    driver.answer("C3.S3.2#2", t.SEC_ADMIN, **t.CAUSE_RAISED)
    driver.answer("C3.S4.1#1", t.CHIEF, **t.CONVENING)
    driver.answer("C3.S4.3#1", t.CHIEF, **t.meeting(d1="機器の一部切り離し"))
    driver.answer("C3.S4.D6#1", t.CHIEF, **t.PUBLICITY_APPROVED)
    driver.answer("C3.S4.D8.1#1", t.CHIEF, **t.REVIEW_PROCEED)
    _resume_and_close(driver, "C3.S4.D9.r1#1")
    assert run.join() == number

    store = runtime().store
    incident = store.incident(number)
    raised = next(r for r in store.audit_records(incident.id) if r.kind == "脅威度引上げ")
    assert (raised.clause, raised.actor, raised.details["at_clause"]) == (
        "C3.S3",
        t.SEC_ADMIN,
        "C3.S3.2",
    )
    records = _records(number)
    assert not any(c == "C3.S3.3" for c, _, _ in records)
    assert ("C3.S3.4", "会議招集決定", "システム") in records
    docs = _documents(number)
    assert any(c == "C3.S4.D1" and d == "equipment_order" for c, d, _ in docs)
    assert any(
        c == "C3.S4.D2" and "レベル3" in n.body
        for n in store.notices(incident.id)
        for c in [n.clause]
    )
    assert store.incident(number).state == "終結"


def test_a_level_raised_at_the_findings_convenes_the_meeting_then(driver: Driver) -> None:
    """Level 2 without a meeting; at C3.S5 new facts raise it to 3: the mayor is told and the
    meeting is convened there, before integrity and resumption (C3.S6.1)."""
    run, number = _reported(driver, t.L2_2)
    driver.answer("C3.S2#1", t.CHIEF, **t.instruction(False))
    driver.answer("C3.S2.1#1", t.OPERATOR, **t.measures())
    driver.answer("C3.S3#1", t.SEC_ADMIN, **t.determination(2, t.L2_2))
    driver.answer("C3.S3.2#1", t.SEC_ADMIN, **t.CAUSE)
    driver.answer("C3.S3.3#1", t.CHIEF, **t.NO_MEETING)
    driver.answer(
        "C3.S5.r1#1",
        t.CHIEF,
        **{
            **t.FINDINGS,
            "raise_level": "レベル3に引き上げる（新たな事実による）",
            "raise_reason": "外部への送信が判明",
        },
    )
    convene_and_resume_after_raise(driver)
    assert run.join() == number

    store = runtime().store
    raised = next(
        r for r in store.audit_records(store.incident(number).id) if r.kind == "脅威度引上げ"
    )
    assert raised.details["at_clause"] == "C3.S5.r1" and raised.actor == t.CHIEF
    docs = _documents(number)
    assert [r for c, d, r in docs if c == "C3.S3.4"] == ["町長 青龍 太郎"]
    assert len([d for _, d, _ in docs if d == "meeting_convening"]) == 5
    assert store.incident(number).state == "終結"
