"""When a deputy may answer in the holder's place (C2/C3 approvals; issue 5).

A deputy answers only when everyone ahead of them (the role's holders, then deputies of earlier
rank) is registered absent (不在の登録), or when the step has waited past the time at which
回答待ちの督促 turns to the deputies. The record keeps the ground either way.

>>> standing(roster, Role.OPERATOR, deputy, absent={"T001"}, waited=3, after=20)
Standing(allowed=True, ground='担当者等（犬上 一郎）が不在として登録されているため')
"""

from __future__ import annotations

from dataclasses import dataclass

from jukinet.config.models import Person, Roster
from jukinet.plan import Role


@dataclass(frozen=True)
class Standing:
    allowed: bool
    ground: str  # why the deputy may answer (recorded), or why not (shown in the form)


def standing(
    roster: Roster, role: Role, deputy: Person, absent: set[str], waited: float, after: float
) -> Standing:
    """`waited` and `after` in minutes since the step was asked."""
    ahead = roster.ahead_of(role, deputy)
    present = [p for p in ahead if p.id not in absent]
    names = "、".join(p.name for p in ahead)
    if not present:
        return Standing(True, f"担当者等（{names}）が不在として登録されているため")
    if waited >= after:
        return Standing(True, f"回答待ちが {after:g} 分を超えたため")
    waiting = "、".join(p.name for p in present)
    return Standing(
        False,
        f"{deputy.label} は{role.label}の{roster.may_answer(role, deputy)}です。"
        f"{waiting} が不在として登録されているか、問いから {after:g} 分が過ぎるまでは"
        "代わりに回答できません（不在は「不在の登録」から登録します）",
    )
