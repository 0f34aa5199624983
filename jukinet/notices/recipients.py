"""Who a notice is addressed to: a post in the roster or a body of the 緊急時連絡網 (C2.1).

In a drill the addressee line stays as it would be, but the mail goes to the drill recipients only.
"""

from __future__ import annotations

from dataclasses import dataclass

from jukinet.config.loader import Config
from jukinet.config.models import Channel, Charset, Contact, Person, Webhook
from jukinet.plan import Body, Role


@dataclass(frozen=True)
class Recipient:
    id: str  # stable part of the notice key, e.g. "R-CHIEF:ryozen" or "shiga:0"
    name: str  # shown in records: "滋賀県（総合企画部 市町振興課）"
    addressee: str  # the letter's recipient line
    addresses: tuple[str, ...]
    channels: tuple[Channel, ...] = (Channel.EMAIL,)
    charset: Charset = Charset.UTF8
    webhook: Webhook | None = None


def _from_contact(id: str, name: str, c: Contact) -> Recipient:
    return Recipient(
        id=id,
        name=name,
        addressee=f"{c.organization} {c.department} {c.person} 様",
        addresses=(c.email,),
        channels=tuple(c.channels),
        charset=c.charset,
        webhook=c.webhook,
    )


def _staff(role: Role, person: Person, title: str) -> Recipient:
    return Recipient(
        id=f"{role.value}:{person.id}",
        name=f"{title} {person.name}",
        addressee=f"{title} {person.department} {person.name} 様",
        addresses=(person.email,),
        charset=person.charset,
    )


def for_role(config: Config, role: Role) -> list[Recipient]:
    """The holders of a role (deputies are reminded by the escalation flow, not copied here)."""
    return [_staff(role, p, role.label) for p in config.roster.holders(role)]


def for_body(config: Config, body: Body) -> list[Recipient]:
    return [
        _from_contact(f"{body.value}:{i}", f"{body.label}（{c.organization} {c.department}）", c)
        for i, c in enumerate(config.contacts.bodies[body])
    ]


def for_receiver(config: Config, organization: str) -> list[Recipient]:
    """A body that received 本人確認情報 from 全国センター (C3.S2.4), by its registered name."""
    found = config.contacts.receiver(organization)
    if found is None:
        return []
    i, c = found
    return [
        _from_contact(
            f"receivers:{i}", f"本人確認情報の提供先（{c.organization} {c.department}）", c
        )
    ]


def drill_addresses(config: Config) -> tuple[str, ...]:
    return tuple(r.email for r in config.drill.recipients)


def contact_of(config: Config, recipient_id: str) -> Contact | None:
    """The contact a recipient id (`shiga:0`, `receivers:1`) stands for, if it still exists."""
    kind, _, index = recipient_id.partition(":")
    if not index.isdigit():
        return None
    if kind == "receivers":
        contacts = config.contacts.receivers
    elif kind in {b.value for b in Body}:
        contacts = config.contacts.bodies.get(Body(kind), [])
    else:
        return None
    i = int(index)
    return contacts[i] if i < len(contacts) else None


def webhook_of(config: Config, recipient_id: str) -> Webhook | None:
    contact = contact_of(config, recipient_id)
    return None if contact is None else contact.webhook


def for_deputies(config: Config, role: Role) -> list[Recipient]:
    """The registered deputies of a role, in order (reminded when the holders do not answer)."""
    return [_staff(role, p, f"{role.label}代理者") for p in config.roster.deputies(role)]
