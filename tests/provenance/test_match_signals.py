"""What the match says: a copy met only through its face is a likely "undress" or face-swap
montage, one met only with faces blanked a likely face swap onto her body; anything else
says nothing, and a stored reading folds the signal in without losing what the file said."""

from __future__ import annotations

from rempart.i18n import Phrase
from rempart.provenance import Signal, Verdict, judge
from rempart.provenance.match import match_signals, with_match_signals


def test_a_copy_met_only_through_the_face_is_suspected_ai() -> None:
    (signal,) = match_signals([("face",)])
    assert (signal.kind, signal.points_to, signal.details) == (
        "match",
        Verdict.AI_SUSPECTED,
        {"via": "face"},
    )
    assert "undress" in str(signal.description)
    assert match_signals([("face",), ("face",)]) == [signal]  # two pictures, both by the face


def test_a_copy_met_only_with_faces_blanked_is_a_likely_face_swap() -> None:
    (signal,) = match_signals([("face_blanked",)])
    assert signal.details == {"via": "face_blanked"}
    assert "face swap onto her body" in str(signal.description)


def test_any_other_path_says_nothing() -> None:
    for vias in (
        [("face", "picture")],  # the whole picture matched too: it may be hers
        [("face",), ("picture",)],  # another of her pictures matched whole
        [("face", "face_blanked")],  # face and body both hers: a reframing, not a montage
        [("face",), ("face_blanked",)],
        [("grid", "face")],
        [("sha256",)],
        [("face",), ()],  # a finding from before `via` was kept: unknown
        [],
    ):
        assert match_signals(vias) == [], vias


def _reading(*signals: Signal) -> dict[str, object]:
    return judge(signals).to_json()


def test_the_match_signal_raises_a_weaker_verdict_and_is_listed_with_the_files_signals() -> None:
    camera = Signal("camera", Phrase("Camera make"), Verdict.CAMERA)
    folded = with_match_signals(_reading(camera), match_signals([("face",)]))
    assert folded is not None
    assert folded["verdict"] == "ai-suspected"
    assert [s["kind"] for s in folded["signals"]] == ["camera", "match"]  # type: ignore[index, union-attr]
    assert len(folded["reasons"]) == 1  # type: ignore[arg-type]


def test_a_stronger_file_verdict_stays_and_who_declared_it_too() -> None:
    generator = Signal("generator", Phrase("ComfyUI graph"), Verdict.AI_DECLARED, "ComfyUI")
    folded = with_match_signals(_reading(generator), match_signals([("face",)]))
    assert folded is not None
    assert (folded["verdict"], folded["declared_by"]) == ("ai-declared", ["ComfyUI"])


def test_a_copy_never_read_gets_a_verdict_only_from_a_match_signal() -> None:
    assert with_match_signals(None, []) is None  # not read stays not read
    folded = with_match_signals(None, match_signals([("face_blanked",)]))
    assert folded is not None and folded["verdict"] == "ai-suspected"


def test_a_later_whole_picture_match_withdraws_the_earlier_match_signal() -> None:
    suspected = with_match_signals(_reading(), match_signals([("face",)]))
    assert suspected is not None and suspected["verdict"] == "ai-suspected"
    again = with_match_signals(suspected, match_signals([("face",), ("picture",)]))
    assert again is not None
    assert again["verdict"] == "no-signal" and again["signals"] == []
