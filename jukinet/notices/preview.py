"""Documents shown, never sent: the register as a table, one document rendered for a recipient,
and a check that every document renders for every recipient the register allows.

    print(register_table())
    recipient = recipients_for(config, DOCUMENTS["help_request"])[0]
    print(preview_text(env, config, DOCUMENTS["help_request"], recipient))
    report = check_templates(env, config, templates_dir)   # report.problems, report.summary

Nothing here writes to the store, the outbox or the document number series: the number reads
（送付時に採番）.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, nodes
from sqlalchemy import inspect, select

from jukinet.config.loader import Config
from jukinet.notices.documents import DOCUMENTS, Addressee, Document, Style
from jukinet.notices.outbox import CHANNEL_TITLES, DRILL_MARK, NoticeRequest, render_document
from jukinet.notices.recipients import Recipient, for_body, for_receiver, for_role
from jukinet.notices.samples import ISSUED, sample_data, sample_incident
from jukinet.plan import Body, Role
from jukinet.store.models import Incident, Notice
from jukinet.store.store import Store
from jukinet.wareki import to_wareki, to_wareki_datetime

PREVIEW_NUMBER = "（送付時に採番）"
RECEIVERS_TITLE = "本人確認情報の提供先"
STATUS_TITLES = {
    "pending": "送付待ち",
    "sending": "送付中",
    "sent": "送付済み",
    "failed": "送付失敗（再送待ち）",
}
SEAL = "（公印省略）"
# A sentence runs to its 。 (and the brackets it closes); it is in です・ます when its verb is,
# a parenthesis such as （計画書 第3章 手順1③） between the verb and the 。 aside.
SENTENCE = re.compile(r"[^。\n]*。[）」』]*")
POLITE = re.compile(
    r"(?:ます|です|ました|でした|ません|ましょう|ください)(?:（[^（）\n]*）)?[）」』]*。[）」』]*$"
)
_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def addressee_title(addressee: Addressee) -> str:
    """`Role.MAYOR` → 町長, `Body.PREFECTURE` → 滋賀県, `"receivers"` → 本人確認情報の提供先."""
    return addressee.label if isinstance(addressee, Role | Body) else RECEIVERS_TITLE


def register_table(documents: Iterable[Document] = DOCUMENTS.values()) -> str:
    """The register as a Markdown table (readable in a terminal, pasted as is into docs/)."""
    rows = [("ID", "件名", "条項", "発信", "宛先", "文体", "承認要否", "送付方法")]
    rows += [
        (
            d.id,
            d.subject,
            "、".join(d.clauses),
            d.sender_title,
            "、".join(addressee_title(a) for a in d.recipients),
            d.style.value + ("（案）" if d.draft else ""),
            "要" if d.approval else "不要",
            d.channels,
        )
        for d in documents
    ]
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)


def recipients_for(config: Config, document: Document) -> list[Recipient]:
    """Every recipient the register allows for the document, as the configuration names them."""
    found: list[Recipient] = []
    for addressee in document.recipients:
        if isinstance(addressee, Role):
            found += for_role(config, addressee)
        elif isinstance(addressee, Body):
            found += for_body(config, addressee)
        else:
            for contact in config.contacts.receivers:
                found += for_receiver(config, contact.organization)
    return found


def sample_sender(config: Config, document: Document) -> str:
    """The sender line a task would write, with the role's first holder as the official."""
    town = config.town
    if isinstance(document.sender, Role):
        holders = config.roster.holders(document.sender)
        official = holders[0].label if holders else "（担当者）"
        return f"{town.municipality.name} {document.sender.label} {official}"
    if document.sender == "town":
        return town.sender.title
    return f"{town.municipality.name} 緊急時対応システム"


def incident_as(incident: Incident, **values: Any) -> Incident:
    """A detached copy of a stored incident with some fields changed (e.g. shown as a drill)."""
    columns = {a.key: getattr(incident, a.key) for a in inspect(Incident).column_attrs}
    return Incident(**{**columns, **values})


def render_sample(
    env: Environment,
    config: Config,
    document: Document,
    recipient: Recipient,
    *,
    incident: Incident | None = None,
    data: dict[str, Any] | None = None,
    clause: str | None = None,
    issued: datetime = ISSUED,
) -> str:
    """The document's text as the outbox would render it, numbered （送付時に採番）."""
    clause = clause or document.clauses[0]
    req = NoticeRequest(
        clause,
        document,
        recipient,
        sample_sender(config, document),
        sample_data(document.id, clause) if data is None else data,
    )
    return render_document(
        env,
        config.town,
        incident or sample_incident(),
        req,
        doc_number=PREVIEW_NUMBER,
        issued=issued,
    )


def _channels(config: Config, incident: Incident, recipient: Recipient) -> str:
    if incident.drill:
        return (
            "メール（訓練: 訓練時の宛先 "
            + "、".join(r.email for r in config.drill.recipients)
            + "）"
        )
    return "、".join(CHANNEL_TITLES[c.value] for c in recipient.channels)


def preview_text(
    env: Environment,
    config: Config,
    document: Document,
    recipient: Recipient,
    *,
    incident: Incident | None = None,
    issued: datetime = ISSUED,
) -> str:
    """The document as the archive would keep it, under a line saying it was not sent."""
    incident = incident or sample_incident()
    body = render_sample(env, config, document, recipient, incident=incident, issued=issued)
    subject = (DRILL_MARK if incident.drill else "") + document.subject
    return (
        "【プレビュー】送付していません。文書番号は送付時に採番します。\n"
        f"条項: {document.clauses[0]}　送付方法: {_channels(config, incident, recipient)}\n\n"
        f"件名: {subject}\n宛先: {recipient.name}\n文書番号: {PREVIEW_NUMBER}\n\n{body}"
    )


def incident_numbers(store: Store) -> list[str]:
    """Every incident number of the store's municipality, oldest first."""
    with store.session() as s:
        return list(
            s.execute(
                select(Incident.number)
                .where(Incident.municipality_code == store.municipality)
                .order_by(Incident.id)
            ).scalars()
        )


def stored_notices(
    store: Store, incident: Incident, document: Document, recipient_id: str | None = None
) -> list[Notice]:
    """The outbox's rows of the document for the incident (one recipient's, if named)."""
    return [
        n
        for n in store.notices(incident.id)
        if n.document == document.id and recipient_id in (None, n.recipient_id)
    ]


def stored_text(notices: list[Notice]) -> str:
    """Documents already in the outbox, one text per document with each channel's status."""
    by_document: dict[str, list[Notice]] = {}
    for n in notices:
        by_document.setdefault(n.document_key, []).append(n)
    texts = []
    for rows in by_document.values():
        first = rows[0]
        status = "、".join(
            f"{CHANNEL_TITLES.get(n.channel, n.channel)} {STATUS_TITLES.get(n.status, n.status)}"
            + (f"（{to_wareki_datetime(n.sent_at)}）" if n.sent_at else "")
            for n in rows
        )
        texts.append(
            "【送付の記録】この文書は送付の記録にあります。記録された本文を表示します。\n"
            f"条項: {first.clause}　状態: {status}\n\n"
            f"件名: {first.subject}\n宛先: {first.recipient}\n文書番号: {first.doc_number}\n\n"
            f"{first.body}"
        )
    return "\n\n".join(texts)


# --- the check of every template ------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    document: str
    message: str
    recipient: str | None = None  # None: the template itself, whoever it goes to
    drill: bool = False

    def __str__(self) -> str:
        if self.recipient is None:
            return f"文書 {self.document}: {self.message}"
        mode = "訓練" if self.drill else "通常"
        return f"文書 {self.document}（宛先 {self.recipient}、{mode}）: {self.message}"


@dataclass
class CheckReport:
    documents: int = 0
    recipients: int = 0  # (document, recipient) pairs
    renders: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        counted = (
            f"{self.documents} 文書 × 宛先 {self.recipients} 件"
            f"（条項ごと、通常・訓練の計 {self.renders} 通）"
        )
        if self.ok:
            return f"{counted}を確認しました。問題はありません。"
        return f"{counted}を確認しました。問題が {len(self.problems)} 件あります。"


def own_text(env: Environment, document: Document) -> str:
    """The wording of the document's template and what it includes, without the letter it
    extends and without template code: the text that is the document's own in every branch."""
    assert env.loader is not None
    names, seen, parts = [document.template], set(), []
    while names:
        name = names.pop()
        if name in seen:
            continue
        seen.add(name)
        source = env.loader.get_source(env, name)[0]
        names += [
            n.template.value
            for n in env.parse(source).find_all(nodes.Include)
            if isinstance(n.template, nodes.Const)
        ]
        parts.append(_CODE.sub("", source))
    return "\n".join(parts)


def sentences(env: Environment, document: Document) -> tuple[list[str], list[str]]:
    """(polite, plain): the document's own sentences in です・ます and in である."""
    found = [s.strip() for s in SENTENCE.findall(own_text(env, document))]
    return [s for s in found if POLITE.search(s)], [s for s in found if not POLITE.search(s)]


def style_problems(env: Environment, document: Document) -> list[Problem]:
    """A です・ます document has no sentence of its own in である and, if it has any sentence
    at all, one in です・ます; a である document has no sentence in です・ます."""
    polite, plain = sentences(env, document)
    if document.style is Style.RECORD:
        return [
            Problem(document.id, f"である体の文書に、です・ます体の文があります: {s}")
            for s in polite
        ]
    problems = [
        Problem(document.id, f"です・ます体の文書に、である体の文があります: {s}") for s in plain
    ]
    if plain and not polite:
        problems.append(
            Problem(
                document.id,
                "です・ます体の文書ですが、本文に「…ます。」「…です。」で終わる文がありません",
            )
        )
    return problems


def letter_problems(
    config: Config, document: Document, recipient: Recipient, text: str, data: dict[str, Any]
) -> list[str]:
    """What every rendered document must show; empty when it does."""
    lines = text.splitlines()
    problems = []
    if document.subject not in lines:
        problems.append(f"件名の行「{document.subject}」がありません")
    if recipient.addressee not in lines:
        problems.append(f"宛先の行「{recipient.addressee}」がありません")
    if to_wareki(ISSUED) not in lines:
        problems.append(f"和暦の日付「{to_wareki(ISSUED)}」がありません")
    if PREVIEW_NUMBER not in lines:
        problems.append("文書番号の行がありません")
    seal = config.town.sender.omit_seal and not document.draft
    if seal and SEAL not in text:
        problems.append(f"{SEAL}がありません（設定で公印省略とし、案ではない文書）")
    if not seal and SEAL in text:
        problems.append(f"{SEAL}は記載しない設定または案の文書ですが、記載されています")
    if document.approval:
        approval = data["approval"]
        line = f"{approval['by']}が{to_wareki_datetime(approval['at'])}に承認"
        if line not in text:
            problems.append(f"承認の行（{line}…）がありません")
    elif document.draft and "【案】" not in text:
        problems.append("案の文書ですが「【案】」の表示がありません")
    return problems


def check_templates(env: Environment, config: Config, templates_dir: Path) -> CheckReport:
    """Render every document of the register for every recipient it allows, under each of its
    clauses, normally and as a drill, with sample data; check the letter and the style."""
    report = CheckReport(documents=len(DOCUMENTS))
    registered = {d.template for d in DOCUMENTS.values()}
    for path in sorted(templates_dir.glob("*.j2")):
        if not path.name.startswith("_") and path.name not in registered:
            report.problems.append(Problem(path.name, "登録簿にない文書のテンプレートです"))
    for document in DOCUMENTS.values():
        if not (templates_dir / document.template).exists():
            report.problems.append(
                Problem(document.id, f"テンプレート {document.template} がありません")
            )
            continue
        report.problems += style_problems(env, document)
        if not any(sentences(env, document)):
            report.notes.append(
                f"注: 文書 {document.id} は本文に定型の文がなく（項目と入力された文のみ）、"
                "文体は判定していません。"
            )
        recipients = recipients_for(config, document)
        if not recipients:  # e.g. no 本人確認情報の提供先 registered: the template is still checked
            recipients = [_stand_in(document)]
            report.notes.append(
                f"注: 文書 {document.id} は設定に宛先がないため、見本の宛先で確認しました。"
            )
        report.recipients += len(recipients)
        for recipient in recipients:
            for clause in document.clauses:
                for drill in (False, True):
                    report.renders += 1
                    report.problems += _check_one(env, config, document, recipient, clause, drill)
    return report


def _stand_in(document: Document) -> Recipient:
    title = "、".join(addressee_title(a) for a in document.recipients)
    kind = str(document.recipients[0])
    return Recipient(id=f"{kind}:見本", name=title, addressee=f"{title} 御中", addresses=())


def _check_one(
    env: Environment,
    config: Config,
    document: Document,
    recipient: Recipient,
    clause: str,
    drill: bool,
) -> list[Problem]:
    data = sample_data(document.id, clause)
    try:
        text = render_sample(
            env,
            config,
            document,
            recipient,
            incident=sample_incident(drill),
            data=data,
            clause=clause,
        )
    except Exception as exc:  # any failure to render is a finding, named with its type
        return [
            Problem(
                document.id,
                f"文書を作成できません（{clause}）: {type(exc).__name__}: {exc}",
                recipient.id,
                drill,
            )
        ]
    messages = letter_problems(config, document, recipient, text, data)
    if drill != text.lstrip().startswith("【訓練】"):
        messages.append("訓練の表示が正しくありません")
    if f"（{clause}）" not in text:
        messages.append(f"根拠の条項（{clause}）がありません")
    return [Problem(document.id, m, recipient.id, drill) for m in messages]
