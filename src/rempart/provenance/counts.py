"""How many copies each verdict covers, per any grouping (case, source, period): the figures
the dossier, the yearly report and the police export need. Pure; the share of copies with no
signal is always part of the figures, as is the number never read."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from rempart.provenance.signals import Verdict

__all__ = ["VerdictCounts", "count_by", "count_verdicts"]

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class VerdictCounts:
    """Copies by verdict; `not_read` counts copies recorded before provenance was read
    (which is not the same as no signal)."""

    ai_declared: int = 0
    ai_suspected: int = 0
    edited: int = 0
    camera: int = 0
    no_signal: int = 0
    not_read: int = 0

    @property
    def total(self) -> int:
        return (
            self.ai_declared
            + self.ai_suspected
            + self.edited
            + self.camera
            + self.no_signal
            + self.not_read
        )

    @property
    def ai(self) -> int:
        """Copies whose file or match points to AI, declared or suspected."""
        return self.ai_declared + self.ai_suspected

    @property
    def read(self) -> int:
        """Copies whose provenance was read (every verdict, no-signal included)."""
        return self.total - self.not_read

    @property
    def no_signal_share(self) -> float:
        """The share of read copies that said nothing either way (0.0 when none was read)."""
        return self.no_signal / self.read if self.read else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            Verdict.AI_DECLARED.value: self.ai_declared,
            Verdict.AI_SUSPECTED.value: self.ai_suspected,
            Verdict.EDITED.value: self.edited,
            Verdict.CAMERA.value: self.camera,
            Verdict.NO_SIGNAL.value: self.no_signal,
            "not-read": self.not_read,
            "total": self.total,
            "no_signal_share": round(self.no_signal_share, 4),
        }


_FIELD = {
    Verdict.AI_DECLARED.value: "ai_declared",
    Verdict.AI_SUSPECTED.value: "ai_suspected",
    Verdict.EDITED.value: "edited",
    Verdict.CAMERA.value: "camera",
    Verdict.NO_SIGNAL.value: "no_signal",
}


def count_verdicts(verdicts: Iterable[str | None]) -> VerdictCounts:
    """Counts of stored verdicts; None (or a name this version does not know) is not read."""
    tally = dict.fromkeys((*_FIELD.values(), "not_read"), 0)
    for verdict in verdicts:
        tally[_FIELD.get(verdict or "", "not_read")] += 1
    return VerdictCounts(**tally)


def count_by(rows: Iterable[tuple[K, str | None]]) -> dict[K, VerdictCounts]:
    """Counts per key (a case, a source, a period, or a tuple of them), keys in first-seen
    order."""
    grouped: dict[K, list[str | None]] = {}
    for key, verdict in rows:
        grouped.setdefault(key, []).append(verdict)
    return {key: count_verdicts(verdicts) for key, verdicts in grouped.items()}
