"""`rempart report …`: the trusted flagger's yearly report (DSA Art. 22(3)), the removal
statistics (CSV, charts and a PDF) and the provenance export for the police and Pharos (CSV and
JSON), all with no personal data.

Thin: parse, call rempart.jobs.reports and rempart.takedown.reports, write, say what was
written. Registered on the main app by rempart.cli; the store and the PDF code load inside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from rempart.cli import _fail, _open_db, _reported, app, out
from rempart.cli.text import shown
from rempart.config import Settings
from rempart.i18n import Messages, _, current_language, percent

report_app = typer.Typer(
    help=(
        "Reports with no personal data: `flagger` is the trusted flagger's yearly report "
        "(DSA Art. 22(3)), `removals` the time platforms take to remove what they are sent, "
        "`provenance` the copies by AI signal, per site and period, for the police and Pharos."
    ),
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")


class ReportLang(StrEnum):
    FR = "fr"
    EN = "en"


ToOption = Annotated[
    Path, typer.Option("--to", help="The folder to write the report in (created if missing).")
]
LangOption = Annotated[
    ReportLang | None,
    typer.Option("--lang", help="The PDF's and the charts' language (default: yours)."),
]


def _messages(lang: ReportLang | None) -> Messages:
    return Messages(lang.value if lang else current_language())


def _written(paths: tuple[Path, ...]) -> None:
    for path in paths:
        out.print("   " + shown(str(path)), markup=False, highlight=False)


@report_app.command("flagger")
def report_flagger(
    year: Annotated[int, typer.Option("--year", help="The calendar year (UTC) to count.")],
    to: ToOption,
    lang: LangOption = None,
    against_women: Annotated[
        bool,
        typer.Option(
            "--against-women",
            help="Use the DSA categories of cyber violence against women.",
        ),
    ] = False,
) -> None:
    """Notices sent in a year by hosting provider, type of content and action taken, as CSV
    and a PDF with charts. Example: `rempart report flagger --year 2026 --to reports/`."""
    from rempart.jobs.reports import load_notified
    from rempart.takedown.report_files import write_flagger
    from rempart.takedown.reports import flagger_report

    with _reported():
        settings = Settings.from_env()
        copies = load_notified(_open_db())
        report = flagger_report(
            copies, year=year, as_of=datetime.now(UTC), against_women=against_women
        )
        written = write_flagger(report, to, _messages(lang), organisation=settings.identity.name)
    out.print(
        _(
            "Yearly report {year} — notices: {notices}, items: {items}. Written:",
            year=year,
            notices=report.notices,
            items=report.items,
        )
    )
    _written(written.paths)
    if report.provenance:
        origin = report.provenance[-1][1]  # the row over every provider
        out.print(
            _(
                "Notified copies by origin: AI declared {declared}, AI suspected {suspected}, "
                "edited {edited}, camera {camera}, no signal {none} ({share} of those read), "
                "not read {unread}.",
                declared=origin.ai_declared,
                suspected=origin.ai_suspected,
                edited=origin.edited,
                camera=origin.camera,
                none=origin.no_signal,
                share=percent(origin.no_signal_share),
                unread=origin.not_read,
            )
        )


@report_app.command("removals")
def report_removals(
    to: ToOption,
    lang: LangOption = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Only notices sent this year (default: all).")
    ] = None,
) -> None:
    """Per platform: median and 90th percentile time to removal, share removed within 48 hours
    and within 10 days, re-uploads; as CSV, charts and a PDF.
    Example: `rempart report removals --to reports/`."""
    from rempart.jobs.reports import load_notified, reuploads_by_provider
    from rempart.takedown.report_files import write_removals
    from rempart.takedown.reports import removal_stats

    with _reported():
        db = _open_db()
        stats = removal_stats(load_notified(db), reuploads=reuploads_by_provider(db), year=year)
        written = write_removals(stats, to, _messages(lang), as_of=datetime.now(UTC))
    total = stats.rows[-1]
    out.print(
        _(
            "Removal statistics — notified: {notified}, removed: {removed}. Written:",
            removed=total.removed,
            notified=total.notified,
        )
    )
    if not stats.reuploads_tracked:
        out.print(_("Re-uploads are not linked in this store yet: counted as 0."))
    _written(written.paths)


class Period(StrEnum):
    MONTH = "month"
    YEAR = "year"


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(_("{option} takes a date such as 2026-11-30, not {value}", option=option, value=text))


@report_app.command("provenance")
def report_provenance(
    to: ToOption,
    since: Annotated[
        str | None,
        typer.Option("--from", help="Copies first seen on or after this day (YYYY-MM-DD, UTC)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Copies first seen on or before this day (YYYY-MM-DD, UTC)."),
    ] = None,
    period: Annotated[
        Period, typer.Option("--period", help="Count per month or per year.")
    ] = Period.MONTH,
) -> None:
    """Confirmed copies by provenance verdict (AI declared, AI suspected, edited, camera, no
    signal), per site and period, as CSV and JSON for the police and Pharos. No personal data:
    a site is its registrable domain only, with no case, source name or address.
    Example: `rempart report provenance --to export/ --from 2026-01-01`."""
    from rempart.jobs.reports import load_seen_copies
    from rempart.takedown.provenance_export import provenance_export, write_provenance_export

    first, last = _day(since, "--from"), _day(until, "--until")
    if first and last and first > last:
        _fail(_("--from must not be after --until"))
    with _reported():
        export = provenance_export(
            load_seen_copies(_open_db()), period=period.value, since=first, until=last
        )
        written = write_provenance_export(export, to, generated_at=datetime.now(UTC))
    total = export.total
    out.print(
        _(
            "Copies by origin — AI declared: {declared}, AI suspected: {suspected}, no "
            "signal: {none} of {copies}. Written:",
            declared=total.ai_declared,
            suspected=total.ai_suspected,
            none=total.no_signal,
            copies=total.total,
        )
    )
    _written(written)
