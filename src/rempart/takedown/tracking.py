"""Tracking a notice and each copy until it is gone: deadlines per legal basis and platform,
the state of a copy's URL from its notices and re-checks, and time to removal.

Pure: values in, values out. Must not touch the store or the clock (callers pass times in).

    deadline_for(NoticeKind.DSA, take_it_down=True, response_time="24h")   # 24 h: shorter
    url_state(["sent"], "removed")                                          # "removed"
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from rempart.errors import InputError
from rempart.i18n import N_
from rempart.takedown.notices import DSA_TARGET, TAKE_IT_DOWN_DEADLINE, NoticeKind

__all__ = [
    "DSA_TARGET_ENV",
    "LEFT",
    "STILL_ONLINE",
    "URL_STATES",
    "deadline_for",
    "dsa_target",
    "parse_duration",
    "stored_deadline",
    "time_to_removal",
    "url_state",
]

# Notice statuses once it has left (sent by e-mail or submitted through a form).
LEFT = frozenset(
    {
        "sent",
        "submitted",
        "uncertain",
        "acknowledged",
        "no-answer",
        "removed",
        "disabled",
        "refused",
    }
)
# A re-check that leaves the copy in place (changed: another picture at the address, or the
# page still there; unreachable: not proven gone). Escalation goes on for these.
STILL_ONLINE = frozenset({"online", "changed", "unreachable"})

# The state of a copy's URL, most advanced first (a copy covered by several notices takes the
# most advanced of them; a re-check proving it removed wins over every notice).
URL_STATES = {
    "removed": N_("removed"),
    "disabled": N_("disabled"),
    "refused": N_("refused"),
    "acknowledged": N_("acknowledged"),
    "no-answer": N_("no answer"),
    "sent": N_("sent"),
    "uncertain": N_("uncertain"),
    "approved": N_("approved"),
    "drafted": N_("drafted"),
    "found": N_("found"),
}
_RANK = {state: rank for rank, state in enumerate(URL_STATES)}
_RANK["submitted"] = _RANK["sent"]
_DURATION = re.compile(r"([1-9][0-9]{0,4})([hd])")


def parse_duration(text: str) -> timedelta:
    """`48h`, `10d` (the registry's `response_time` form) as a duration; ValueError else."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(f"{text!r} is not a duration like 48h or 10d")
    number, unit = int(found.group(1)), found.group(2)
    return timedelta(hours=number) if unit == "h" else timedelta(days=number)


DSA_TARGET_ENV = "REMPART_DSA_TARGET"


def dsa_target(env: Mapping[str, str]) -> timedelta:
    """The DSA follow-up target set in `env` (REMPART_DSA_TARGET: 72h, 5d…), else Rempart's
    72 h; InputError for a value that is not such a duration."""
    value = env.get(DSA_TARGET_ENV, "").strip()
    if not value:
        return DSA_TARGET
    try:
        return parse_duration(value)
    except ValueError:
        raise InputError(
            "{env}={value!r} is not a duration like 72h or 5d", env=DSA_TARGET_ENV, value=value
        ) from None


def deadline_for(
    kind: NoticeKind,
    *,
    take_it_down: bool,
    response_time: str | None = None,
    dsa_target: timedelta = DSA_TARGET,
) -> timedelta | None:
    """How long a recipient has to act: 48 h under TAKE IT DOWN, the DSA target (configurable)
    for other notices to a host, CDN, network, registrar or search engine; the platform's own
    expected response time where it is shorter. None for a Pharos report, a hotline or a
    manual step: the police or the hotline take it on, nobody owes us an answer."""
    if take_it_down:
        base = TAKE_IT_DOWN_DEADLINE
    elif kind in (NoticeKind.DSA, NoticeKind.ABUSE, NoticeKind.DELISTING, NoticeKind.COMPLAINT):
        base = dsa_target
    else:
        return None
    if response_time:
        try:
            platform = parse_duration(response_time)
        except ValueError:
            return base
        return min(base, platform)
    return base


def stored_deadline(provenance: str | dict[str, object] | None) -> timedelta | None:
    """The deadline `notify plan` chose for a notice (its provenance's `deadline_s`), if any."""
    if isinstance(provenance, str):
        try:
            provenance = json.loads(provenance or "{}")
        except ValueError:
            return None
    if not isinstance(provenance, dict):
        return None
    seconds = provenance.get("deadline_s")
    return timedelta(seconds=seconds) if isinstance(seconds, int) and seconds > 0 else None


def url_state(notice_statuses: Iterable[str], check_status: str | None) -> str:
    """Where a copy's URL stands: `removed` once a re-check proved it gone, else the most
    advanced state of the notices that cover it, else `found` (confirmed, nobody told)."""
    if check_status == "removed":
        return "removed"
    best = "found"
    for status in notice_statuses:
        status = "sent" if status in ("submitted", "sending") else status
        if status in _RANK and _RANK[status] < _RANK[best]:
            best = status
    return best


def time_to_removal(sent_at: datetime | None, removed_at: datetime | None) -> timedelta | None:
    """From the notice leaving to the first re-check that found the copy gone (measured,
    not claimed); None until both are known."""
    if sent_at is None or removed_at is None or removed_at < sent_at:
        return None
    return removed_at - sent_at
