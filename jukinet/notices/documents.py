"""The documents chapters 1–3 send: 件名, template, style, and whether it is a draft.

Each is sent per recipient with a key (incident, clause, document, recipient) so it goes out once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    id: str
    subject: str
    template: str
    draft: bool = False  # 案: for the recipient to finish and publish, not a letter to the public


DOCUMENTS: dict[str, Document] = {
    d.id: d
    for d in (
        Document(
            "discovery_report",
            "住基ネットの緊急時事象の発見について（報告）",
            "discovery_report.txt.j2",
        ),
        Document(
            "help_request",
            "住基ネットの障害の特定及び原因究明に係る支援について（依頼）",
            "help_request.txt.j2",
        ),
        Document(
            "maintenance_request",
            "住基ネット機器の保守作業について（依頼）",
            "maintenance_request.txt.j2",
        ),
        Document("failure_report", "住基ネットの障害について（報告）", "failure_report.txt.j2"),
        Document(
            "protection_instruction",
            "データ保護等について（指示）",
            "protection_instruction.txt.j2",
        ),
        Document("mayor_report", "住基ネットの障害について（町長報告）", "mayor_report.txt.j2"),
        Document(
            "meeting_convening",
            "セキュリティ会議の招集について（通知）",
            "meeting_convening.txt.j2",
        ),
        Document(
            "equipment_order", "住基ネット機器等への対応について（指示）", "equipment_order.txt.j2"
        ),
        Document(
            "body_notification", "住基ネットの障害について（連絡）", "body_notification.txt.j2"
        ),
        Document(
            "support_request",
            "住基ネットの障害に係る技術的支援について（依頼）",
            "support_request.txt.j2",
        ),
        Document(
            "homepage_notice",
            "住基ネットの障害に関するお知らせ（ホームページ告知文案）",
            "homepage_notice.txt.j2",
            draft=True,
        ),
        Document(
            "info_sheet", "住基ネットの障害に関する情報資料（案）", "info_sheet.txt.j2", draft=True
        ),
        Document(
            "press_release",
            "住基ネットの障害について（記者発表資料案）",
            "press_release.txt.j2",
            draft=True,
        ),
        Document(
            "meeting_result_report",
            "セキュリティ会議の結果について（報告）",
            "meeting_result_report.txt.j2",
        ),
        Document(
            "repair_request",
            "住基ネット機器の修理・復旧作業について（依頼）",
            "repair_request.txt.j2",
        ),
        Document(
            "recovery_notice", "住基ネットの障害の復旧について（連絡）", "recovery_notice.txt.j2"
        ),
        Document(
            "resumption_notice", "住基ネットの運用再開について（通知）", "resumption_notice.txt.j2"
        ),
        Document(
            "prevention_report",
            "住基ネットの障害に係る再発防止策について（報告）",
            "prevention_report.txt.j2",
        ),
        # 第3章 不正行為
        Document(
            "notification_received",
            "不正行為に係る通報の受付について（報告）",
            "notification_received.txt.j2",
        ),
        Document(
            "unauthorized_report",
            "住基ネットにおける不正行為について（報告）",
            "unauthorized_report.txt.j2",
        ),
        Document(
            "coordination_request",
            "不正行為に係る被害状況の把握について（依頼）",
            "coordination_request.txt.j2",
        ),
        Document(
            "unauthorized_mayor_report",
            "住基ネットにおける不正行為について（町長報告）",
            "unauthorized_mayor_report.txt.j2",
        ),
        Document(
            "system_stop_order",
            "住基ネットのシステムの停止について（命令）",
            "system_stop_order.txt.j2",
        ),
        Document(
            "cooperation_request",
            "不正行為による被害の拡大防止に係る協力について（依頼）",
            "cooperation_request.txt.j2",
        ),
        Document(
            "receiving_body_request",
            "本人確認情報の提供を受けた機関等における不正行為に係る緊急措置について（要請）",
            "receiving_body_request.txt.j2",
        ),
        Document(
            "level1_report",
            "不正行為の脅威度の判定及び緊急時対応の解除について（報告）",
            "level1_report.txt.j2",
        ),
        Document("cause_report", "不正行為の原因及び対策について（報告）", "cause_report.txt.j2"),
        Document(
            "unauthorized_notification",
            "住基ネットにおける不正行為について（連絡）",
            "unauthorized_notification.txt.j2",
        ),
        Document(
            "unauthorized_support_request",
            "住基ネットにおける不正行為に係る技術的支援について（依頼）",
            "unauthorized_support_request.txt.j2",
        ),
        Document(
            "unauthorized_homepage_notice",
            "住基ネットへの不正行為に関するお知らせ（ホームページ告知文案）",
            "unauthorized_homepage_notice.txt.j2",
            draft=True,
        ),
        Document(
            "unauthorized_info_sheet",
            "住基ネットへの不正行為に関する情報資料（案）",
            "unauthorized_info_sheet.txt.j2",
            draft=True,
        ),
        Document(
            "unauthorized_press_release",
            "住基ネットへの不正行為について（記者発表資料案）",
            "unauthorized_press_release.txt.j2",
            draft=True,
        ),
        Document("review_notice", "緊急措置の見直しについて（通知）", "review_notice.txt.j2"),
        Document(
            "findings_report",
            "不正行為の原因の究明及び復旧措置について（報告）",
            "findings_report.txt.j2",
        ),
        Document(
            "integrity_report",
            "復旧状況及び本人確認情報の整合性について（報告）",
            "integrity_report.txt.j2",
        ),
        Document(
            "resumption_mayor_report",
            "住基ネットの運用再開について（町長報告）",
            "resumption_mayor_report.txt.j2",
        ),
        Document(
            "unauthorized_resumption_notice",
            "住基ネットの運用再開について（連絡）",
            "unauthorized_resumption_notice.txt.j2",
        ),
        Document(
            "permanent_measures_report",
            "不正行為に係る恒久対策について（報告）",
            "permanent_measures_report.txt.j2",
        ),
    )
}
