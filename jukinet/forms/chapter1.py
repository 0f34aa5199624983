"""第1章 forms: the discoverer's report (the run's parameters) and the classification (C1.2)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from jukinet.forms.common import HHMM, TIME_HINT, Form, jst_datetime
from jukinet.plan import EmergencyClass


class PresumedClass(StrEnum):
    FAILURE = "障害"
    UNAUTHORIZED = "不正行為"
    UNKNOWN = "わからない"


class DiscoveryReport(Form):
    """発見報告: 見たこと・場所・時刻・報告者を記入してください。住民の氏名・住所・住民票コード・個人番号などの本人確認情報は記入しないでください。"""

    discovered_on: date = Field(title="発見日", description="日本時間の日付")
    discovered_at: str = Field(pattern=HHMM, title="発見時刻", description=TIME_HINT)
    place: str = Field(min_length=1, title="機器・場所", description="例: CS サーバ（電算室）")
    observed: str = Field(min_length=1, title="発見した状況", description="何が起きているか")
    reporter: str = Field(min_length=1, title="報告者", description="氏名と所属")
    presumed: PresumedClass = Field(title="区分の見立て", description="発見者の見立て")
    measures_taken: str = Field(
        default="なし", title="報告までに行った応急措置", description="なければ「なし」"
    )

    @property
    def discovered(self) -> datetime:
        return jst_datetime(self.discovered_on, self.discovered_at)


class Classification(Form):
    """緊急時の区分の確認 (C1.2)"""

    emergency_class: EmergencyClass = Field(title="緊急時の区分")
    reason: str = Field(min_length=1, title="判断の理由")
