"""town.yaml `access_logs`: how the CS, 統合端末 and firewall logs are read and what counts as
unusual in them (C3.S5 原因の究明, C3.A.L3 (3)). Field titles are the Japanese names used in
error messages."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
MMDD = r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogKind(StrEnum):
    OPERATION = "operation"  # CS・統合端末の操作ログ
    FIREWALL = "firewall"


class LogFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class LogColumns(_Strict):
    """論理名に対応する列（CSV は見出しの名前、JSON Lines はキー）"""

    time: str = Field(default="time", min_length=1, title="日時の列")
    operator: str = Field(default="operator", min_length=1, title="操作者IDの列")
    terminal: str = Field(default="terminal", min_length=1, title="端末IDの列")
    operation: str = Field(default="operation", min_length=1, title="操作の列")
    target: str = Field(default="target", min_length=1, title="対象（住民票コード等）の列")
    result: str = Field(default="result", min_length=1, title="結果の列")
    source: str = Field(default="source", min_length=1, title="接続元アドレスの列")


class LogSource(_Strict):
    """ログの種類ごとの読み方。ファイル名の型に合うファイルをこの読み方で読みます。"""

    name: str = Field(min_length=1, title="ログの名前", description="例: CS操作ログ")
    pattern: str = Field(min_length=1, title="ファイル名の型", description="例: cs_*.csv")
    kind: LogKind = Field(default=LogKind.OPERATION, title="ログの種類")
    format: LogFormat = Field(default=LogFormat.CSV, title="形式")
    encoding: str = Field(default="utf-8", title="文字コード", description="例: utf-8, cp932")
    columns: LogColumns = Field(default_factory=LogColumns, title="列の対応")
    time_format: str | None = Field(
        default=None,
        title="日時の書式",
        description="strftime の書式（例: %Y/%m/%d %H:%M:%S）。省略すると ISO 8601",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"文字コード「{value}」は使用できません") from None
        return value


class Operations(_Strict):
    lookup: list[str] = Field(
        default_factory=lambda: ["照会", "検索", "閲覧"],
        min_length=1,
        title="本人確認情報の照会に当たる操作",
    )
    login: list[str] = Field(
        default_factory=lambda: ["ログイン", "認証"], min_length=1, title="認証に当たる操作"
    )


class Results(_Strict):
    failure: list[str] = Field(
        default_factory=lambda: ["失敗", "NG", "エラー"], min_length=1, title="失敗を表す結果"
    )
    passed: list[str] = Field(
        default_factory=lambda: ["許可", "ACCEPT", "PASS"],
        min_length=1,
        title="ファイアウォールの通過を表す結果",
    )
    denied: list[str] = Field(
        default_factory=lambda: ["拒否", "DROP", "DENY", "REJECT"],
        min_length=1,
        title="ファイアウォールの遮断を表す結果",
    )


class AuthFailures(_Strict):
    count: int = Field(default=5, ge=2, le=1000, title="認証失敗の回数")
    minutes: int = Field(default=10, ge=1, le=1440, title="認証失敗を数える時間（分）")


class AccessLogAnalysis(_Strict):
    """アクセスログの解析（第3章 手順5 原因の究明）"""

    folder: str = Field(
        default="access-logs",
        min_length=1,
        title="ログを置くフォルダ",
        description="JUKINET_HOME からの相対パスか絶対パス。解析するログのファイルをここに置きます",
    )
    sources: list[LogSource] = Field(min_length=1, title="ログの読み方")
    office_start: str = Field(default="08:30", pattern=HHMM, title="執務時間の開始")
    office_end: str = Field(default="17:15", pattern=HHMM, title="執務時間の終了")
    year_end_from: str = Field(
        default="12-29", pattern=MMDD, title="年末年始の休日の初日", description="休日条例（月-日）"
    )
    year_end_to: str = Field(
        default="01-03", pattern=MMDD, title="年末年始の休日の末日", description="休日条例（月-日）"
    )
    operators: list[str] = Field(min_length=1, title="権限のある操作者ID")
    terminals: list[str] = Field(min_length=1, title="権限のある端末ID")
    networks: list[str] = Field(
        min_length=1, title="端末の接続元として認めるアドレス範囲", description="例: 10.1.2.0/24"
    )
    firewall_allowed: list[str] = Field(
        min_length=1,
        title="ファイアウォールの通過を認める接続元の範囲",
        description="例: 10.0.0.0/8",
    )
    bulk_lookups: int = Field(
        default=100, ge=1, title="大量照会とみなす件数", description="操作者ごと1時間あたり"
    )
    auth_failures: AuthFailures = Field(default_factory=AuthFailures, title="認証失敗の繰り返し")
    operations: Operations = Field(default_factory=Operations, title="操作の分類")
    results: Results = Field(default_factory=Results, title="結果の分類")
    line_refs: int = Field(
        default=10, ge=1, le=200, title="所見ごとに示す行の数", description="件数は全件を数えます"
    )

    def folder_in(self, home: Path) -> Path:
        """The log folder: `folder` itself when absolute, else below JUKINET_HOME."""
        folder = Path(self.folder)
        return folder if folder.is_absolute() else home / folder

    @field_validator("networks", "firewall_allowed")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"「{network}」はアドレス範囲（例: 10.1.2.0/24）ではありません"
                ) from None
        return value

    @model_validator(mode="after")
    def _checks(self) -> AccessLogAnalysis:
        if self.office_start >= self.office_end:
            raise ValueError(
                f"執務時間の開始 {self.office_start} が終了 {self.office_end} と同じか後になっています"
            )
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError("ログの名前が重複しています")
        for source in self.sources:
            if re.search(r"[/\\]", source.pattern):
                raise ValueError(
                    f"ログ「{source.name}」のファイル名の型にフォルダを含めることはできません"
                )
        return self
