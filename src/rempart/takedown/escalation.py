"""When a notice's deadline lapses with its copies still online, who is asked next: host →
CDN → network → registrar → search delisting → regulator (a complaint to Arcom under DSA
Art. 53), each step citing the notices before it.

Pure: values in, a decision out. Must not touch the store, the network or the clock.

    decide(lapsed, now=now, copy_status={12: "online"}, notified={"abuse@cdn.example"})
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from rempart.takedown.notices import NoticeKind
from rempart.takedown.tracking import STILL_ONLINE

__all__ = ["ARCOM", "ORDER", "Escalation", "Lapsed", "Step", "citation", "decide"]

ORDER = ("host", "messaging", "cdn", "network", "registrar", "search", "regulator")
_RANK = {role: rank for rank, role in enumerate(ORDER)}
_RANK["messaging"] = _RANK["host"]
# Notices whose recipient can take a copy down, and which escalate when ignored.
_ESCALATING = frozenset({NoticeKind.DSA.value, NoticeKind.ABUSE.value})
# Where a notice stands when its lapse can still be escalated: left, with no removal.
_OPEN = frozenset({"sent", "submitted", "acknowledged", "no-answer", "refused"})


@dataclass(frozen=True, slots=True)
class Step:
    """One recipient of the chain `notify plan` resolved (kept in each notice's provenance)."""

    name: str
    role: str
    channel: str
    address: str
    platform: str | None = None

    @property
    def key(self) -> str:
        return (self.address or self.name).lower()

    @classmethod
    def from_json(cls, value: Mapping[str, object]) -> Step:
        return cls(
            name=str(value.get("name") or ""),
            role=str(value.get("role") or ""),
            channel=str(value.get("channel") or "manual"),
            address=str(value.get("address") or ""),
            platform=str(value["platform"]) if value.get("platform") else None,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role,
            "channel": self.channel,
            "address": self.address,
            "platform": self.platform,
        }


# The French Digital Services Coordinator, which takes complaints under DSA Art. 53. Its
# complaint form is reached from its site; the caseworker submits it and records the ticket.
ARCOM = Step(
    name="Arcom",
    role="regulator",
    channel="webform",
    address="https://www.arcom.fr/",
    platform="arcom",
)


@dataclass(frozen=True, slots=True)
class Lapsed:
    """A notice that left, as escalation sees it."""

    id: int
    kind: str
    role: str
    status: str
    recipient_name: str
    recipient_address: str
    sent_at: datetime | None
    due_at: datetime | None
    message_id: str | None
    reference: str | None
    chain: tuple[Step, ...]
    findings: tuple[int, ...]
    earlier: tuple[str, ...] = ()  # what this notice itself cited


@dataclass(frozen=True, slots=True)
class Escalation:
    """The next step for a lapsed notice: to whom, which kind of notice, which copies (those
    still online), and the citations of every notice before it."""

    follows: int
    step: Step
    kind: NoticeKind
    findings: tuple[int, ...]
    cites: tuple[str, ...]


def citation(lapsed: Lapsed) -> str:
    """How a later notice cites an earlier one: number, date sent, recipient, Message-ID or
    ticket. Numbers, dates and identifiers only, so it reads the same in French and English."""
    parts = [f"n° {lapsed.id}"]
    if lapsed.sent_at is not None:
        parts.append(lapsed.sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    who = lapsed.recipient_name
    if lapsed.recipient_address and lapsed.recipient_address != who:
        who = f"{who} <{lapsed.recipient_address}>"
    parts.append(who)
    if lapsed.message_id:
        parts.append(f"Message-ID {lapsed.message_id}")
    if lapsed.reference:
        parts.append(f"ref. {lapsed.reference}")
    return " — ".join(parts)


def _kind(step: Step) -> NoticeKind:
    if step.role == "regulator":
        return NoticeKind.COMPLAINT
    if step.role in ("host", "messaging"):
        return NoticeKind.DSA
    if step.role == "search":
        return NoticeKind.DELISTING
    return NoticeKind.ABUSE


def decide(
    lapsed: Lapsed,
    *,
    now: datetime,
    copy_status: Mapping[int, str | None],
    notified: Collection[str],
    escalated: bool = False,
) -> Escalation | None:
    """The next step for `lapsed`, or None: not past due, answered by a removal, already
    escalated, no copy proven still online by its last re-check (`copy_status`: each
    finding's last re-check status), or nobody left to ask. A recipient already holding a
    notice about these copies (`notified`: addresses or names, lower case) is skipped."""
    if escalated or lapsed.kind not in _ESCALATING or lapsed.status not in _OPEN:
        return None
    if lapsed.due_at is None or lapsed.due_at > now:
        return None
    online = tuple(f for f in lapsed.findings if copy_status.get(f) in STILL_ONLINE)
    if not online:
        return None
    rank = _RANK.get(lapsed.role, 0)
    asked = {k.lower() for k in notified} | {
        (lapsed.recipient_address or lapsed.recipient_name).lower()
    }
    cites = (*lapsed.earlier, citation(lapsed))
    for step in lapsed.chain:
        if _RANK.get(step.role, -1) > rank and step.key not in asked and step.channel != "manual":
            return Escalation(lapsed.id, step, _kind(step), online, cites)
    if rank < _RANK["regulator"] and ARCOM.key not in asked:
        return Escalation(lapsed.id, ARCOM, NoticeKind.COMPLAINT, online, cites)
    return None
