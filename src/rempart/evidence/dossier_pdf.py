"""Lays a Dossier out as a PDF with reportlab: cover and summary, method, timeline chart, one
section per copy, annex of bundles; page numbers and a footer on every page.

Owns the layout, the escaping of every outside text into reportlab's paragraph markup and the
rule that pictures appear only blurred (through rempart.evidence.blur) and never for a minor.
Must not read files other than fonts, nor keep any picture it decodes.
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

import rempart
from rempart.errors import ImageDecodeError
from rempart.evidence.blur import thumbnail_png
from rempart.evidence.dossier import (
    ComplaintKind,
    Dossier,
    DossierCapture,
    DossierFinding,
    DossierNotice,
    EventKind,
    FindingStatus,
)
from rempart.evidence.dossier_text import CATALOG
from rempart.evidence.timeline import KIND_ORDER, timeline_png
from rempart.i18n import Messages, percent
from rempart.matching.wording import describe_match
from rempart.provenance.counts import VerdictCounts
from rempart.provenance.signals import Verdict

__all__ = ["DEJAVU_DIR", "THUMBNAIL_SIDE", "render_pdf"]

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Pixels on the thumbnail's longer side. The blur (blur.BLUR_FRACTION) wipes out whatever is
# smaller than a sixth of the picture, so more pixels would only make the file bigger.
THUMBNAIL_SIDE = 160

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN = 18 * mm
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_THUMB_BOX = 32 * mm
_THUMB_COLUMN = 36 * mm
_LABEL_COLUMN = 34 * mm
# Outside text longer than this is cut, with a note saying how much was left out: a hostile
# page can hand us a megabyte "post id". The limits also bound every table row's height, so
# that no row can outgrow a page (reportlab cannot split a row). Full URLs stay in the bundles.
_MAX_TEXT = 200
_MAX_URL = 1000
# Above this height the details go below the thumbnail, where the table can split across pages.
_SIDE_BY_SIDE_MAX = 120 * mm

_INK = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#52606d")
_RULE = colors.HexColor("#cbd2d9")
_BAND = colors.HexColor("#f0f4f8")
_ALERT = colors.HexColor("#9b1c1c")
_ALERT_BAND = colors.HexColor("#fdecec")


def render_pdf(dossier: Dossier, *, font_dir: Path = DEJAVU_DIR) -> bytes:
    """The dossier as PDF bytes; the same dossier gives the same bytes (reportlab's invariant
    mode, and the document's dates set to `generated_at`)."""
    fonts = _fonts(font_dir)
    text = _Text(dossier, fonts)
    styles = _Styles.build(fonts)
    story = _Story(dossier, text, styles).build()

    buffer = io.BytesIO()
    doc = _Document(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN + 4 * mm,
        bottomMargin=_MARGIN + 2 * mm,
        title=text("pdf.title", reference=dossier.case.reference, raw=True),
        author=_plain(dossier.case.organisation),
        subject=text("pdf.subject", raw=True),
        creator=f"Rempart {rempart.__version__}",
        invariant=1,
        lang="fr-FR" if dossier.language == "fr" else "en",
    )
    frame = Frame(_MARGIN, doc.bottomMargin, _TEXT_WIDTH, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    with _binary_streams():
        doc.build(story, canvasmaker=_numbered_canvas(dossier, text, fonts))
    return buffer.getvalue()


_RL_CONFIG = threading.Lock()


@contextlib.contextmanager
def _binary_streams() -> Iterator[None]:
    """Turn off reportlab's ASCII85 stream encoding for one build: without its optional C
    accelerator (rl_accel) it runs in pure Python, a fifth of a 200-copy dossier's time, and
    it makes the file a quarter bigger. The setting is process-wide, hence the lock."""
    with _RL_CONFIG:
        saved = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = saved


# ------------------------------------------------------------------------------------ fonts


@dataclass(frozen=True, slots=True)
class _Fonts:
    sans: str
    bold: str
    mono: str
    unicode: bool  # False: reportlab's base fonts, which only know Latin-1-ish text


_DEJAVU_FILES = {
    "RempartSans": "DejaVuSans.ttf",
    "RempartSans-Bold": "DejaVuSans-Bold.ttf",
    "RempartSans-Oblique": "DejaVuSans-Oblique.ttf",
    "RempartSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
    "RempartMono": "DejaVuSansMono.ttf",
}


@functools.cache
def _fonts(font_dir: Path) -> _Fonts:
    """DejaVu when installed (every French character, most scripts a hostile page may use);
    otherwise reportlab's base fonts. Registration is process-wide, hence done once."""
    paths = {name: font_dir / file for name, file in _DEJAVU_FILES.items()}
    if not all(path.is_file() for path in paths.values()):
        return _Fonts("Helvetica", "Helvetica-Bold", "Courier", unicode=False)
    try:
        for name, path in paths.items():
            pdfmetrics.registerFont(TTFont(name, str(path)))
    except Exception:  # an unreadable or broken font file: the base fonts still work
        return _Fonts("Helvetica", "Helvetica-Bold", "Courier", unicode=False)
    pdfmetrics.registerFontFamily(
        "RempartSans",
        normal="RempartSans",
        bold="RempartSans-Bold",
        italic="RempartSans-Oblique",
        boldItalic="RempartSans-BoldOblique",
    )
    return _Fonts("RempartSans", "RempartSans-Bold", "RempartMono", unicode=True)


# ------------------------------------------------------------------------------------- text

# Characters that change how the text around them is displayed (bidirectional overrides can
# make "gpj.exe" read "exe.jpg") or are invisible: shown as their code point instead.
_SHOWN_AS_CODE = frozenset({"Cf", "Co", "Cn", "Zl", "Zp"})


def _plain(value: object, limit: int = _MAX_TEXT, *, latin1: bool = False) -> str:
    """Outside text made safe to display: control characters become spaces, invisible and
    direction-changing ones their code point, lone surrogates U+FFFD, and long text is cut."""
    text = str(value)
    out: list[str] = []
    for char in text[:limit]:
        category = unicodedata.category(char)
        if category == "Cc":
            out.append(" ")
        elif category == "Cs":
            out.append("\ufffd")
        elif category in _SHOWN_AS_CODE:
            out.append(f"<U+{ord(char):04X}>")
        elif latin1 and not _in_cp1252(char):
            out.append("?")
        else:
            out.append(char)
    cleaned = "".join(out)
    if len(text) > limit:
        cleaned += f" […+{len(text) - limit}]"
    return cleaned


def _in_cp1252(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


class _Markup(str):
    """Text already escaped for the paragraph parser (a message nested in another)."""

    __slots__ = ()


class _Text:
    """Catalog lookups with every inserted value escaped, and dates in the dossier's zone."""

    def __init__(self, dossier: Dossier, fonts: _Fonts) -> None:
        self.messages = Messages(dossier.language)
        self.french = dossier.language == "fr"
        self.zone = ZoneInfo(dossier.zone)
        self.zone_name = dossier.zone
        self.fonts = fonts
        self.none = self("value.none")

    def __call__(self, key: str, *, raw: bool = False, **values: object) -> str:
        """The message `key` as paragraph markup, outside values printed literally; `raw` gives
        plain text instead (PDF metadata, canvas strings)."""
        safe = {
            k: v if isinstance(v, _Markup) else self.plain(v) if raw else self.literal(v)
            for k, v in values.items()
        }
        safe.setdefault("mono", self.fonts.mono)
        return self.messages.lookup(CATALOG, key, **safe)

    def plain(self, value: object, limit: int = _MAX_TEXT) -> str:
        return _plain(value, limit, latin1=not self.fonts.unicode)

    def literal(self, value: object, limit: int = _MAX_TEXT) -> str:
        """`value` as paragraph markup that prints exactly its characters."""
        return escape(self.plain(value, limit))

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return self.none
        local = moment.astimezone(self.zone)
        pattern = "%d/%m/%Y %H:%M:%S" if self.french else "%Y-%m-%d %H:%M:%S"
        return f"{local.strftime(pattern)} {_utc_offset(local)}"

    def day(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        return local.strftime("%d/%m/%Y" if self.french else "%Y-%m-%d")

    def number(self, n: int) -> str:
        grouped = f"{n:,}"
        return grouped.replace(",", "\u00a0") if self.french else grouped


def _utc_offset(local: datetime) -> str:
    offset = local.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


# ----------------------------------------------------------------------------------- styles


@dataclass(frozen=True, slots=True)
class _Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    muted: ParagraphStyle
    label: ParagraphStyle
    value: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    h4: ParagraphStyle
    centred: ParagraphStyle
    head: ParagraphStyle

    @classmethod
    def build(cls, fonts: _Fonts) -> _Styles:
        body = ParagraphStyle(
            "body", fontName=fonts.sans, fontSize=9, leading=12.5, textColor=_INK, spaceAfter=5
        )
        small = ParagraphStyle("small", body, fontSize=8, leading=10, spaceAfter=0)
        return cls(
            body=body,
            small=small,
            muted=ParagraphStyle("muted", small, textColor=_MUTED, fontSize=7.5, leading=9.5),
            label=ParagraphStyle("label", small, textColor=_MUTED, fontSize=7.5, leading=9.5),
            value=ParagraphStyle("value", small),
            title=ParagraphStyle(
                "title", body, fontName=fonts.bold, fontSize=24, leading=29, spaceAfter=6
            ),
            subtitle=ParagraphStyle(
                "subtitle", body, fontSize=11.5, leading=15, textColor=_MUTED, spaceAfter=14
            ),
            h2=ParagraphStyle(
                "h2",
                body,
                fontName=fonts.bold,
                fontSize=14,
                leading=18,
                spaceBefore=6,
                spaceAfter=8,
                keepWithNext=1,
            ),
            h3=ParagraphStyle(
                "h3",
                body,
                fontName=fonts.bold,
                fontSize=10.5,
                leading=14,
                spaceBefore=0,
                spaceAfter=0,
            ),
            h4=ParagraphStyle(
                "h4",
                body,
                fontName=fonts.bold,
                fontSize=8.5,
                leading=11,
                spaceBefore=5,
                spaceAfter=2,
                keepWithNext=1,
            ),
            centred=ParagraphStyle(
                "centred", small, alignment=TA_CENTER, textColor=_MUTED, fontSize=7.5
            ),
            head=ParagraphStyle("head", small, fontName=fonts.bold, fontSize=7.5, leading=9.5),
        )


# ------------------------------------------------------------------------------------ story


_OUTLINE = "_rempart_outline"


def _outlined(flowable: Flowable, title: str, level: int) -> Flowable:
    """`flowable`, marked to become an entry of the PDF's outline (the bookmarks pane)."""
    setattr(flowable, _OUTLINE, (title, level))
    return flowable


def _heading(markup: str, style: ParagraphStyle, title: str) -> Flowable:
    return _outlined(Paragraph(markup, style), title, 0)


class _Story:
    """The flowables, section by section."""

    def __init__(self, dossier: Dossier, text: _Text, styles: _Styles) -> None:
        self.dossier = dossier
        self.case = dossier.case
        self.findings = dossier.ordered_findings
        self.text = text
        self.s = styles
        self.show_pictures = not dossier.case.minor

    def build(self) -> list[Flowable]:
        return [
            *self.cover(),
            *self.sites(),
            *self.provenance(),
            PageBreak(),
            *self.method(),
            *self.timeline(),
            PageBreak(),
            *self.finding_sections(),
            PageBreak(),
            *self.annex(),
            *self.pending_annex(),
        ]

    # ---------------------------------------------------------------------------- cover

    def cover(self) -> list[Flowable]:
        t, s, case = self.text, self.s, self.case
        rows = [(t("cover.reference"), t.literal(case.reference))]
        if case.victim_name:
            rows.append((t("cover.victim"), t.literal(case.victim_name)))
        if case.kind is ComplaintKind.INDIVIDUAL:
            complaint = t("cover.individual")
        elif case.victims == 1:
            complaint = t("cover.collective.one")
        else:
            complaint = t("cover.collective", n=case.victims)
        rows.append((t("cover.organisation"), t.literal(case.organisation)))
        if case.contact:
            rows.append((t("cover.contact"), t.literal(case.contact, 400)))
        if case.trusted_flagger:
            flagger = t("cover.flagger.value", designation=case.designation or t.none)
            if case.designated_by:
                flagger = t(
                    "cover.flagger.by",
                    designation=case.designation or t.none,
                    coordinator=case.designated_by,
                )
            rows.append((t("cover.flagger"), flagger))
        rows += [
            (t("cover.caseworker"), t.literal(case.caseworker)),
            (t("cover.complaint"), complaint),
            (t("cover.opened"), t.when(case.opened_at)),
            (t("cover.generated"), t.when(self.dossier.generated_at)),
        ]
        rows += self.period_rows()
        flow: list[Flowable] = [
            Spacer(1, 10 * mm),
            _heading(t("cover.title"), s.title, t("cover.title", raw=True)),
            Paragraph(t("cover.subtitle"), s.subtitle),
            self.boxed([Paragraph(t("cover.confidential"), s.small)], _BAND, _RULE),
            Spacer(1, 5 * mm),
            self.key_values(rows, _TEXT_WIDTH),
            Spacer(1, 5 * mm),
        ]
        if case.minor:
            flow += [
                self.boxed(
                    [
                        Paragraph(f"<b>{t('minor.title')}</b>", s.body),
                        Paragraph(t("minor.body"), s.small),
                    ],
                    _ALERT_BAND,
                    _ALERT,
                ),
                Spacer(1, 5 * mm),
            ]
        flow += [
            Paragraph(t("summary.title"), s.h2),
            self.summary(),
            Spacer(1, 4 * mm),
            Paragraph(self.attach_line(), s.body),
        ]
        return flow

    def period_rows(self) -> list[tuple[str, str]]:
        """When the copies were posted (as the sites or exports said), and when Rempart saw
        them: two periods, never one passed off as the other."""
        t = self.text
        if not self.findings:
            return []
        rows = []
        posted = [f.posted_at for f in self.findings if f.posted_at is not None]
        if posted:
            value = t("cover.period.value", start=t.day(min(posted)), end=t.day(max(posted)))
            unknown = len(self.findings) - len(posted)
            if unknown:
                value += " " + (
                    t("cover.period.unknown.one")
                    if unknown == 1
                    else t("cover.period.unknown", n=unknown)
                )
            rows.append((t("cover.period"), value))
        else:
            rows.append((t("cover.period"), t("cover.period.none")))
        start = min(f.first_seen_at for f in self.findings)
        end = max(f.last_seen_at for f in self.findings)
        rows.append((t("cover.seen"), t("cover.period.value", start=t.day(start), end=t.day(end))))
        return rows

    def attach_line(self) -> str:
        t, count = self.text, len(self.dossier.bundles)
        if count == 0:
            return t("cover.attach.none")
        return t("cover.attach.one") if count == 1 else t("cover.attach", n=count)

    def summary(self) -> Table:
        t = self.text
        found = len(self.findings)
        removed = sum(f.removed_at is not None for f in self.findings)
        rows = [(t("summary.found"), found, True)]
        pending = len(self.dossier.pending_findings)
        if pending:
            rows.append((t("summary.pending"), pending, False))
        rows += [
            (t("summary.sites"), len({f.site for f in self.findings}), True),
            (t("summary.removed"), removed, True),
            (t("summary.online"), found - removed, True),
            (t("summary.captures"), sum(len(f.captures) for f in self.findings), True),
            (t("summary.notices"), sum(len(f.notices) for f in self.findings), True),
        ]
        body = ParagraphStyle("count", self.s.body, spaceAfter=0)
        indented = ParagraphStyle("sub", body, leftIndent=10, textColor=_MUTED)
        data = [
            [Paragraph(label, body if top else indented), Paragraph(f"<b>{t.number(n)}</b>", body)]
            for label, n, top in rows
        ]
        table = Table(data, colWidths=[80 * mm, 30 * mm], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, -1), 0.3, _RULE),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table

    def sites(self) -> list[Flowable]:
        if not self.findings:
            return []
        t, s = self.text, self.s
        by_site: dict[str, list[DossierFinding]] = {}
        for finding in self.findings:
            by_site.setdefault(finding.site, []).append(finding)
        ordered = sorted(by_site.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        header = [
            Paragraph(t(key), s.head)
            for key in ("sites.site", "sites.copies", "sites.removed", "sites.first")
        ]
        data = [header] + [
            [
                Paragraph(t.literal(site, 200), s.value),
                Paragraph(t.number(len(found)), s.value),
                Paragraph(t.number(sum(f.removed_at is not None for f in found)), s.value),
                Paragraph(t.when(min(f.first_seen_at for f in found)), s.value),
            ]
            for site, found in ordered
        ]
        widths = [_TEXT_WIDTH - 100 * mm, 22 * mm, 22 * mm, 56 * mm]
        return [Paragraph(t("sites.title"), s.h2), self.grid(data, widths)]

    # ----------------------------------------------------------------------- provenance

    def provenance(self) -> list[Flowable]:
        """The copies by provenance verdict (overall, per site, per month, per victim), the
        share with no signal always stated, and the qualification the signals suggest,
        worded as a presumption for the investigators."""
        if not self.findings:
            return []
        t, s = self.text, self.s
        counts = self.dossier.provenance_counts()
        flow: list[Flowable] = [
            _heading(t("provenance.title"), s.h2, t("provenance.title", raw=True)),
            Paragraph(t("provenance.intro"), s.body),
        ]
        header = [
            Paragraph(t(key), s.head)
            for key in ("provenance.verdict", "provenance.copies", "provenance.meaning")
        ]
        data = [header] + [
            [
                Paragraph(f"<b>{t(f'verdict.{name}')}</b>", s.value),
                Paragraph(t.number(n), s.value),
                Paragraph(t(f"meaning.{name}"), s.value),
            ]
            for name, n in _verdict_rows(counts)
            if n or name != "not-read"
        ]
        flow.append(self.grid(data, [30 * mm, 18 * mm, _TEXT_WIDTH - 48 * mm]))
        flow.append(Spacer(1, 2 * mm))
        flow.append(Paragraph(self.no_signal_line(counts), s.body))
        for title, column, groups in (
            ("provenance.by_site", "provenance.site", self.dossier.provenance_by_site()),
            ("provenance.by_month", "provenance.month", self.dossier.provenance_by_month()),
            ("provenance.by_victim", "provenance.victim", self.dossier.provenance_by_victim()),
        ):
            if len(groups) > 1:
                flow += [Paragraph(t(title), s.h4), self.verdict_grid(column, groups)]
        flow.append(Paragraph(t("qualification.title"), s.h4))
        flow += [Paragraph(line, s.body) for line in self.qualification(counts)]
        return flow

    def no_signal_line(self, counts: VerdictCounts) -> str:
        t = self.text
        if not counts.read:
            return t("provenance.none_read")
        return t(
            "provenance.no_signal",
            share=_percent(counts.no_signal_share, french=t.french),
            n=t.number(counts.no_signal),
            read=t.number(counts.read),
        )

    def verdict_grid(self, column: str, groups: Mapping[str, VerdictCounts]) -> Table:
        t, s = self.text, self.s
        names = [name for name, _ in _verdict_rows(VerdictCounts())]
        header = [Paragraph(t(column), s.head)]
        header += [Paragraph(t(f"column.{name}"), s.head) for name in names]
        header.append(Paragraph(t("column.share"), s.head))
        data = [header]
        for key, counts in groups.items():
            row = [Paragraph(t.literal(key or t.none, 200), s.value)]
            row += [Paragraph(t.number(n), s.value) for _, n in _verdict_rows(counts)]
            share = _percent(counts.no_signal_share, french=t.french) if counts.read else t.none
            row.append(Paragraph(share, s.value))
            data.append(row)
        first = _TEXT_WIDTH - 7 * 18.5 * mm
        return self.grid(data, [first] + [18.5 * mm] * 7)

    def qualification(self, counts: VerdictCounts) -> list[str]:
        """226-8-1 for copies pointing to AI, 226-2-1 for the others, each only when it has
        copies; always the caution that these are presumptions."""
        t = self.text
        total = t.number(counts.total)
        lines = []
        if counts.ai:
            lines.append(
                t(
                    "qualification.deepfake",
                    n=t.number(counts.ai),
                    total=total,
                    declared=t.number(counts.ai_declared),
                    suspected=t.number(counts.ai_suspected),
                )
            )
        others = counts.total - counts.ai
        if others:
            line = t("qualification.sharing", n=t.number(others), total=total)
            if counts.edited:
                line += " " + t("qualification.edited", n=t.number(counts.edited))
            lines.append(line)
        lines.append(t("qualification.caution"))
        return lines

    # --------------------------------------------------------------------------- method

    def method(self) -> list[Flowable]:
        t, s = self.text, self.s
        keys = [
            "method.hashes",
            "method.review",
            "method.seal",
            "method.proves",
            "method.verify",
            "method.provenance",
        ]
        keys.append("method.pictures" if self.show_pictures else "method.pictures.minor")
        flow: list[Flowable] = [_heading(t("method.title"), s.h2, t("method.title", raw=True))]
        flow += [Paragraph(t(key), s.body) for key in keys]
        flow.append(Paragraph(t("method.times", zone=t.zone_name), s.body))
        return flow

    # ------------------------------------------------------------------------- timeline

    def timeline(self) -> list[Flowable]:
        t, s = self.text, self.s
        events = self.dossier.events
        flow: list[Flowable] = [
            Spacer(1, 4 * mm),
            _heading(t("timeline.title"), s.h2, t("timeline.title", raw=True)),
        ]
        if not events:
            return [*flow, Paragraph(t("timeline.empty"), s.body)]
        chart = timeline_png(
            events,
            zone=t.zone,
            kind_labels={kind: t(f"event.{kind.value}", raw=True) for kind in EventKind},
            found_label=t("chart.found", raw=True),
            online_label=t("chart.online", raw=True),
            count_label=t("chart.count", raw=True),
            zone_label=t("chart.zone", zone=t.zone_name, raw=True),
            day_format=t("chart.day", raw=True),
        )
        image = Image(io.BytesIO(chart))
        image.drawHeight = image.imageHeight * _TEXT_WIDTH / image.imageWidth
        image.drawWidth = _TEXT_WIDTH
        caption = Paragraph(t("timeline.caption", zone=t.zone_name), s.muted)
        return [KeepTogether([*flow, image, caption]), Spacer(1, 3 * mm), self.event_counts()]

    def event_counts(self) -> Table:
        t, s = self.text, self.s
        counts = Counter(e.kind for e in self.dossier.events)
        header = [
            Paragraph(t(key), s.head)
            for key in ("timeline.kind", "timeline.count", "timeline.first", "timeline.last")
        ]
        data = [header]
        for kind in KIND_ORDER:
            if not counts[kind]:
                continue
            times = [e.at for e in self.dossier.events if e.kind is kind]
            data.append(
                [
                    Paragraph(t(f"event.{kind.value}"), s.value),
                    Paragraph(t.number(counts[kind]), s.value),
                    Paragraph(t.when(min(times)), s.value),
                    Paragraph(t.when(max(times)), s.value),
                ]
            )
        return self.grid(data, [50 * mm, 20 * mm, 52 * mm, 52 * mm])

    # ------------------------------------------------------------------------- findings

    def finding_sections(self) -> list[Flowable]:
        t, s = self.text, self.s
        flow: list[Flowable] = [_heading(t("findings.title"), s.h2, t("findings.title", raw=True))]
        if not self.findings:
            return [*flow, Paragraph(t("findings.none"), s.body)]
        for finding in self.findings:
            flow += self.finding(finding)
            flow.append(Spacer(1, 6 * mm))
        return flow

    def finding(self, f: DossierFinding) -> list[Flowable]:
        t, s = self.text, self.s
        state = t("finding.confirmed" if f.status is FindingStatus.CONFIRMED else "finding.pending")
        if f.removed_at is not None:
            state += f" · {t('finding.removed')}"
        title = t("finding.title", id=f.id)
        heading = Paragraph(f"{title} — <font color='#52606d'>{state}</font>", s.h3)
        band = Table([[heading]], colWidths=[_TEXT_WIDTH])
        _outlined(band, t("finding.title", id=f.id, raw=True), 1)
        band.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), _BAND),
                    ("LINEABOVE", (0, 0), (-1, 0), 0.8, _INK),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        # The header and the details stay together; captures and notices may flow on to the
        # next page (their titles name the copy), so that copies pack two or three to a page.
        head: list[Flowable] = [band, Spacer(1, 2 * mm), *self.details(f)]
        return [KeepTogether(head), *self.captures(f), *self.notices(f)]

    def details(self, f: DossierFinding) -> list[Flowable]:
        rows = self.finding_rows(f)
        if not self.show_pictures:
            return [self.key_values(rows, _TEXT_WIDTH)]
        beside = self.key_values(rows, _TEXT_WIDTH - _THUMB_COLUMN)
        _, height = beside.wrap(_TEXT_WIDTH - _THUMB_COLUMN, _PAGE_HEIGHT)
        if height > _SIDE_BY_SIDE_MAX:
            # A one-row table cannot split across pages: long (hostile) values would make it
            # taller than a page. Stacked, the details table splits between its rows.
            thumbnail = self.thumbnail(f)
            stacked = thumbnail if isinstance(thumbnail, list) else [thumbnail]
            return [*stacked, Spacer(1, 2 * mm), self.key_values(rows, _TEXT_WIDTH)]
        main = Table(
            [[self.thumbnail(f), beside]],
            colWidths=[_THUMB_COLUMN, _TEXT_WIDTH - _THUMB_COLUMN],
        )
        main.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (0, 0), 4),
                ]
            )
        )
        return [main]

    def finding_rows(self, f: DossierFinding) -> list[tuple[str, str]]:
        t = self.text
        rows = [
            (t("finding.site"), t.literal(f.site, 200)),
            (t("finding.source"), t.literal(f.source, 200)),
        ]
        if f.place:
            rows.append((t("finding.place"), t.literal(f.place, 200)))
        rows += [
            (t("finding.page"), t.literal(f.page_url, _MAX_URL) if f.page_url else t.none),
            (
                t("finding.media_url"),
                t.literal(f.media_url, _MAX_URL) if f.media_url else t.none,
            ),
        ]
        if f.post_id:
            rows.append((t("finding.post"), t.literal(f.post_id, 200)))
        rows.append(
            (t("finding.posted"), t.when(f.posted_at) if f.posted_at else t("finding.unknown.date"))
        )
        rows.append(
            (
                t("finding.author"),
                t.literal(f.author, 200) if f.author else t("finding.unknown.author"),
            )
        )
        media = t(f"media.{f.media}") if f.media in ("image", "video") else t.literal(f.media, 40)
        rows.append((t("finding.media"), media))
        if f.victim:
            rows.append((t("finding.victim"), t.literal(f.victim, 200)))
        rows += [
            (t("finding.first_seen"), t.when(f.first_seen_at)),
            (t("finding.last_seen"), t.when(f.last_seen_at)),
        ]
        if f.removed_at is not None:
            rows.append((t("finding.removed_at"), t.when(f.removed_at)))
        rows += [
            (
                t("finding.item"),
                t("finding.item.value", item=f.item, bank=f.bank),
            ),
            (t("finding.match"), self.match_text(f)),
            (t("finding.provenance"), self.provenance_text(f)),
            (t("finding.review"), self.review_text(f)),
            ("SHA-256", self.mono(f.sha256)),
            ("MD5", self.mono(f.md5)),
        ]
        if f.pdq:
            pdq = self.mono(f.pdq)
            if f.quality is not None:
                pdq += f"<br/>{t('pdq.quality', q=f.quality)}"
            rows.append((t("finding.pdq"), pdq))
        return rows

    def match_text(self, f: DossierFinding) -> str:
        """How the copy matched, in the words the review uses (recadrée, en miroir…)."""
        m = f.match
        return self.text.literal(
            describe_match(
                m.method,
                m.distance,
                m.threshold,
                window=m.window,
                variant=m.variant,
                reference=m.reference,
                lang=self.dossier.language,
            ),
            400,
        )

    def provenance_text(self, f: DossierFinding) -> str:
        """The copy's verdict in words, and who declared AI (names read from the file)."""
        t = self.text
        known = {v.value for v in Verdict}
        text = t(f"verdict.{f.provenance if f.provenance in known else 'not-read'}")
        if f.declared_by:
            text += " — " + t("finding.declared_by", by=", ".join(f.declared_by))
        return text

    def review_text(self, f: DossierFinding) -> str:
        t = self.text
        if f.status is not FindingStatus.CONFIRMED:
            return t("review.pending")
        if f.reviewed_by:
            return t("review.by", who=f.reviewed_by, at=t.when(f.reviewed_at))
        return t("review.at", at=t.when(f.reviewed_at))

    def thumbnail(self, f: DossierFinding) -> Flowable | list[Flowable]:
        """The blurred thumbnail, or a box saying why there is none. Only reached when the
        case allows pictures; the bytes go through blur.thumbnail_png and nothing else."""
        t, s = self.text, self.s
        if f.thumbnail is None:
            return self.placeholder(t("thumb.none"))
        try:
            png = thumbnail_png(f.thumbnail, max_side=THUMBNAIL_SIDE, blur=True)
        except ImageDecodeError:
            return self.placeholder(t("thumb.unreadable"))
        image = Image(io.BytesIO(png))
        scale = _THUMB_BOX / max(image.imageWidth, image.imageHeight)
        image.drawWidth = image.imageWidth * scale
        image.drawHeight = image.imageHeight * scale
        image.hAlign = "LEFT"
        return [image, Spacer(1, 1 * mm), Paragraph(t("thumb.caption"), s.muted)]

    def placeholder(self, message: str) -> Flowable:
        box = Table(
            [[Paragraph(message, self.s.centred)]],
            colWidths=[_THUMB_BOX],
            rowHeights=[_THUMB_BOX * 0.6],
        )
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.5, _RULE),
                    ("BACKGROUND", (0, 0), (-1, -1), _BAND),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        box.hAlign = "LEFT"
        return box

    def captures(self, f: DossierFinding) -> list[Flowable]:
        t, s = self.text, self.s
        flow: list[Flowable] = [Paragraph(self.subtitle(f, "captures.title"), s.h4)]
        if not f.captures:
            return [*flow, Paragraph(t("captures.none"), s.small)]
        for capture in sorted(f.captures, key=lambda c: (c.captured_at, c.bundle)):
            flow.append(self.key_values(self.capture_rows(capture), _TEXT_WIDTH, boxed=True))
            flow.append(Spacer(1, 1.5 * mm))
        return flow

    def subtitle(self, f: DossierFinding, key: str) -> str:
        """A sub-section's title naming its copy: it may land on the next page."""
        t = self.text
        return f"{t(key)} <font color='#52606d'>· {t('finding.title', id=f.id)}</font>"

    def capture_rows(self, c: DossierCapture) -> list[tuple[str, str]]:
        t = self.text
        rows = [
            (t("capture.bundle"), self.mono(c.bundle)),
            (t("capture.sha256"), self.mono(c.bundle_sha256)),
        ]
        if c.url:
            key = (
                "capture.url" if c.url.lower().startswith(("http:", "https:")) else "capture.record"
            )
            rows.append((t(key), t.literal(c.url, _MAX_URL)))
        stamps = [
            t("capture.timestamp", authority=stamp.authority, at=t.when(stamp.gen_time))
            for stamp in sorted(c.timestamps, key=lambda s: (s.gen_time, s.authority))
        ]
        rows += [
            (
                t("capture.when"),
                t("capture.when.value", at=t.when(c.captured_at), operator=c.operator),
            ),
            (t("capture.signer"), self.mono(c.signer)),
            (t("capture.timestamps"), "<br/>".join(stamps) or t("capture.no_timestamp")),
        ]
        return rows

    def notices(self, f: DossierFinding) -> list[Flowable]:
        t, s = self.text, self.s
        flow: list[Flowable] = [Paragraph(self.subtitle(f, "notices.title"), s.h4)]
        if not f.notices:
            return [*flow, Paragraph(t("notices.none"), s.small)]
        header = [
            Paragraph(t(key), s.head)
            for key in (
                "notice.sent",
                "notice.recipient",
                "notice.channel",
                "notice.basis",
                "notice.status",
            )
        ]
        data = [header] + [
            [
                Paragraph(t.when(n.sent_at), s.value),
                Paragraph(
                    t.literal(n.recipient, 300)
                    + (f"<br/>{t.literal(n.message_id, 250)}" if n.message_id else ""),
                    s.value,
                ),
                Paragraph(t.literal(n.channel, 100), s.value),
                Paragraph(t.literal(n.legal_basis, 300), s.value),
                Paragraph(self.notice_status(n), s.value),
            ]
            for n in sorted(f.notices, key=lambda n: (n.sent_at, n.recipient))
        ]
        widths = [30 * mm, 38 * mm, 24 * mm, 42 * mm, _TEXT_WIDTH - 134 * mm]
        return [*flow, self.grid(data, widths)]

    def notice_status(self, n: DossierNotice) -> str:
        t = self.text
        key = f"status.{n.status}"
        status = t(key) if key in CATALOG else t.literal(n.status, 100)
        if n.status_at is not None:
            status = t("notice.status.value", status=_Markup(status), at=t.when(n.status_at))
        if n.time_to_removal is not None:
            hours = f"{n.time_to_removal.total_seconds() / 3600:.1f}"
            status += "<br/>" + t("notice.removed_after", hours=hours)
        if n.escalates is not None:
            status += "<br/>" + t("notice.escalates", id=str(n.escalates))
        return status

    # ---------------------------------------------------------------------------- annex

    def annex(self) -> list[Flowable]:
        t, s = self.text, self.s
        flow: list[Flowable] = [_heading(t("annex.title"), s.h2, t("annex.title", raw=True))]
        if not self.dossier.bundles:
            return [*flow, Paragraph(t("annex.none"), s.body)]
        flow.append(Paragraph(t("annex.intro"), s.body))
        holders = self.dossier.bundle_findings()
        header = [Paragraph(t(key), s.head) for key in ("annex.file", "annex.size", "annex.copies")]
        data: list[list[Flowable]] = [header]
        spans: list[tuple[Any, ...]] = []
        for bundle in self.dossier.bundles:
            size = t("annex.bytes", n=t.number(bundle.size)) if bundle.size is not None else t.none
            copies = ", ".join(f"{i}" for i in holders.get(bundle.name, ())) or t.none
            data.append(
                [
                    Paragraph(self.mono(bundle.name), s.value),
                    Paragraph(size, s.value),
                    Paragraph(copies, s.value),
                ]
            )
            row = len(data)
            data.append([Paragraph(f"SHA-256 {self.mono(bundle.sha256)}", s.value), "", ""])
            spans.append(("SPAN", (0, row), (-1, row)))
            spans.append(("LINEBELOW", (0, row), (-1, row), 0.3, _RULE))
        table = Table(data, colWidths=[100 * mm, 34 * mm, _TEXT_WIDTH - 134 * mm], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, _INK),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                    *spans,
                ]
            )
        )
        return [*flow, table]

    def pending_annex(self) -> list[Flowable]:
        """Matches no caseworker has checked yet, only when asked for: apart, labelled, and
        never counted as copies."""
        pending = self.dossier.pending_findings
        if not pending:
            return []
        t, s = self.text, self.s
        flow: list[Flowable] = [
            PageBreak(),
            _heading(t("pending.title"), s.h2, t("pending.title", raw=True)),
            self.boxed([Paragraph(t("pending.warning"), s.small)], _ALERT_BAND, _ALERT),
            Spacer(1, 4 * mm),
        ]
        for finding in pending:
            flow += self.finding(finding)
            flow.append(Spacer(1, 6 * mm))
        return flow

    # -------------------------------------------------------------------------- helpers

    def mono(self, value: object) -> str:
        """Digests, key fingerprints and file names, at a size where a SHA-256 fits a line."""
        literal = self.text.literal(value)
        return f"<font name='{self.text.fonts.mono}' size='7'>{literal}</font>"

    def key_values(
        self, rows: Iterable[tuple[str, str]], width: float, *, boxed: bool = False
    ) -> Table:
        s = self.s
        data = [[Paragraph(label, s.label), Paragraph(value, s.value)] for label, value in rows]
        table = Table(data, colWidths=[_LABEL_COLUMN, width - _LABEL_COLUMN], hAlign="LEFT")
        commands: list[tuple[Any, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ]
        if boxed:
            commands.append(("BOX", (0, 0), (-1, -1), 0.4, _RULE))
        table.setStyle(TableStyle(commands))
        return table

    def grid(self, data: Sequence[Sequence[Flowable]], widths: Sequence[float]) -> Table:
        table = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, _INK),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, _RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table

    def boxed(self, flowables: list[Flowable], background: Any, border: Any) -> Table:
        box = Table([[flowables]], colWidths=[_TEXT_WIDTH])
        box.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.8, border),
                    ("BACKGROUND", (0, 0), (-1, -1), background),
                    ("LEFTPADDING", (0, 0), (-1, -1), 7),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 7),
                    ("TOPPADDING", (0, 0), (-1, -1), 5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ]
            )
        )
        return box


# -------------------------------------------------------------------------- document, pages


class _Document(BaseDocTemplate):  # type: ignore[misc]  # reportlab is untyped
    _outlines = 0

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802  # reportlab's hook name
        marked = getattr(flowable, _OUTLINE, None)
        if marked is None:
            return
        title, level = marked
        self._outlines += 1
        key = f"s{self._outlines}"  # a counter, not id(): the same input, the same bytes
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(title, key, level, closed=level > 0)


def _numbered_canvas(dossier: Dossier, text: _Text, fonts: _Fonts) -> Callable[..., Canvas]:
    """A canvas class that holds pages back until the end, to print "page n of N" in each
    footer, and dates the file at `generated_at` (reportlab's invariant mode dates it 2000)."""
    header = text("page.header", raw=True)
    generated = text.when(dossier.generated_at)
    reference = text.plain(dossier.case.reference, 60)
    utc = dossier.generated_at.astimezone(ZoneInfo("UTC"))
    pdf_date = utc.strftime("D:%Y%m%d%H%M%S+00'00'")

    class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []
            self.setDateFormatter(lambda *_: pdf_date)

        def showPage(self) -> None:  # noqa: N802  # reportlab's name
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            page = self.getPageNumber()
            shown = reference
            while True:  # a long reference is shortened until the footer fits the line
                footer = text(
                    "page.footer",
                    raw=True,
                    reference=shown,
                    generated=generated,
                    page=page,
                    pages=total,
                )
                fits = pdfmetrics.stringWidth(footer, fonts.sans, 7) <= _TEXT_WIDTH
                if fits or len(shown) <= 4:
                    break
                shown = shown[: len(shown) - 4] + "…"
            self.saveState()
            self.setFillColor(_MUTED)
            self.setStrokeColor(_RULE)
            self.setLineWidth(0.4)
            self.setFont(fonts.sans, 7)
            if page > 1:
                self.drawString(_MARGIN, _PAGE_HEIGHT - _MARGIN + 2 * mm, header)
                self.line(
                    _MARGIN, _PAGE_HEIGHT - _MARGIN, _PAGE_WIDTH - _MARGIN, _PAGE_HEIGHT - _MARGIN
                )
            self.line(_MARGIN, _MARGIN, _PAGE_WIDTH - _MARGIN, _MARGIN)
            self.drawString(_MARGIN, _MARGIN - 4 * mm, footer)
            self.restoreState()

    return _NumberedCanvas


def _verdict_rows(counts: VerdictCounts) -> list[tuple[str, int]]:
    """(stable verdict name, copies), strongest first, `not-read` last."""
    return [
        (Verdict.AI_DECLARED.value, counts.ai_declared),
        (Verdict.AI_SUSPECTED.value, counts.ai_suspected),
        (Verdict.EDITED.value, counts.edited),
        (Verdict.CAMERA.value, counts.camera),
        (Verdict.NO_SIGNAL.value, counts.no_signal),
        ("not-read", counts.not_read),
    ]


def _percent(share: float, *, french: bool) -> str:
    return percent(share, "fr" if french else "en")
