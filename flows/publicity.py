"""D6 広報対応: the homepage notice and the press release go out only once the official the
meeting named approves them (both chapters).

Approval contract: the named role (a holder or deputy with the right code) reads the texts as
they would go out and answers 承認する or 承認しない with a reason; either answer is recorded under
the D6 clause, and only approved texts are sent to 企画課, with the approval line on them.
"""

from __future__ import annotations

from flows.human import Answered, ask
from jukinet.forms.chapter2 import MeetingDecisions, PublicityApproval, publicity_problems
from jukinet.store.models import Incident
from tasks.meeting_decisions import APPROVERS


def approve_publicity(
    incident: Incident, prefix: str, result: MeetingDecisions, preview: str
) -> Answered[PublicityApproval]:
    return ask(
        incident,
        f"{prefix}.D6",
        f"{prefix}.D6",
        APPROVERS[result.d6_approver],
        PublicityApproval,
        question="セキュリティ会議が決定した広報文（下の文書）を確認し、承認するかどうかを入力してください。"
        "承認すると、承認の記載を付して企画課へ送付します。",
        why="セキュリティ会議の決定事項 D6 広報対応。ホームページ告知文と記者発表資料は、"
        "会議が指名した者の承認を得てから公表のために送付します。",
        checks=publicity_problems,
        exhibit=preview,
    )
