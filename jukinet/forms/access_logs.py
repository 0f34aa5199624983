"""The form of the access-log analysis (C3.S5): which collected log files to analyse, or why
the cause is sought without it."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field

from jukinet.forms.common import Form


class LogAction(StrEnum):
    ANALYSE = "ログを解析する"
    SKIP = "解析せずに原因の究明に進む"


class LogSelection(Form):
    """手順5 収集したアクセスログの解析"""

    action: LogAction = Field(default=LogAction.ANALYSE, title="解析")
    files: str = Field(
        default="",
        title="解析するファイル",
        description="ログのフォルダにあるファイルの名前（複数は改行か読点で区切る）。"
        "空欄の場合はフォルダのすべてのファイルを解析します",
    )
    reason: str = Field(
        default="", title="解析しない理由", description="解析しない場合に記入します"
    )

    @property
    def names(self) -> list[str]:
        return [n for n in re.split(r"[\n\r,、，\s]+", self.files) if n]


def selection_problems(answer: LogSelection) -> list[str]:
    if answer.action is LogAction.SKIP and not answer.reason.strip():
        return ["解析しない場合は「解析しない理由」を記入してください"]
    if any("/" in n or "\\" in n or n in (".", "..") for n in answer.names):
        return ["ファイルの名前だけを記入してください（フォルダは指定できません）"]
    return []
