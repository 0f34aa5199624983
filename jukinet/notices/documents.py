"""The register of documents the plan implies: for each, its 件名, template, the clauses it is sent
under, who sends it, to whom, its style, and whether it needs approval before it goes out.

    >>> DOCUMENTS["help_request"].clauses
    ('C2.S1.1',)

Each is sent per recipient with a key (incident, clause, document, recipient) so it goes out once,
by the recipient's channels (e-mail to staff; e-mail, webhook or archive for outside bodies as the
contact directory says), and always kept in the archive. `check_request` refuses a document sent
under a clause or to a recipient the register does not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from jukinet.plan import Body, Role


class Style(StrEnum):
    """文体"""

    LETTER = "です・ます"  # letters, requests, reports and public text
    RECORD = "である"  # internal orders and records


Sender = Role | Literal["town", "system"]  # town: 町長名義; system: 緊急時対応システム
Addressee = Role | Body | Literal["receivers"]

SENDER_TITLES = {"town": "町長名義", "system": "緊急時対応システム"}


@dataclass(frozen=True)
class Document:
    id: str
    subject: str
    template: str
    clauses: tuple[str, ...]
    sender: Sender
    recipients: tuple[Addressee, ...]
    style: Style = Style.LETTER
    draft: bool = False  # text for the recipient to publish, not a letter to it
    approval: bool = False  # goes out only once the official the meeting names approved it
    sender_at: tuple[tuple[str, Sender], ...] = ()  # another sender under a later clause

    def sender_for(self, clause: str) -> Sender:
        return dict(self.sender_at).get(clause, self.sender)

    @property
    def internal(self) -> bool:
        return all(isinstance(r, Role) for r in self.recipients)

    @property
    def channels(self) -> str:
        """What the register says about channels, for the register's listing."""
        if self.internal:
            return "メール・保存"
        if any(isinstance(r, Role) for r in self.recipients):
            return "職員へはメール、外部へは連絡先の送付方法（メール・Webhook・保存）・保存"
        return "連絡先の送付方法（メール・Webhook・保存）・保存"

    @property
    def sender_title(self) -> str:
        others = "、".join(f"{c} は{_title(s)}" for c, s in self.sender_at)
        return _title(self.sender) + (f"（{others}）" if others else "")


def _title(sender: Sender) -> str:
    return sender.label if isinstance(sender, Role) else SENDER_TITLES[sender]


def addressee_kind(recipient_id: str) -> str:
    """`R-CHIEF:ryozen` → `R-CHIEF`, `shiga:0` → `shiga`, `receivers:0` → `receivers`."""
    return recipient_id.split(":", 1)[0]


class RegisterError(ValueError):
    """A document sent where the register does not allow it: a defect, never a user error."""


def check_request(document: Document, clause: str, recipient_id: str) -> None:
    if clause not in document.clauses:
        raise RegisterError(
            f"文書「{document.subject}」は条項 {clause} では送付しません（登録: "
            + "、".join(document.clauses)
            + "）"
        )
    allowed = {str(r) for r in document.recipients}
    if addressee_kind(recipient_id) not in allowed:
        raise RegisterError(
            f"文書「{document.subject}」の宛先に {addressee_kind(recipient_id)} は登録されていません"
        )


_CH2_BODIES = (Body.PREFECTURE, Body.CENTER, Body.MUNICIPALITIES)
_SUPPORT = (Body.PREFECTURE, Body.CENTER, Body.VENDOR)
_MEETING_CHAIN = (Role.SYS_ADMIN, Role.SEC_OFFICER, Role.OPERATOR)

DOCUMENTS: dict[str, Document] = {
    d.id: d
    for d in (
        # 第1章・第2章 障害
        Document(
            "discovery_report",
            "住基ネットの緊急時事象の発見について（報告）",
            "discovery_report.txt.j2",
            ("C2.S1.1", "C3.S1.1"),
            "system",
            (Role.OPERATOR, Role.SEC_OFFICER),
        ),
        Document(
            "help_request",
            "住基ネットの障害の特定及び原因究明に係る支援について（依頼）",
            "help_request.txt.j2",
            ("C2.S1.1",),
            Role.OPERATOR,
            _SUPPORT,
        ),
        Document(
            "maintenance_request",
            "住基ネット機器の保守作業について（依頼）",
            "maintenance_request.txt.j2",
            ("C2.S1.2",),
            Role.OPERATOR,
            (Body.VENDOR,),
        ),
        Document(
            "failure_report",
            "住基ネットの障害について（報告）",
            "failure_report.txt.j2",
            ("C2.S1.2", "C2.S1.3"),
            Role.OPERATOR,
            (Role.SEC_OFFICER, Role.SYS_ADMIN, Role.CHIEF),
            sender_at=(("C2.S1.3", Role.SEC_OFFICER),),
        ),
        Document(
            "protection_instruction",
            "データ保護等について（指示）",
            "protection_instruction.txt.j2",
            ("C2.S2.1", "C3.S2"),
            Role.CHIEF,
            _MEETING_CHAIN,
            style=Style.RECORD,
        ),
        Document(
            "mayor_report",
            "住基ネットの障害について（町長報告）",
            "mayor_report.txt.j2",
            ("C2.S2.2",),
            Role.CHIEF,
            (Role.MAYOR,),
        ),
        Document(
            "meeting_convening",
            "セキュリティ会議の招集について（通知）",
            "meeting_convening.txt.j2",
            ("C2.S3.1", "C3.S4.1"),
            Role.CHIEF,
            (Role.MEETING,),
        ),
        Document(
            "equipment_order",
            "住基ネット機器等への対応について（指示）",
            "equipment_order.txt.j2",
            ("C2.S3.D1", "C3.S4.D1"),
            Role.CHIEF,
            (*_MEETING_CHAIN, Role.SEC_ADMIN),
            style=Style.RECORD,
        ),
        Document(
            "body_notification",
            "住基ネットの障害について（連絡）",
            "body_notification.txt.j2",
            ("C2.S3.D2",),
            "town",
            _CH2_BODIES,
        ),
        Document(
            "support_request",
            "住基ネットの障害に係る技術的支援について（依頼）",
            "support_request.txt.j2",
            ("C2.S3.D3",),
            "town",
            _SUPPORT,
        ),
        Document(
            "homepage_notice",
            "住基ネットの障害に関するお知らせ（ホームページ告知文）",
            "homepage_notice.txt.j2",
            ("C2.S3.D6",),
            Role.CHIEF,
            (Body.PLANNING,),
            draft=True,
            approval=True,
        ),
        Document(
            "info_sheet",
            "住基ネットの障害に関する情報資料（案）",
            "info_sheet.txt.j2",
            ("C2.S3.D6",),
            Role.CHIEF,
            (Body.PLANNING,),
            draft=True,
        ),
        Document(
            "press_release",
            "住基ネットの障害について（記者発表資料）",
            "press_release.txt.j2",
            ("C2.S3.D6",),
            Role.CHIEF,
            (Body.PLANNING,),
            draft=True,
            approval=True,
        ),
        Document(
            "meeting_result_report",
            "セキュリティ会議の結果について（報告）",
            "meeting_result_report.txt.j2",
            ("C2.S3.3", "C3.S4.3"),
            Role.CHIEF,
            (Role.MAYOR,),
        ),
        Document(
            "repair_request",
            "住基ネット機器の修理・復旧作業について（依頼）",
            "repair_request.txt.j2",
            ("C2.S4",),
            Role.SEC_OFFICER,
            (Body.VENDOR,),
        ),
        Document(
            "recovery_notice",
            "住基ネットの障害の復旧について（連絡）",
            "recovery_notice.txt.j2",
            ("C2.S5",),
            "town",
            _CH2_BODIES,
        ),
        Document(
            "resumption_notice",
            "住基ネットの運用再開について（通知）",
            "resumption_notice.txt.j2",
            ("C2.S5",),
            "town",
            _CH2_BODIES,
        ),
        Document(
            "prevention_report",
            "住基ネットの障害に係る再発防止策について（報告）",
            "prevention_report.txt.j2",
            ("C2.3",),
            Role.SEC_OFFICER,
            (Role.CHIEF,),
        ),
        # 第3章 不正行為
        Document(
            "notification_received",
            "不正行為に係る通報の受付について（報告）",
            "notification_received.txt.j2",
            ("C3.S1.3",),
            "system",
            (Role.OPERATOR, Role.SEC_OFFICER),
        ),
        Document(
            "unauthorized_report",
            "住基ネットにおける不正行為について（報告）",
            "unauthorized_report.txt.j2",
            ("C3.S1.2", "C3.S1.4"),
            Role.OPERATOR,
            (Role.SEC_OFFICER, Role.SYS_ADMIN, Role.CHIEF, Role.ID_MANAGER),
            sender_at=(("C3.S1.4", Role.SEC_OFFICER),),
        ),
        Document(
            "coordination_request",
            "不正行為に係る被害状況の把握について（依頼）",
            "coordination_request.txt.j2",
            ("C3.S1.3",),
            Role.OPERATOR,
            (Body.PREFECTURE, Body.CENTER),
        ),
        Document(
            "unauthorized_mayor_report",
            "住基ネットにおける不正行為について（町長報告）",
            "unauthorized_mayor_report.txt.j2",
            ("C3.S2", "C3.S3.4"),
            Role.CHIEF,
            (Role.MAYOR,),
        ),
        Document(
            "system_stop_order",
            "住基ネットのシステムの停止について（命令）",
            "system_stop_order.txt.j2",
            ("C3.S2.2",),
            Role.CHIEF,
            (Role.OPERATOR, Role.SEC_OFFICER),
            style=Style.RECORD,
        ),
        Document(
            "cooperation_request",
            "不正行為による被害の拡大防止に係る協力について（依頼）",
            "cooperation_request.txt.j2",
            ("C3.S2.1",),
            Role.CHIEF,
            (Body.CENTER, Body.PREFECTURE, Body.PLANNING, Body.VENDOR),
        ),
        Document(
            "receiving_body_request",
            "本人確認情報の提供を受けた機関等における不正行為に係る緊急措置について（要請）",
            "receiving_body_request.txt.j2",
            ("C3.S2.4",),
            Role.CHIEF,
            ("receivers",),
        ),
        Document(
            "level1_report",
            "不正行為の脅威度の判定及び緊急時対応の解除について（報告）",
            "level1_report.txt.j2",
            ("C3.S3.1",),
            Role.SEC_ADMIN,
            (Role.CHIEF, Role.SYS_ADMIN, Role.SEC_OFFICER, Role.OPERATOR),
        ),
        Document(
            "cause_report",
            "不正行為の原因及び対策について（報告）",
            "cause_report.txt.j2",
            ("C3.S3.2",),
            Role.SEC_ADMIN,
            (Role.SYS_ADMIN, Role.CHIEF),
        ),
        Document(
            "unauthorized_notification",
            "住基ネットにおける不正行為について（連絡）",
            "unauthorized_notification.txt.j2",
            ("C3.S4.D2",),
            "town",
            _CH2_BODIES,
        ),
        Document(
            "unauthorized_support_request",
            "住基ネットにおける不正行為に係る技術的支援について（依頼）",
            "unauthorized_support_request.txt.j2",
            ("C3.S4.D3",),
            "town",
            _SUPPORT,
        ),
        Document(
            "unauthorized_homepage_notice",
            "住基ネットへの不正行為に関するお知らせ（ホームページ告知文）",
            "unauthorized_homepage_notice.txt.j2",
            ("C3.S4.D6",),
            Role.CHIEF,
            (Body.PLANNING,),
            draft=True,
            approval=True,
        ),
        Document(
            "unauthorized_info_sheet",
            "住基ネットへの不正行為に関する情報資料（案）",
            "unauthorized_info_sheet.txt.j2",
            ("C3.S4.D6",),
            Role.CHIEF,
            (Body.PLANNING,),
            draft=True,
        ),
        Document(
            "unauthorized_press_release",
            "住基ネットへの不正行為について（記者発表資料）",
            "unauthorized_press_release.txt.j2",
            ("C3.S4.D6",),
            Role.CHIEF,
            (Body.PLANNING,),
            draft=True,
            approval=True,
        ),
        Document(
            "review_notice",
            "緊急措置の見直しについて（通知）",
            "review_notice.txt.j2",
            ("C3.S4.D8",),
            Role.CHIEF,
            (Role.MEETING,),
            style=Style.RECORD,
        ),
        Document(
            "findings_report",
            "不正行為の原因の究明及び復旧措置について（報告）",
            "findings_report.txt.j2",
            ("C3.S5",),
            Role.CHIEF,
            (Role.SEC_ADMIN, Role.SYS_ADMIN, Role.MEETING),
        ),
        Document(
            "integrity_report",
            "復旧状況及び本人確認情報の整合性について（報告）",
            "integrity_report.txt.j2",
            ("C3.S6.1",),
            Role.SEC_ADMIN,
            (Role.CHIEF, Role.MEETING),
        ),
        Document(
            "resumption_mayor_report",
            "住基ネットの運用再開について（町長報告）",
            "resumption_mayor_report.txt.j2",
            ("C3.S6.3",),
            Role.CHIEF,
            (Role.MAYOR,),
        ),
        Document(
            "unauthorized_resumption_notice",
            "住基ネットの運用再開について（連絡）",
            "unauthorized_resumption_notice.txt.j2",
            ("C3.S6.4",),
            "town",
            _CH2_BODIES,
        ),
        Document(
            "permanent_measures_report",
            "不正行為に係る恒久対策について（報告）",
            "permanent_measures_report.txt.j2",
            ("C3.2",),
            Role.CHIEF,
            (Role.MAYOR, Role.MEETING),
        ),
        # 終結と送付の監視
        Document(
            "final_report",
            "緊急時対応の経過及び結果について（最終報告）",
            "final_report.txt.j2",
            ("C2.3", "C3.S3.1", "C3.2"),
            Role.CHIEF,
            (Role.MAYOR, Body.PREFECTURE),
        ),
        Document(
            "answer_reminder",
            "緊急時対応の手順への回答について（督促）",
            "answer_reminder.txt.j2",
            ("C2.1",),
            "system",
            (Role.OPERATOR, Role.SEC_OFFICER, Role.SEC_ADMIN, Role.CHIEF),
            style=Style.RECORD,
        ),
        Document(
            "undelivered_alarm",
            "未送付の通知について（警報）",
            "undelivered_alarm.txt.j2",
            ("C2.1",),
            "system",
            (Role.OPERATOR,),
            style=Style.RECORD,
        ),
    )
}
