"""The reports as files: CSV (stable English column names, DSA Transparency Database values),
charts (PNG, matplotlib's object API on Agg) and a PDF in French or English (reportlab, with
the complaint dossier's fonts and styles).

Owns rendering only: the figures come computed (rempart.takedown.reports). Must not read the
store, and must never write anything but vocabulary, provider names, numbers and its labels.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Image as PdfImage
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

import rempart
from rempart.evidence.dossier_pdf import DEJAVU_DIR, _binary_streams, _fonts, _plain, _Styles
from rempart.i18n import N_, Messages
from rempart.private import private_folder, write_private
from rempart.provenance.counts import VerdictCounts
from rempart.takedown.provenance_export import PROVENANCE_COLUMNS, provenance_cells
from rempart.takedown.reports import (
    ACTION_LABELS,
    OTHER_PROVIDER,
    TOTAL,
    Action,
    FlaggerReport,
    RemovalStats,
)

__all__ = ["FLAGGER_COLUMNS", "REMOVAL_COLUMNS", "Written", "write_flagger", "write_removals"]

FLAGGER_COLUMNS = (
    "year",
    "hosting_provider",
    "category",
    "category_specification",
    "content_type",
    "action",
    "notices",
    "items",
)
REMOVAL_COLUMNS = (
    "hosting_provider",
    "notified",
    "removed",
    "removed_before_notice",
    "median_hours",
    "p90_hours",
    "share_removed_within_48h",
    "share_removed_within_10d",
    "reuploads",
)
_BY = {
    "hosting_provider": "provider",
    "content_type": "content_type",
    "category_specification": "category_specification",
    "action": "action",
}
_CONTENT_LABELS = {
    "CONTENT_TYPE_IMAGE": N_("image"),
    "CONTENT_TYPE_VIDEO": N_("video"),
    "CONTENT_TYPE_SYNTHETIC_MEDIA": N_("synthetic media (deepfake)"),
}
_ACTION_COLOURS = {  # Okabe-Ito, as the dossier's charts
    Action.REMOVED: "#009E73",
    Action.DISABLED: "#56B4E9",
    Action.REFUSED: "#D55E00",
    Action.NO_ANSWER: "#E69F00",
    Action.PENDING: "#999999",
}
_CHART_SIZE_IN = (6.7, 3.4)
_CHART_DPI = 150
_MARGIN = 18 * mm
_WIDTH = A4[0] - 2 * _MARGIN


@dataclass(frozen=True, slots=True)
class Written:
    """The files a report wrote, in the order written."""

    paths: tuple[Path, ...]


def _csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_private(path, buffer.getvalue().encode("utf-8"))
    return path


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def provider_label(t: Messages, name: str, *, short: bool = False) -> str:
    if name == OTHER_PROVIDER:
        if short:  # a chart's axis
            return t.gettext("Other providers")
        return t.gettext("Other providers (not in the platform registry)")
    if name == TOTAL:
        return t.gettext("All platforms")
    return name


# ---------------------------------------------------------------------------- flagger report


def write_flagger(
    report: FlaggerReport, folder: Path, t: Messages, *, organisation: str = ""
) -> Written:
    """flagger-YYYY.csv (every group), one CSV per column counted, two charts and the PDF."""
    private_folder(folder)
    stem = f"flagger-{report.year}"
    paths = [
        _csv(
            folder / f"{stem}.csv",
            FLAGGER_COLUMNS,
            [
                (
                    report.year,
                    r.provider,
                    r.category,
                    r.category_specification,
                    r.content_type,
                    r.action.value,
                    r.notices,
                    r.items,
                )
                for r in report.rows
            ],
        )
    ]
    for column, attribute in _BY.items():
        paths.append(
            _csv(
                folder / f"{stem}-by-{column.replace('_', '-')}.csv",
                (column, "notices", "items"),
                report.by(attribute),
            )
        )
    paths.append(
        _csv(
            folder / f"{stem}-provenance.csv",
            ("year", "hosting_provider", *PROVENANCE_COLUMNS),
            [(report.year, name, *provenance_cells(c)) for name, c in report.provenance],
        )
    )
    charts: list[Path] = []
    if report.rows:
        charts.append(folder / f"{stem}-by-provider-{t.lang}.png")
        write_private(charts[-1], _provider_chart(report, t))
        charts.append(folder / f"{stem}-by-content-type-{t.lang}.png")
        write_private(charts[-1], _content_chart(report, t))
    paths.extend(charts)
    pdf = folder / f"{stem}-{t.lang}.pdf"
    write_private(pdf, _flagger_pdf(report, t, charts, organisation))
    paths.append(pdf)
    return Written(tuple(paths))


def _figure() -> Figure:
    figure = Figure(figsize=_CHART_SIZE_IN, dpi=_CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _provider_chart(report: FlaggerReport, t: Messages) -> bytes:
    """Notified items per provider, stacked by the action taken."""
    providers = [name for name, _n, _i in report.by("provider")][::-1]
    figure = _figure()
    axes = figure.add_subplot()
    left = [0] * len(providers)
    for action in Action:
        counts = [
            sum(r.items for r in report.rows if r.provider == p and r.action is action)
            for p in providers
        ]
        if not any(counts):
            continue
        axes.barh(
            [provider_label(t, p, short=True) for p in providers],
            counts,
            left=left,
            color=_ACTION_COLOURS[action],
            label=t.gettext(ACTION_LABELS[action]),
        )
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.set_xlabel(t.gettext("notified items"))
    axes.set_title(t.gettext("Action taken, by hosting provider"))
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(figure)


def _content_chart(report: FlaggerReport, t: Messages) -> bytes:
    by = report.by("content_type")
    figure = _figure()
    axes = figure.add_subplot()
    axes.bar(
        [t.gettext(_CONTENT_LABELS.get(name, name)) for name, _n, _i in by],
        [items for _name, _n, items in by],
        color="#0072B2",
    )
    axes.set_ylabel(t.gettext("notified items"))
    axes.set_title(t.gettext("Notified items by type of content"))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(figure)


def _markup(value: object) -> str:
    """Outside text (a platform's name, a URL) as paragraph markup: escaped, with control and
    direction-changing characters made visible, never cut."""
    return escape(_plain(value, 1 << 20))


class _Pdf:
    """A short report document: headings, paragraphs, tables and charts, one language."""

    def __init__(self, t: Messages) -> None:
        self.t = t
        self.fonts = _fonts(DEJAVU_DIR)
        self.styles = _Styles.build(self.fonts)
        self.story: list[object] = []

    def title(self, text: str, subtitle: str) -> None:
        self.story.append(Paragraph(_markup(text), self.styles.title))
        self.story.append(Paragraph(_markup(subtitle), self.styles.subtitle))

    def heading(self, text: str) -> None:
        self.story.append(Paragraph(_markup(text), self.styles.h2))

    def para(self, text: str) -> None:
        self.story.append(Paragraph(_markup(text), self.styles.body))

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        first_share: float | None = None,
    ) -> None:
        cells = [[Paragraph(_markup(h), self.styles.head) for h in header]]
        cells += [[Paragraph(_markup(v), self.styles.small) for v in row] for row in rows]
        first = _WIDTH * (first_share or (0.6 if len(header) <= 3 else 0.28))
        rest = (_WIDTH - first) / max(1, len(header) - 1)
        table = Table(cells, colWidths=[first] + [rest] * (len(header) - 1), repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f4f8")),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#cbd2d9")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        self.story.append(table)
        self.story.append(Spacer(1, 4 * mm))

    def chart(self, path: Path) -> None:
        width = _WIDTH
        height = width * _CHART_SIZE_IN[1] / _CHART_SIZE_IN[0]
        self.story.append(PdfImage(str(path), width=width, height=height))
        self.story.append(Spacer(1, 4 * mm))

    def build(self, title: str, moment: datetime) -> bytes:
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=_MARGIN,
            title=title,
            creator=f"Rempart {rempart.__version__}",
            invariant=1,
            lang="fr-FR" if self.t.lang == "fr" else "en",
        )
        with _binary_streams():
            doc.build(self.story)
        return buffer.getvalue()


def _flagger_pdf(
    report: FlaggerReport, t: Messages, charts: Sequence[Path], organisation: str
) -> bytes:
    pdf = _Pdf(t)
    title = t.gettext("Trusted flagger's yearly report {year}", year=report.year)
    pdf.title(
        title,
        t.gettext(
            "DSA Art. 22(3): notices by hosting provider, type of content and action taken. "
            "Actions as known on {day}.",
            day=report.as_of.strftime("%Y-%m-%d"),
        ),
    )
    if organisation:
        pdf.para(t.gettext("Published by {organisation}.", organisation=organisation))
    if not report.rows:
        pdf.para(t.gettext("No notice was sent to a provider in {year}.", year=report.year))
    else:
        pdf.para(
            t.ngettext(
                "{n} notice listing {items} items.",
                "{n} notices listing {items} items.",
                report.notices,
                n=report.notices,
                items=report.items,
            )
        )
        head = (t.gettext("notices"), t.gettext("notified items"))
        pdf.heading(t.gettext("By hosting provider"))
        pdf.table(
            (t.gettext("hosting provider"), *head),
            [(provider_label(t, n), a, b) for n, a, b in report.by("provider")],
        )
        pdf.chart(charts[0])
        pdf.heading(t.gettext("By type of content"))
        pdf.table(
            ("content_type", *head),
            [
                (f"{n} ({t.gettext(_CONTENT_LABELS.get(n, n))})", a, b)
                for n, a, b in report.by("content_type")
            ],
        )
        pdf.table(("category_specification", *head), report.by("category_specification"))
        pdf.chart(charts[1])
        pdf.heading(t.gettext("By action taken"))
        pdf.table(
            (t.gettext("action taken"), *head),
            [(t.gettext(ACTION_LABELS[Action(n)]), a, b) for n, a, b in report.by("action")],
        )
    if report.provenance:
        _provenance_section(pdf, t, report.provenance)
    pdf.heading(t.gettext("How these figures are counted"))
    for line in (
        N_(
            "A notice counts in the year it was sent. One notice may list several items; a "
            "notice counts once in each row where it has items."
        ),
        N_(
            "Removed: a re-check found the item gone (or the provider said it removed it). No "
            "answer by the deadline: the notice's due date passed with neither. Pending: the "
            "due date has not passed yet."
        ),
        N_(
            "Providers outside the platform registry are counted together, since the contact "
            "found for them may name a private person."
        ),
        N_("This report holds no personal data: no case, no address of a copy, no person."),
    ):
        pdf.para(t.gettext(line))
    return pdf.build(title, report.as_of)


def _share_of_read(counts: VerdictCounts) -> str:
    return _share(counts.no_signal_share) if counts.read else "—"


def provenance_table(
    t: Messages, first: str, rows: Sequence[tuple[str, VerdictCounts]]
) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    """The header and rows of a copies-by-verdict table, labelled in `t`'s language."""
    header = (
        first,
        t.gettext("AI declared"),
        t.gettext("AI suspected"),
        t.gettext("edited"),
        t.gettext("camera"),
        t.gettext("no signal"),
        t.gettext("not read"),
        t.gettext("share with no signal"),
    )
    body: list[tuple[object, ...]] = [
        (
            name,
            c.ai_declared,
            c.ai_suspected,
            c.edited,
            c.camera,
            c.no_signal,
            c.not_read,
            _share_of_read(c),
        )
        for name, c in rows
    ]
    return header, body


PROVENANCE_NOTES = (
    N_(
        "A verdict is what the copy's file and its match said about its origin. AI "
        "declared: the file says an AI system made or changed it (this is not proof). AI "
        "suspected: an indirect hint, such as a watermark or a match through the face "
        "alone. Edited: an editing program's mark. Camera: camera data only, which does not "
        "prove an unaltered photograph."
    ),
    N_(
        "No signal is the usual case, since sites strip metadata: it proves nothing, neither "
        "that a copy is authentic nor that it is not AI-made. Its share is of the copies "
        "whose provenance was read; copies recorded before Rempart read provenance are "
        "counted as not read."
    ),
)


def _provenance_section(pdf: _Pdf, t: Messages, rows: Sequence[tuple[str, VerdictCounts]]) -> None:
    pdf.heading(t.gettext("Origin of the notified copies"))
    pdf.para(
        t.gettext(
            "Notified copies by what their files and matches said about their origin: each "
            "copy once per hosting provider, and once in the total."
        )
    )
    header, body = provenance_table(
        t,
        t.gettext("hosting provider"),
        [(provider_label(t, name), counts) for name, counts in rows],
    )
    pdf.table(header, body, first_share=0.2)  # seven narrow columns of figures
    for line in PROVENANCE_NOTES:
        pdf.para(t.gettext(line))


# --------------------------------------------------------------------------- removal report


def write_removals(stats: RemovalStats, folder: Path, t: Messages, *, as_of: datetime) -> Written:
    """removals[-YYYY].csv, two charts and the PDF."""
    private_folder(folder)
    stem = "removals" if stats.year is None else f"removals-{stats.year}"
    paths = [
        _csv(
            folder / f"{stem}.csv",
            REMOVAL_COLUMNS,
            [
                (
                    r.provider,
                    r.notified,
                    r.removed,
                    r.removed_before_notice,
                    _number(r.median_hours),
                    _number(r.p90_hours),
                    _number(r.within_48h),
                    _number(r.within_10d),
                    r.reuploads,
                )
                for r in stats.rows
            ],
        )
    ]
    charts: list[Path] = []
    if any(r.hours for r in stats.rows):
        charts.append(folder / f"{stem}-times-{t.lang}.png")
        write_private(charts[-1], _times_chart(stats, t))
        charts.append(folder / f"{stem}-shares-{t.lang}.png")
        write_private(charts[-1], _shares_chart(stats, t))
    paths.extend(charts)
    pdf = folder / f"{stem}-{t.lang}.pdf"
    write_private(pdf, _removals_pdf(stats, t, charts, as_of))
    paths.append(pdf)
    return Written(tuple(paths))


def _platforms(stats: RemovalStats) -> list[str]:
    return [r.provider for r in stats.rows if r.provider != TOTAL and r.hours][::-1]


def _times_chart(stats: RemovalStats, t: Messages) -> bytes:
    """Each removal's time as a dot, per platform, with its median and 90th percentile."""
    figure = _figure()
    axes = figure.add_subplot()
    rows = {r.provider: r for r in stats.rows}
    names = _platforms(stats)
    for y, name in enumerate(names):
        row = rows[name]
        first = y == 0  # one legend entry per kind of mark
        axes.scatter(
            row.hours,
            [y] * len(row.hours),
            color="#0072B2",
            s=12,
            alpha=0.6,
            label=t.gettext("each removal") if first else None,
        )
        axes.scatter(
            [row.median_hours or 0.0],
            [y],
            marker="|",
            s=400,
            color="#000000",
            label=t.gettext("median") if first else None,
        )
        axes.scatter(
            [row.p90_hours or 0.0],
            [y],
            marker="|",
            s=400,
            color="#D55E00",
            label=t.gettext("90th percentile") if first else None,
        )
    axes.set_yticks(range(len(names)), [provider_label(t, n, short=True) for n in names])
    axes.axvline(48, color="#999999", linestyle="--", linewidth=0.8, label=t.gettext("within 48 h"))
    axes.set_xlabel(t.gettext("hours from the notice to the removal"))
    axes.set_title(t.gettext("Time to removal, proven by a re-check"))
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(figure)


def _shares_chart(stats: RemovalStats, t: Messages) -> bytes:
    figure = _figure()
    axes = figure.add_subplot()
    rows = {r.provider: r for r in stats.rows}
    names = _platforms(stats)
    ys = range(len(names))
    axes.barh(
        [y + 0.2 for y in ys],
        [100 * (rows[n].within_48h or 0) for n in names],
        height=0.4,
        color="#009E73",
        label=t.gettext("within 48 hours"),
    )
    axes.barh(
        [y - 0.2 for y in ys],
        [100 * (rows[n].within_10d or 0) for n in names],
        height=0.4,
        color="#56B4E9",
        label=t.gettext("within 10 days"),
    )
    axes.set_yticks(list(ys), [provider_label(t, n, short=True) for n in names])
    axes.set_xlim(0, 100)
    axes.set_xlabel(t.gettext("% of notified items removed"))
    axes.set_title(t.gettext("Removed within 48 hours and within 10 days"))
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(figure)


def _hours(t: Messages, value: float | None) -> str:
    return "—" if value is None else t.gettext("{h} h", h=f"{value:.1f}")


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def _removals_pdf(
    stats: RemovalStats, t: Messages, charts: Sequence[Path], as_of: datetime
) -> bytes:
    pdf = _Pdf(t)
    title = (
        t.gettext("Removal statistics")
        if stats.year is None
        else t.gettext("Removal statistics {year}", year=stats.year)
    )
    pdf.title(title, t.gettext("As known on {day}.", day=as_of.strftime("%Y-%m-%d")))
    total = stats.rows[-1]
    if not total.notified:
        pdf.para(t.gettext("No notice has been sent to a provider yet."))
    pdf.table(
        (
            t.gettext("platform"),
            t.gettext("notified"),
            t.gettext("removed"),
            t.gettext("median"),
            t.gettext("90th percentile"),
            t.gettext("within 48 h"),
            t.gettext("within 10 days"),
            t.gettext("re-uploads"),
        ),
        [
            (
                provider_label(t, r.provider),
                r.notified,
                r.removed,
                _hours(t, r.median_hours),
                _hours(t, r.p90_hours),
                _share(r.within_48h),
                _share(r.within_10d),
                r.reuploads,
            )
            for r in stats.rows
        ],
    )
    for chart in charts:
        pdf.chart(chart)
    pdf.heading(t.gettext("How these figures are counted"))
    pdf.para(
        t.gettext(
            "Time to removal runs from the notice being sent to the first re-check that found "
            "the item gone, a removal proven rather than claimed. Shares are of every item "
            "notified to the platform, removed or not. The 90th percentile is a time that was "
            "really measured (nearest rank)."
        )
    )
    if any(r.removed_before_notice for r in stats.rows):
        pdf.para(
            t.gettext(
                "Items already gone before their notice was sent are left out of the times "
                "and shares."
            )
        )
    if not stats.reuploads_tracked:
        pdf.para(t.gettext("Re-uploads are not linked in this store yet: counted as 0."))
    return pdf.build(title, as_of)
