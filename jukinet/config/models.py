"""Configuration models: town, roster, contact directory (C2.1), drill recipients.

Field titles are the Japanese names used in error messages.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jukinet.codes import is_code_hash
from jukinet.config.access_logs import AccessLogAnalysis
from jukinet.plan import Body, Role

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
PHONE = r"^[0-9０-９+\-() ]{6,20}$"
MUNICIPALITY_CODE = r"^\d{6}$"
PERSON_ID = r"^[a-z][a-z0-9_-]{1,31}$"
URL = r"^https?://"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"

Email = Annotated[str, Field(pattern=EMAIL, title="メールアドレス")]


Location = tuple[str | int, ...]


class CrossCheckError(ValueError):
    """Problems that involve several entries, each with its place inside the model.

    Raised by the model validators below; the loader turns every `(location, message)` into
    its own line, so all of them are reported at once.
    """

    def __init__(self, problems: list[tuple[Location, str]]) -> None:
        self.problems = problems
        super().__init__("、".join(message for _, message in problems))


def _raise_if(problems: list[tuple[Location, str]]) -> None:
    if problems:
        raise CrossCheckError(problems)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- town.yaml ---------------------------------------------------------------------------


class Municipality(Strict):
    code: str = Field(pattern=MUNICIPALITY_CODE, title="全国地方公共団体コード")
    name: str = Field(min_length=1, title="団体名")
    prefecture: str = Field(min_length=1, title="都道府県名")


class Sender(Strict):
    title: str = Field(min_length=1, title="発信者の職名")
    department: str = Field(min_length=1, title="担当課")
    phone: str = Field(pattern=PHONE, title="電話番号")
    email: Email
    omit_seal: bool = Field(default=True, title="公印省略")


class SecretRef(Strict):
    """A secret named, never written here: a Prefect Secret block or an environment variable."""

    block: str | None = Field(default=None, min_length=1, title="Prefect Secret ブロック名")
    env: str | None = Field(default=None, pattern=ENV_NAME, title="環境変数名")

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.block is None) == (self.env is None):
            _raise_if(
                [
                    (
                        ("block",),
                        "Prefect Secret ブロック名（block）か環境変数名（env）のどちらか一方を"
                        "指定してください（秘密の値そのものは設定ファイルに書きません）",
                    )
                ]
            )
        return self

    def __str__(self) -> str:
        return f"Prefect Secret ブロック「{self.block}」" if self.block else f"環境変数 {self.env}"


class Charset(StrEnum):
    """メールの文字コード"""

    UTF8 = "utf-8"
    ISO2022JP = "iso-2022-jp"


class Channel(StrEnum):
    """送付方法"""

    EMAIL = "email"
    WEBHOOK = "webhook"
    ARCHIVE = "archive"


class Smtp(Strict):
    host: str = Field(min_length=1, title="SMTP サーバ")
    port: int = Field(ge=1, le=65535, title="SMTP ポート")
    from_address: Email
    timeout_seconds: float = Field(default=10, gt=0, title="SMTP タイムアウト（秒）")
    security: Literal["none", "starttls"] = Field(default="none", title="暗号化（STARTTLS）")
    username: str | None = Field(default=None, min_length=1, title="SMTP ログイン名")
    password: SecretRef | None = Field(default=None, title="SMTP パスワードの参照先")
    ca_file: str | None = Field(
        default=None,
        min_length=1,
        title="SMTP サーバ証明書の CA ファイル",
        description="STARTTLS で信頼する CA 証明書（PEM）。省略時は OS の証明書ストアを使います",
    )

    @model_validator(mode="after")
    def _login(self) -> Smtp:
        problems: list[tuple[Location, str]] = []
        if (self.username is None) != (self.password is None):
            problems.append(
                (
                    ("password" if self.password is None else "username",),
                    "ログイン名（username）とパスワードの参照先（password）は両方指定してください",
                )
            )
        if self.username is not None and self.security != "starttls":
            problems.append(
                (
                    ("security",),
                    "ログインするときは starttls を指定してください（パスワードを暗号化せずに送りません）",
                )
            )
        _raise_if(problems)
        return self


class Webhook(Strict):
    url: str = Field(pattern=URL, title="Webhook のアドレス")
    token: SecretRef | None = Field(default=None, title="Webhook トークンの参照先")
    timeout_seconds: float = Field(default=10, gt=0, title="Webhook タイムアウト（秒）")
    attempts: int = Field(default=4, ge=1, le=10, title="Webhook の試行回数")
    backoff_seconds: float = Field(default=1, ge=0, title="Webhook の再試行間隔（秒）")

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        if "@" in value.split("://", 1)[-1].split("/", 1)[0]:
            raise ValueError(
                "アドレスに認証情報（user:pass@）を書かないでください（トークンは token に"
                "参照先を指定します）"
            )
        return value


class Delivery(Strict):
    retries: int = Field(default=3, ge=0, le=20, title="再送回数")
    retry_delays_seconds: list[float] = Field(
        default=[5, 30, 120], min_length=1, title="再送間隔（秒）"
    )
    alarm_after_minutes: float = Field(default=30, gt=0, title="未送付の警報までの時間（分）")
    lease_seconds: float = Field(default=120, gt=0, title="送付処理の占有時間（秒）")


class ApprovalPolicy(Strict):
    max_failures: int = Field(default=5, ge=1, le=50, title="承認コードの誤りの上限（回）")
    window_minutes: float = Field(default=15, gt=0, title="誤りを数える期間（分）")
    lockout_minutes: float = Field(default=30, gt=0, title="回答を止める時間（分）")


class Escalation(Strict):
    minutes: float = Field(default=30, gt=0, title="督促までの時間（分）")
    clauses: dict[str, float] = Field(
        default_factory=dict,
        title="条項ごとの督促までの時間（分）",
        description="例: C1.2: 10（最初の報告は10分）",
    )
    drill_minutes: float = Field(default=2, gt=0, title="訓練での督促までの時間（分）")

    @field_validator("clauses")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for clause, minutes in value.items():
            if minutes <= 0:
                raise ValueError(f"{clause} の時間は 0 より大きくしてください")
        return value

    def interval(self, clause: str, drill: bool) -> float:
        return self.drill_minutes if drill else self.clauses.get(clause, self.minutes)

    def deputies_after(self, clause: str, drill: bool) -> float:
        """Minutes after which a step unanswered goes to the deputies (stage 2 of 回答待ちの督促)
        and a deputy may answer without the holder being registered absent."""
        return 2 * self.interval(clause, drill)


SQL_NAME = r"^[A-Za-z_\u3040-\u30ff\u4e00-\u9fff][A-Za-z0-9_\u3040-\u30ff\u4e00-\u9fff]*$"


class ResidentRegistry(Strict):
    """既存住基システムの住民データ: 入力された文に住民の氏名・住所が含まれていないかの確認に使います。"""

    url: SecretRef = Field(
        title="データベースの接続先（SQLAlchemy URL）の参照先",
        description="URL には認証情報が含まれるため、環境変数か Prefect Secret ブロックで指定します",
    )
    table: str = Field(pattern=SQL_NAME, title="住民の表の名前")
    name_column: str = Field(pattern=SQL_NAME, title="氏名の列")
    kana_column: str | None = Field(default=None, pattern=SQL_NAME, title="氏名カナの列")
    address_column: str = Field(pattern=SQL_NAME, title="住所の列")


TABLE_NAME = SQL_NAME[:-1] + r"(\." + SQL_NAME[1:-1] + r")?$"  # table or schema.table


class IntegrityColumns(Strict):
    """照合する列: 論理名（住民票コード、個人番号…）に対応する表の列の名前"""

    key: str = Field(pattern=SQL_NAME, title="住民票コードの列")
    number: str = Field(pattern=SQL_NAME, title="個人番号の列")
    name: str = Field(pattern=SQL_NAME, title="氏名の列")
    kana: str = Field(pattern=SQL_NAME, title="氏名カナの列")
    birth_date: str = Field(pattern=SQL_NAME, title="生年月日の列")
    sex: str = Field(pattern=SQL_NAME, title="性別の列")
    address: str = Field(pattern=SQL_NAME, title="住所の列")
    reason: str = Field(pattern=SQL_NAME, title="異動事由の列")
    moved_on: str = Field(pattern=SQL_NAME, title="異動年月日の列")


class IntegritySide(Strict):
    url: SecretRef = Field(
        title="データベースの接続先（SQLAlchemy URL）の参照先",
        description="SQLite か PostgreSQL。URL には認証情報が含まれるため、環境変数か Prefect Secret "
        "ブロックで指定します",
    )
    table: str = Field(pattern=TABLE_NAME, title="本人確認情報の表の名前")
    columns: IntegrityColumns | None = Field(default=None, title="列の対応（この側だけ異なる場合）")


class IntegrityCheck(Strict):
    """本人確認情報の整合性確認: CS の本人確認情報と既存住基システムを住民票コードで照合します。"""

    cs: IntegritySide = Field(title="CS（コミュニケーションサーバ）の本人確認情報")
    registry: IntegritySide = Field(title="既存住基システムの本人確認情報")
    columns: IntegrityColumns = Field(title="列の対応")
    normalise_width: bool = Field(default=False, title="全角・半角の違いを相違としない")
    ignore_trailing_spaces: bool = Field(default=False, title="末尾の空白の違いを相違としない")
    artifact_keys: int = Field(
        default=50,
        ge=0,
        le=1000,
        title="成果物に載せる住民票コードの数",
        description="成果物には一部を伏せて載せます。全件は相違一覧のファイルにあります",
    )


class Town(Strict):
    municipality: Municipality = Field(title="団体")
    sender: Sender = Field(title="発信者")
    document_prefix: str = Field(min_length=1, max_length=10, title="文書番号の記号")
    smtp: Smtp = Field(title="メール送信")
    delivery: Delivery = Field(default_factory=Delivery, title="送付の再試行")
    approval: ApprovalPolicy = Field(default_factory=ApprovalPolicy, title="承認コードの誤り")
    escalation: Escalation = Field(default_factory=Escalation, title="回答待ちの督促")
    residents: ResidentRegistry | None = Field(
        default=None,
        title="既存住基システムの住民データ",
        description="指定すると、回答の文に住民の氏名・住所があれば受け付けません",
    )
    integrity: IntegrityCheck | None = Field(
        default=None,
        title="本人確認情報の整合性確認",
        description="指定すると、運用再開の前に CS と既存住基システムを自動で照合します"
        "（指定しない場合は担当者が確認結果を入力します）",
    )
    access_logs: AccessLogAnalysis | None = Field(
        default=None,
        title="アクセスログの解析",
        description="指定すると、第3章 手順5 で収集したアクセスログを解析し、所見を示します",
    )
    ui_url: str = Field(pattern=URL, title="Prefect UI のアドレス")
    notation: dict[str, str] = Field(
        default_factory=dict,
        title="表記",
        description="文書の定型文の表記の置き換え（例: 及び: および）。職員の入力した文には適用しません",
    )

    @field_validator("notation")
    @classmethod
    def _check_notation(cls, value: dict[str, str]) -> dict[str, str]:
        for before, after in value.items():
            if not before.strip():
                raise ValueError("置き換える前の表記が空です")
            if any(c in before + after for c in "{}%#"):
                raise ValueError(
                    f"「{before}: {after}」に使用できない文字（{{ }} % #）が含まれています"
                )
        return value


# --- roster.yaml -------------------------------------------------------------------------


class Person(Strict):
    id: str = Field(pattern=PERSON_ID, title="職員ID")
    name: str = Field(min_length=1, max_length=40, title="氏名")
    department: str = Field(min_length=1, max_length=40, title="所属")
    email: Email
    charset: Charset = Field(default=Charset.UTF8, title="メールの文字コード")
    code_hash: str | None = Field(default=None, title="承認コードのハッシュ")

    @property
    def label(self) -> str:
        """What forms show: `多賀 一郎（住民課）`."""
        return f"{self.name}（{self.department}）"

    @field_validator("code_hash")
    @classmethod
    def _check_hash(cls, value: str | None) -> str | None:
        if value is not None and not is_code_hash(value):
            raise ValueError(
                "形式が正しくありません（承認コードそのものではなく、`jukinet set-code 職員ID` が"
                "書き込むハッシュを指定します）。`jukinet set-code` で設定し直してください"
            )
        return value


class RoleAssignment(Strict):
    holders: list[str] = Field(min_length=1, title="担当者")
    deputies: list[str] = Field(default_factory=list, title="代理者（順位順）")


ANSWERING_ROLES = (Role.OPERATOR, Role.SEC_OFFICER, Role.SEC_ADMIN, Role.CHIEF)
REQUIRED_ROLES = tuple(r for r in Role if r is not Role.STAFF)


class Roster(Strict):
    people: list[Person] = Field(min_length=1, title="職員")
    roles: dict[Role, RoleAssignment] = Field(title="役割")

    @model_validator(mode="after")
    def _cross_check(self) -> Roster:
        problems: list[tuple[Location, str]] = []
        first_by_id: dict[str, int] = {}
        first_by_label: dict[str, int] = {}
        for i, p in enumerate(self.people):
            if p.id in first_by_id:
                problems.append(
                    (
                        ("people", i, "id"),
                        f"職員ID「{p.id}」が {first_by_id[p.id] + 1}件目と重複しています"
                        "（職員ID は職員ごとに異なる値にしてください）",
                    )
                )
            else:
                first_by_id[p.id] = i
            if p.label in first_by_label:
                problems.append(
                    (
                        ("people", i, "department"),
                        f"氏名と所属の組「{p.label}」が {first_by_label[p.label] + 1}件目と同じです"
                        "（フォームで区別できません。所属を書き分けてください）",
                    )
                )
            else:
                first_by_label[p.label] = i
        for r in REQUIRED_ROLES:
            if r not in self.roles:
                problems.append(
                    (
                        ("roles", r.value),
                        "割り当てがありません（担当者 holders を指定してください）",
                    )
                )
        by_id = {pid: self.people[i] for pid, i in first_by_id.items()}
        needs_code: dict[str, list[str]] = {}
        for role, assignment in self.roles.items():
            for kind in ("holders", "deputies"):
                for j, pid in enumerate(getattr(assignment, kind)):
                    if pid not in by_id:
                        problems.append(
                            (
                                ("roles", role.value, kind, j),
                                f"職員（people）に登録されていない職員ID「{pid}」が指定されています",
                            )
                        )
                    elif role in ANSWERING_ROLES and by_id[pid].code_hash is None:
                        names = needs_code.setdefault(pid, [])
                        if role.value not in names:
                            names.append(role.value)
        for i, p in enumerate(self.people):
            if p.id in needs_code and first_by_id.get(p.id) == i:
                roles = "、".join(f"{r}（{Role(r).label}）" for r in needs_code[p.id])
                problems.append(
                    (
                        ("people", i, "code_hash"),
                        f"承認コードが設定されていません（回答する役割 {roles} に割り当てられています）。"
                        f"`jukinet set-code {p.id}` で設定してください",
                    )
                )
        _raise_if(problems)
        return self

    def person(self, person_id: str) -> Person:
        return next(p for p in self.people if p.id == person_id)

    def by_label(self, label: str) -> Person | None:
        return next((p for p in self.people if p.label == label), None)

    def holders(self, role: Role) -> list[Person]:
        return [self.person(i) for i in self.roles[role].holders]

    def deputies(self, role: Role) -> list[Person]:
        return [self.person(i) for i in self.roles[role].deputies]

    def ahead_of(self, role: Role, person: Person) -> list[Person]:
        """Who comes before a deputy: the holders, then the deputies of earlier rank."""
        assignment = self.roles[role]
        rank = assignment.deputies.index(person.id)
        return [self.person(i) for i in [*assignment.holders, *assignment.deputies[:rank]]]

    def may_answer(self, role: Role, person: Person) -> str | None:
        """Why `person` may answer for `role`: "担当者", "代理者（第1順位）", or None."""
        assignment = self.roles[role]
        if person.id in assignment.holders:
            return "担当者"
        if person.id in assignment.deputies:
            return f"代理者（第{assignment.deputies.index(person.id) + 1}順位）"
        return None


# --- contacts.yaml (緊急時連絡網, C2.1) ------------------------------------------------------


class AfterHours(Strict):
    name: str = Field(min_length=1, title="時間外の連絡先（担当）")
    phone: str = Field(pattern=PHONE, title="時間外の電話番号")
    email: Email | None = Field(default=None, title="時間外のメールアドレス")


class OfficeHours(Strict):
    days: str = Field(default="平日", min_length=1, title="執務日")
    start: str = Field(pattern=HHMM, title="開始時刻")
    end: str = Field(pattern=HHMM, title="終了時刻")

    @model_validator(mode="after")
    def _order(self) -> OfficeHours:
        if self.start >= self.end:
            _raise_if(
                [
                    (
                        ("start",),
                        f"開始 {self.start} が終了 {self.end} と同じか後になっています"
                        "（開始は終了より前の時刻にしてください）",
                    )
                ]
            )
        return self

    def __str__(self) -> str:
        return f"{self.days} {self.start}〜{self.end}"


class Contact(Strict):
    organization: str = Field(min_length=1, title="機関名")
    department: str = Field(min_length=1, title="担当部署")
    person: str = Field(min_length=1, title="担当")
    email: Email
    phone: str = Field(pattern=PHONE, title="電話番号")
    office_hours: OfficeHours = Field(title="執務時間")
    after_hours: AfterHours = Field(title="時間外の連絡先")
    channels: list[Channel] = Field(
        default_factory=lambda: [Channel.EMAIL], min_length=1, title="送付方法"
    )
    charset: Charset = Field(default=Charset.UTF8, title="メールの文字コード")
    webhook: Webhook | None = Field(default=None, title="Webhook")

    @model_validator(mode="after")
    def _channels(self) -> Contact:
        problems: list[tuple[Location, str]] = []
        if len(set(self.channels)) != len(self.channels):
            problems.append((("channels",), "同じ送付方法が重複しています"))
        if Channel.WEBHOOK in self.channels and self.webhook is None:
            problems.append(
                (("webhook",), "送付方法に webhook がありますが、Webhook の設定（url）がありません")
            )
        if self.webhook is not None and Channel.WEBHOOK not in self.channels:
            problems.append(
                (
                    ("channels",),
                    "Webhook が設定されていますが、送付方法（channels）に webhook がありません",
                )
            )
        _raise_if(problems)
        return self

    @property
    def addressee(self) -> str:
        """Recipient line of a letter: `滋賀県 総合企画部市町振興課 御中`."""
        return f"{self.organization} {self.department}"


class Contacts(Strict):
    bodies: dict[Body, list[Contact]] = Field(title="連絡先")
    receivers: list[Contact] = Field(
        default_factory=list,
        title="本人確認情報の提供先機関",
        description="全国センターから本人確認情報の提供を受けた機関等（第3章 手順2④）",
    )

    @model_validator(mode="after")
    def _unique_receivers(self) -> Contacts:
        first: dict[str, int] = {}
        problems: list[tuple[Location, str]] = []
        for i, c in enumerate(self.receivers):
            if c.organization in first:
                problems.append(
                    (
                        ("receivers", i, "organization"),
                        f"機関名「{c.organization}」が {first[c.organization] + 1}件目と重複しています"
                        "（提供先機関は機関名で選ぶため、機関ごとに一つにしてください）",
                    )
                )
            else:
                first[c.organization] = i
        _raise_if(problems)
        return self

    def receiver(self, organization: str) -> tuple[int, Contact] | None:
        for i, c in enumerate(self.receivers):
            if c.organization == organization:
                return i, c
        return None

    @model_validator(mode="after")
    def _all_bodies(self) -> Contacts:
        _raise_if(
            [
                (("bodies", b.value), "緊急時連絡網（C2.1）の連絡先がありません（1件以上必要です）")
                for b in Body
                if not self.bodies.get(b)
            ]
        )
        return self


# --- drill.yaml --------------------------------------------------------------------------


class DrillRecipient(Strict):
    name: str = Field(min_length=1, title="氏名")
    email: Email


class Drill(Strict):
    recipients: list[DrillRecipient] = Field(min_length=1, title="訓練時の宛先")


def is_email(value: str) -> bool:
    return re.fullmatch(EMAIL, value) is not None
