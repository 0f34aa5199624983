"""The documents chapter 2 sends: 件名, template, style, and whether it is a draft.

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
    )
}
