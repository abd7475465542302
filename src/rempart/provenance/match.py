"""What the match itself says about a copy's origin, and folding that into a stored reading.

Pure: the kinds of index each of a copy's matches came through in, as plain names (see
rempart.matching.service.Match.via), in; signals and readings (JSON-able) out. Suggestive,
never proof: only a copy that matched nothing but faces, or nothing but face-blanked
pictures, gets a signal.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from rempart.i18n import Phrase
from rempart.provenance.signals import Signal, Verdict, judge

__all__ = [
    "FACE",
    "FACE_BLANKED",
    "MATCH_KIND",
    "MatchOfCopy",
    "judged_within",
    "match_signals",
    "with_match_signals",
]

FACE = "face"  # the face with some context around it
FACE_BLANKED = "face_blanked"  # the whole picture with its faces filled flat
MATCH_KIND = "match"  # the stable `kind` of the signals this module gives

_STRENGTH = {
    Verdict.AI_DECLARED.value: 4,
    Verdict.AI_SUSPECTED.value: 3,
    Verdict.EDITED.value: 2,
    Verdict.CAMERA.value: 1,
}


def match_signals(vias: Iterable[Sequence[str]]) -> list[Signal]:
    """The signals a copy's matches give, one `via` per matched registered picture (the kinds
    of index it was hit through; an exact-digest or local-feature match names its method).

    Only through "face" in every match: the face kept, the rest of the picture different, as
    an "undress" tool or a face swap of her face onto another body leaves it. Only through
    "face_blanked" in every match: her body and scene kept, the face different, as a face
    swap onto her body leaves it. Anything else (a match through the whole picture, a crop,
    a grid cell, both faces and blanked pictures, or an unknown path) gives nothing: the copy
    may be her picture itself.
    """
    paths = {frozenset(via) for via in vias}
    if not paths or any(not path for path in paths):
        return []
    if paths == {frozenset({FACE})}:
        return [
            Signal(
                MATCH_KIND,
                Phrase(
                    "The copy matches a registered picture only through the face region, "
                    "while the rest of the picture differs: a likely \u201cundress\u201d "
                    "or face-swap montage of that picture (a presumption, not proof)"
                ),
                Verdict.AI_SUSPECTED,
                None,
                {"via": FACE},
            )
        ]
    if paths == {frozenset({FACE_BLANKED})}:
        return [
            Signal(
                MATCH_KIND,
                Phrase(
                    "The copy matches a registered picture only once faces are blanked out, "
                    "while the face differs: a likely face swap onto her body (a "
                    "presumption, not proof)"
                ),
                Verdict.AI_SUSPECTED,
                None,
                {"via": FACE_BLANKED},
            )
        ]
    return []


def with_match_signals(
    reading: Mapping[str, object] | None, signals: Sequence[Signal]
) -> dict[str, object] | None:
    """A stored reading (Provenance.to_json, or None when the file was not read) with the
    match's signals in place of any earlier ones, and its verdict, reasons and declared_by
    judged again as rempart.provenance.judge does: the strongest verdict wins. None stays
    None when there is no match signal (not read is not no-signal)."""
    if reading is None and not signals:
        return None
    base = dict(reading or {})
    earlier = [s for s in _signal_dicts(base.get("signals")) if s.get("kind") == MATCH_KIND]
    if reading is not None and earlier == [s.to_json() for s in signals]:
        return base  # the same match signals: the verdict stands as it was judged
    kept = [s for s in _signal_dicts(base.get("signals")) if s.get("kind") != MATCH_KIND]
    every = [*kept, *(s.to_json() for s in signals)]
    pointing = [s for s in every if str(s.get("points_to")) in _STRENGTH]
    if not pointing:
        if reading is None:
            return None
        nothing = judge(())  # an earlier match signal may have been all there was
        return {
            "verdict": nothing.verdict.value,
            "declared_by": [],
            "reasons": [str(r) for r in nothing.reasons],
            "signals": every,
        }
    top = max(_STRENGTH[str(s["points_to"])] for s in pointing)
    backing = [s for s in pointing if _STRENGTH[str(s["points_to"])] == top]
    declared: list[str] = []
    for s in backing:
        by = s.get("declared_by")
        if isinstance(by, str) and by not in declared:
            declared.append(by)
    return {
        "verdict": str(backing[0]["points_to"]),
        "declared_by": declared,
        "reasons": [str(s.get("description", "")) for s in backing],
        "signals": every,
    }


def _signal_dicts(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list):
        return []
    return [s for s in value if isinstance(s, Mapping)]


@dataclass(frozen=True, slots=True)
class MatchOfCopy:
    """One of a copy's matches, as judging it needs: the case (or, for a bank in no case,
    the bank) whose picture matched, whether a caseworker rejected it, and its `via`."""

    scope: Hashable
    via: Sequence[str]
    rejected: bool = False


def judged_within(
    reading: Mapping[str, object] | None, scope: Hashable, matches: Iterable[MatchOfCopy]
) -> dict[str, object] | None:
    """A copy's stored reading judged on one case's matches only (a case's dossier, its
    findings): the match rule taken over that case's matches a caseworker has not rejected.

    Across cases the stored verdict stays silent when one victim's face and another victim's
    whole picture both match (her face put on the other's body, or a picture both appear
    in); within her case, the face alone is what matched her. When other cases' matches
    were left out, the match signal says so."""
    kept = [m for m in matches if not m.rejected]
    mine = [m.via for m in kept if m.scope == scope]
    others = any(m.scope != scope for m in kept)
    signals = match_signals(mine)
    if others:
        signals = [
            replace(
                s,
                description=Phrase(
                    "{what}; judged on this case's matches only: the copy also matches "
                    "another case's picture (perhaps the body her face was put on, or a "
                    "picture they both appear in)",
                    what=s.description,
                ),
                details={**s.details, "judged_on": "case"},
            )
            for s in signals
        ]
    return with_match_signals(reading, signals)
