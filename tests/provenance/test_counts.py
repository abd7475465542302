"""Counting copies by verdict: every copy counted once, the no-signal share always given."""

from __future__ import annotations

from rempart.provenance.counts import VerdictCounts, count_by, count_verdicts


def test_counts_keep_not_read_apart_from_no_signal() -> None:
    counts = count_verdicts(["ai-declared", "no-signal", "no-signal", None, "camera", "odd"])
    assert counts == VerdictCounts(ai_declared=1, camera=1, no_signal=2, not_read=2)
    assert counts.total == 6
    assert counts.no_signal_share == 0.5  # of the four copies read
    assert counts.to_json()["no-signal"] == 2 and counts.to_json()["not-read"] == 2


def test_no_copy_read_gives_a_share_of_zero_not_a_division_error() -> None:
    assert count_verdicts([None]).no_signal_share == 0.0
    assert count_verdicts([]).total == 0


def test_counts_by_key_keep_first_seen_order() -> None:
    rows = [(("forum", "2026-11"), "ai-declared"), (("mirror", "2026-10"), None)]
    rows.append((("forum", "2026-11"), "edited"))
    grouped = count_by(rows)
    assert list(grouped) == [("forum", "2026-11"), ("mirror", "2026-10")]
    assert grouped["forum", "2026-11"] == VerdictCounts(ai_declared=1, edited=1)
