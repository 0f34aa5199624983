"""Small helpers the chapter tasks share: sender lines, the incident's declaration, recipients."""

from __future__ import annotations

from datetime import datetime

from flows.runtime import runtime
from jukinet.forms.chapter1 import DiscoveryReport
from jukinet.notices import recipients
from jukinet.notices.recipients import Recipient
from jukinet.plan import Body, Role
from jukinet.store.models import Incident


def discovered_at(incident: Incident) -> datetime:
    return DiscoveryReport.model_validate(incident.declaration).discovered


def staff_sender(role: Role, answerer: str) -> str:
    """`多賀町 住基ネット担当者 犬上 一郎（住民課）`: the official who acts under the clause."""
    return f"{runtime().config.town.municipality.name} {role.label} {answerer}"


def town_sender() -> str:
    """`多賀町長`: formal letters to outside bodies."""
    return runtime().config.town.sender.title


def to_roles(*roles: Role) -> list[Recipient]:
    """The holders of the roles, each person once (under the first role named) even where one
    person holds several of them, as in a small town's roster."""
    seen: dict[tuple[str, ...], Recipient] = {}
    for role in roles:
        for r in recipients.for_role(runtime().config, role):
            seen.setdefault(r.addresses, r)
    return list(seen.values())


def to_bodies(*bodies: Body) -> list[Recipient]:
    return [r for b in bodies for r in recipients.for_body(runtime().config, b)]
