"""The export for the police and Pharos: confirmed copies by provenance verdict, per site and
period, as CSV and JSON, with no personal data.

Pure figures and files: `SeenCopy` values in (rempart.jobs.reports reads them), rows and files
out. Must not read the store, and must never carry a case, a source's name, a URL's path, a
date finer than the period, or a person into the export: a site is only its registrable
domain (`leakimedia.com`, never `someone.blogspot.com/…`), or the kind of source for copies
with no web address.

    copies = load_seen_copies(db, since=…, until=…)          # rempart.jobs.reports
    export = provenance_export(copies, period="month")        # ProvenanceExport
    write_provenance_export(export, folder, generated_at=now)  # CSV + JSON
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from rempart.clock import aware
from rempart.private import private_folder, write_private
from rempart.provenance.counts import VerdictCounts, count_by, count_verdicts
from rempart.takedown.registry import registrable_domain

__all__ = [
    "ALL",
    "EXPORT_COLUMNS",
    "PERIODS",
    "PROVENANCE_COLUMNS",
    "ProvenanceExport",
    "SeenCopy",
    "provenance_cells",
    "provenance_export",
    "site_of",
    "write_provenance_export",
]

# Copies by provenance verdict (rempart.provenance), after the key columns of each table.
PROVENANCE_COLUMNS = (
    "ai_declared",
    "ai_suspected",
    "edited",
    "camera",
    "no_signal",
    "not_read",
    "copies",
    "no_signal_share",
)
PERIODS = ("month", "year")
ALL = "ALL"  # the site (or period) of a total row
EXPORT_COLUMNS = ("site", "period", *PROVENANCE_COLUMNS)
_WIDTH = {"month": 7, "year": 4}
# What the JSON says each verdict means; figures only, no reading of any file.
_MEANINGS = {
    "ai-declared": "the file says an AI system made or changed it (a declaration, not proof)",
    "ai-suspected": "an indirect hint of AI: an open watermark, a weak source type, or a "
    "match through the face region alone",
    "edited": "an editing program's mark, nothing says AI",
    "camera": "camera data only; does not prove an unaltered photograph",
    "no-signal": "nothing either way (sites strip metadata): proves nothing",
    "not-read": "recorded before Rempart read provenance",
}


def provenance_cells(counts: VerdictCounts) -> tuple[object, ...]:
    """A row's PROVENANCE_COLUMNS; the no-signal share of the copies read, empty when none
    was read."""
    return (
        counts.ai_declared,
        counts.ai_suspected,
        counts.edited,
        counts.camera,
        counts.no_signal,
        counts.not_read,
        counts.total,
        f"{counts.no_signal_share:.4f}" if counts.read else "",
    )


@dataclass(frozen=True, slots=True)
class SeenCopy:
    """One confirmed copy, reduced to what the export counts: where (a site, see `site_of`),
    when Rempart first saw it, and its provenance verdict (None: not read)."""

    site: str
    first_seen_at: datetime
    provenance: str | None


def site_of(page_url: str | None, media_url: str | None, source_kind: str) -> str:
    """The site a copy was seen on: the registrable domain of its page (else of its media),
    an IP address as it is, else the source's kind in brackets (`(telegram)`). Subdomains
    and paths are left out: on shared hosts they often name a person."""
    for url in (page_url, media_url):
        host = _host(url)
        if not host:
            continue
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            pass
        return registrable_domain(host) or ".".join(host.split(".")[-2:])
    return f"({source_kind})"


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
        return parts.hostname if parts.scheme in ("http", "https") else None
    except ValueError:  # a hostile URL may not even parse
        return None


@dataclass(frozen=True, slots=True)
class ProvenanceExport:
    """Copies by verdict: per (site, period), per period over every site, and in total."""

    period: str
    since: date | None
    until: date | None
    rows: tuple[tuple[str, str, VerdictCounts], ...]
    by_period: tuple[tuple[str, VerdictCounts], ...]
    total: VerdictCounts

    def to_json(self, generated_at: datetime) -> dict[str, object]:
        def counts(c: VerdictCounts) -> dict[str, object]:
            return c.to_json()

        return {
            "generated_at": aware(generated_at).isoformat(),
            "period": self.period,
            "from": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "counted": "copies confirmed by the organisation, each once, under the site and "
            "the period (UTC) it was first seen in",
            "verdicts": _MEANINGS,
            "rows": [{"site": s, "period": p, **counts(c)} for s, p, c in self.rows],
            "by_period": [{"period": p, **counts(c)} for p, c in self.by_period],
            "total": counts(self.total),
        }


def provenance_export(
    copies: Iterable[SeenCopy],
    *,
    period: str = "month",
    since: date | None = None,
    until: date | None = None,
) -> ProvenanceExport:
    """Counts of the copies first seen from `since` to `until` (both days included, UTC),
    per site and `period` ("month": 2026-11, "year": 2026)."""
    if period not in PERIODS:
        raise ValueError(f"period must be month or year, not {period!r}")
    chosen = [
        c
        for c in copies
        if (since is None or aware(c.first_seen_at).date() >= since)
        and (until is None or aware(c.first_seen_at).date() <= until)
    ]
    width = _WIDTH[period]

    def when(c: SeenCopy) -> str:
        return aware(c.first_seen_at).date().isoformat()[:width]

    rows = count_by(((c.site, when(c)), c.provenance) for c in chosen)
    by_period = count_by((when(c), c.provenance) for c in chosen)
    return ProvenanceExport(
        period=period,
        since=since,
        until=until,
        rows=tuple((s, p, rows[s, p]) for s, p in sorted(rows, key=lambda k: (k[1], k[0]))),
        by_period=tuple(sorted(by_period.items())),
        total=count_verdicts(c.provenance for c in chosen),
    )


def write_provenance_export(
    export: ProvenanceExport, folder: Path, *, generated_at: datetime
) -> tuple[Path, ...]:
    """provenance-by-site.csv (per site and period, then a total row per period and one over
    everything, site `ALL`) and provenance-by-site.json (the same, with what each verdict
    means)."""
    private_folder(folder)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for site, period, counts in export.rows:
        writer.writerow((site, period, *provenance_cells(counts)))
    for period, counts in export.by_period:
        writer.writerow((ALL, period, *provenance_cells(counts)))
    writer.writerow((ALL, ALL, *provenance_cells(export.total)))
    written = folder / "provenance-by-site.csv"
    write_private(written, buffer.getvalue().encode("utf-8"))
    as_json = folder / "provenance-by-site.json"
    text = json.dumps(export.to_json(generated_at), ensure_ascii=False, indent=2)
    write_private(as_json, (text + "\n").encode("utf-8"))
    return (written, as_json)
