"""Forms outside the chapters' steps: 不在の登録 (who is away, so a deputy may answer) and
事後承認 (the chief approves a measure already taken in an emergency)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, create_model

from jukinet.forms.common import HHMM, TIME_HINT, Form, jst_datetime


class AbsenceAction(StrEnum):
    REGISTER = "不在を登録する"
    END = "不在を取り消す（戻った）"


class Absence(Form):
    """不在の登録: 役割の担当者（または先順位の代理者）が不在の間は、次の順位の代理者が代わりに回答できます。取り消す場合は日時の欄はそのままで構いません。"""

    action: AbsenceAction = Field(default=AbsenceAction.REGISTER, title="登録の種類")
    starts_on: date = Field(title="不在の開始日", description="日本時間の日付")
    starts_at: str = Field(pattern=HHMM, title="不在の開始時刻", description=TIME_HINT)
    ends_on: date = Field(title="不在の終了日（予定）", description="日本時間の日付")
    ends_at: str = Field(pattern=HHMM, title="不在の終了時刻（予定）", description=TIME_HINT)
    reason: str = Field(
        min_length=1, max_length=200, title="理由", description="例: 出張、休暇、連絡がとれない"
    )

    @property
    def starts(self) -> datetime:
        return jst_datetime(self.starts_on, self.starts_at)

    @property
    def ends(self) -> datetime:
        return jst_datetime(self.ends_on, self.ends_at)


ABSENT_FIELD = "absent"


def absence_form(people: list[str]) -> type[Form]:
    """The form with 不在の職員 as a choice of the roster's people."""
    choice = StrEnum("AbsentPerson", {f"p{i}": label for i, label in enumerate(people)})  # type: ignore[misc]
    fields: dict[str, Any] = {
        ABSENT_FIELD: (choice, Field(title="不在の職員", description="不在になる（戻った）職員")),
    }
    model: type[Form] = create_model("Absence", __base__=Absence, **fields)
    model.__doc__ = Absence.__doc__
    return model


class RatificationDecision(StrEnum):
    APPROVE = "承認する"
    REFUSE = "承認しない"


class Ratification(Form):
    """事後承認: 緊急のため承認を得ずに行った措置を、後から承認します。措置を行った日時と承認した日時の両方が記録されます。本人確認情報（住民の氏名・住所・住民票コード・個人番号等）は記入しないでください。"""

    measure: str = Field(
        min_length=1,
        max_length=400,
        title="措置の内容",
        description="例: CS を庁内ネットワークから切り離した",
    )
    acted_by: str = Field(
        min_length=1, max_length=80, title="措置を行った者", description="氏名と所属"
    )
    acted_on: date = Field(title="措置を行った日", description="日本時間の日付")
    acted_at: str = Field(pattern=HHMM, title="措置を行った時刻", description=TIME_HINT)
    decision: RatificationDecision = Field(title="判断")
    opinion: str = Field(
        default="",
        max_length=400,
        title="意見・理由",
        description="承認しない場合は理由を記入してください",
    )

    @property
    def acted(self) -> datetime:
        return jst_datetime(self.acted_on, self.acted_at)
