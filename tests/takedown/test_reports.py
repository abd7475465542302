"""The reports' figures from notified copies (pure): Art. 22(3) groups in the DSA Transparency
Database vocabulary, actions taken, and removal times, medians, percentiles and shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rempart.takedown.reports import (
    OTHER_PROVIDER,
    TOTAL,
    Action,
    NotifiedCopy,
    action_of,
    flagger_report,
    nearest_rank,
    removal_stats,
)

SENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def copy(
    notice: int,
    provider: str = "Reddit",
    *,
    hours: float | None = None,
    status: str = "sent",
    basis: str = "226-2-1",
    media: str = "image",
    kind: str = "dsa",
    sent: datetime = SENT,
    provenance: str | None = None,
    which: int | None = None,
) -> NotifiedCopy:
    return NotifiedCopy(
        notice=notice,
        kind=kind,
        provider=provider,
        sent_at=sent,
        notice_status=status,
        legal_basis=basis,
        media=media,
        due_at=sent + timedelta(hours=72),
        removed_at=None if hours is None else sent + timedelta(hours=hours),
        provenance=provenance,
        copy=which,
    )


def test_action_taken_prefers_a_proven_removal_then_the_answer_then_the_deadline() -> None:
    later = SENT + timedelta(days=30)
    assert action_of(copy(1, hours=5, status="refused"), as_of=later) is Action.REMOVED
    assert action_of(copy(1, status="removed"), as_of=later) is Action.REMOVED
    assert action_of(copy(1, status="disabled"), as_of=later) is Action.DISABLED
    assert action_of(copy(1, status="refused"), as_of=later) is Action.REFUSED
    assert action_of(copy(1, status="acknowledged"), as_of=later) is Action.NO_ANSWER
    assert action_of(copy(1), as_of=SENT + timedelta(hours=1)) is Action.PENDING


def test_flagger_report_counts_notices_once_and_items_each_in_the_dsa_vocabulary() -> None:
    copies = [
        copy(1, hours=3),
        copy(1, hours=4, media="video"),
        copy(2, "Telegram", basis="226-8-1"),
        copy(3, OTHER_PROVIDER, status="refused"),
        copy(4, kind="pharos"),  # to the police: not a notice to a provider
        copy(5, sent=datetime(2025, 12, 31, 23, 59, tzinfo=UTC)),  # another year
    ]
    report = flagger_report(copies, year=2026, as_of=SENT + timedelta(days=30))
    assert (report.notices, report.items) == (3, 4)
    assert report.by("provider") == [
        ("Reddit", 1, 2),
        (OTHER_PROVIDER, 1, 1),
        ("Telegram", 1, 1),
    ]
    assert dict((k, i) for k, _n, i in report.by("content_type")) == {
        "CONTENT_TYPE_IMAGE": 2,
        "CONTENT_TYPE_VIDEO": 1,
        "CONTENT_TYPE_SYNTHETIC_MEDIA": 1,
    }
    assert {k for k, _n, _i in report.by("category_specification")} == {
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    }
    assert dict((k, i) for k, _n, i in report.by("action")) == {
        "removed": 2,
        "no_answer": 1,
        "refused": 1,
    }
    assert {r.category for r in report.rows} == {"STATEMENT_CATEGORY_CYBER_VIOLENCE"}
    women = flagger_report(copies, year=2026, as_of=SENT, against_women=True)
    assert {r.category for r in women.rows} == {"STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN"}
    assert all(r.category_specification.endswith("_AGAINST_WOMEN") for r in women.rows)


def test_an_empty_year_is_an_empty_report_not_an_error() -> None:
    report = flagger_report([copy(1)], year=2024, as_of=SENT)
    assert (report.rows, report.notices, report.items, report.by("provider")) == ((), 0, 0, [])


def test_nearest_rank_percentile_is_a_measured_value() -> None:
    assert nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert nearest_rank([5], 0.9) == 5
    assert nearest_rank([1, 100], 0.5) == 1


def test_removal_stats_per_platform_times_shares_and_a_total() -> None:
    copies = [
        copy(1, hours=1),
        copy(1, hours=47),
        copy(2, hours=100),
        copy(3, hours=300),  # 12.5 days: after the 10 days
        copy(4),  # never removed
        copy(5, "Telegram", hours=-2),  # gone before the notice left
        copy(6, "Telegram", hours=10),
    ]
    stats = removal_stats(copies, reuploads={"Reddit": 2})
    reddit, telegram, total = stats.rows
    assert (reddit.provider, telegram.provider, total.provider) == ("Reddit", "Telegram", TOTAL)
    assert (reddit.notified, reddit.removed, reddit.removed_before_notice) == (5, 4, 0)
    assert reddit.median_hours == (47 + 100) / 2
    assert reddit.p90_hours == 300
    assert reddit.within_48h == 2 / 5
    assert reddit.within_10d == 3 / 5
    assert reddit.reuploads == 2
    assert (telegram.removed_before_notice, telegram.within_48h, telegram.hours) == (1, 1.0, (10,))
    assert (total.notified, total.removed, total.reuploads) == (7, 6, 2)
    assert stats.reuploads_tracked


def test_removal_stats_without_notices_or_reupload_links() -> None:
    stats = removal_stats([], reuploads=None)
    (total,) = stats.rows
    assert (total.notified, total.median_hours, total.within_48h) == (0, None, None)
    assert not stats.reuploads_tracked


def test_flagger_report_counts_notified_copies_by_provenance_once_per_provider() -> None:
    copies = [
        copy(1, provenance="ai-declared", which=10),
        copy(2, provenance="ai-declared", which=10),  # the same copy notified again
        copy(3, "Cloudflare", provenance="ai-declared", which=10),  # and to its CDN
        copy(1, provenance="no-signal", which=11),
        copy(4, "Telegram", provenance=None, which=12),
        copy(5, "Telegram", kind="pharos", provenance="camera", which=13),  # not a provider
    ]
    report = flagger_report(copies, year=2026, as_of=SENT)
    per = dict(report.provenance)
    assert list(per) == ["Reddit", "Cloudflare", "Telegram", TOTAL]
    assert (per["Reddit"].ai_declared, per["Reddit"].no_signal) == (1, 1)
    assert per["Cloudflare"].total == 1 and per["Telegram"].not_read == 1
    total = per[TOTAL]
    assert (total.ai_declared, total.no_signal, total.not_read, total.total) == (1, 1, 1, 3)
    assert total.no_signal_share == 0.5
    assert flagger_report([], year=2026, as_of=SENT).provenance == ()
