"""What a file says about its origin, as values: signals and the verdict drawn from them.

Pure: no file, no network, no database. The verdict never overclaims: a missing signal
proves nothing, and Rempart never calls a picture authentic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rempart.i18n import Phrase

__all__ = ["Provenance", "Signal", "Verdict", "judge"]


class Verdict(StrEnum):
    """What the signals of one file point to, strongest first."""

    AI_DECLARED = "ai-declared"
    """The file itself says it was made or changed by an AI system (generator, signer)."""
    AI_SUSPECTED = "ai-suspected"
    """An indirect hint of AI (an open watermark, a weak source type, a face-only match)."""
    EDITED = "edited"
    """An editing program or an edit action left its mark; nothing says AI."""
    CAMERA = "camera"
    """Camera signals only (make, model, maker notes, a capture credential)."""
    NO_SIGNAL = "no-signal"
    """Nothing either way. This does not show the picture is authentic."""


_ORDER = (
    Verdict.AI_DECLARED,
    Verdict.AI_SUSPECTED,
    Verdict.EDITED,
    Verdict.CAMERA,
)


@dataclass(frozen=True, slots=True)
class Signal:
    """One thing the file says. `kind` is a stable name (`c2pa`, `xmp`, `generator`,
    `software`, `camera`, `watermark`, `unreadable`…); `points_to` is the verdict it
    supports, or None for a signal that only informs. `details` holds JSON-safe values read
    from the file (hostile text: render it through rempart.cli.text.safe)."""

    kind: str
    description: Phrase
    points_to: Verdict | None = None
    declared_by: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "description": str(self.description)}
        if self.points_to is not None:
            out["points_to"] = self.points_to.value
        if self.declared_by is not None:
            out["declared_by"] = self.declared_by
        if self.details:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True, slots=True)
class Provenance:
    """The signals of one file and the verdict they support, with its reasons."""

    verdict: Verdict
    signals: tuple[Signal, ...]
    reasons: tuple[Phrase, ...]
    declared_by: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "declared_by": list(self.declared_by),
            "reasons": [str(r) for r in self.reasons],
            "signals": [s.to_json() for s in self.signals],
        }


def judge(signals: Iterable[Signal]) -> Provenance:
    """The strongest verdict any signal supports; `no-signal` when none does.

    AI outranks everything: a camera make beside a generator's metadata is still an AI
    declaration (the camera signal stays listed). Unreadable parts decide nothing.
    """
    found = tuple(signals)
    for verdict in _ORDER:
        backing = [s for s in found if s.points_to is verdict]
        if backing:
            by: list[str] = []
            for s in backing:
                if s.declared_by and s.declared_by not in by:
                    by.append(s.declared_by)
            return Provenance(
                verdict=verdict,
                signals=found,
                reasons=tuple(s.description for s in backing),
                declared_by=tuple(by),
            )
    reason = Phrase(
        "No provenance signal was found. This does not show that the picture is authentic: "
        "most sites strip metadata."
    )
    return Provenance(verdict=Verdict.NO_SIGNAL, signals=found, reasons=(reason,))
