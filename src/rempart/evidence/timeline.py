"""The dossier's timeline chart: copies found and still online over time, above a strip of
every dated event by kind, as PNG bytes.

Owns the chart's drawing only (matplotlib's object API on the Agg canvas: no pyplot, no global
backend switch, no font or data downloads). Must not see media, URLs or any hostile text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from rempart.evidence.dossier import DossierEvent, EventKind

__all__ = ["CHART_DPI", "CHART_SIZE_IN", "KIND_ORDER", "timeline_png"]

CHART_SIZE_IN = (6.7, 3.9)  # fits the A4 text width (174 mm) at print size
CHART_DPI = 200

KIND_ORDER = (
    EventKind.POSTED,
    EventKind.FIRST_SEEN,
    EventKind.CAPTURED,
    EventKind.CONFIRMED,
    EventKind.NOTICE,
    EventKind.REMOVED,
    EventKind.REAPPEARED,
)
# Okabe-Ito: told apart by colour-blind readers and still distinct when printed in grey.
_COLOURS = {
    EventKind.POSTED: "#000000",
    EventKind.FIRST_SEEN: "#0072B2",
    EventKind.CAPTURED: "#009E73",
    EventKind.CONFIRMED: "#56B4E9",
    EventKind.NOTICE: "#E69F00",
    EventKind.REMOVED: "#D55E00",
    EventKind.REAPPEARED: "#CC79A7",
}
_FOUND_COLOUR = "#0072B2"
_ONLINE_COLOUR = "#D55E00"


def timeline_png(
    events: Sequence[DossierEvent],
    *,
    zone: ZoneInfo,
    kind_labels: Mapping[EventKind, str],
    found_label: str,
    online_label: str,
    count_label: str,
    zone_label: str,
    day_format: str,
) -> bytes:
    """The chart for `events` (at least one), times shown in `zone`. The same input gives the
    same bytes (no timestamps or software version in the PNG)."""
    if not events:
        raise ValueError("a timeline needs at least one event")
    ordered = sorted(events, key=lambda e: (e.at, e.finding_id, e.kind.value))
    local = [_local(e.at, zone) for e in ordered]

    figure = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    counts: Axes
    strip: Axes
    counts, strip = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 2)})
    start, end = min(local), max(local)
    span = end - start
    pad = max(span * 0.03, timedelta(hours=12))
    left, right = _day(start - pad), _day(end + pad)
    _draw_counts(counts, ordered, local, (left, right), found_label, online_label, count_label)
    _draw_strip(strip, ordered, local, kind_labels)
    strip.set_xlim(left, right)
    locator = AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    strip.xaxis.set_major_locator(locator)
    pattern = day_format if span > timedelta(days=3) else f"{day_format}\n%H:%M"
    strip.xaxis.set_major_formatter(DateFormatter(pattern))  # type: ignore[no-untyped-call]
    strip.set_xlabel(zone_label, fontsize=7)
    for axes in (counts, strip):
        axes.tick_params(labelsize=7)
        axes.spines[["top", "right"]].set_visible(False)

    rgba = io.BytesIO()
    figure.savefig(rgba, format="png", metadata={"Software": None})
    # Flattened to RGB: an alpha channel would become a second image (a soft mask) in the PDF.
    with Image.open(rgba) as drawn:
        flat = drawn.convert("RGB")
    buffer = io.BytesIO()
    flat.save(buffer, "PNG")
    return buffer.getvalue()


def _day(moment: datetime) -> float:
    """matplotlib's date number (days since its epoch)."""
    return float(date2num(moment))  # type: ignore[no-untyped-call]


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Wall-clock time in `zone`, without a zone: matplotlib then labels what it is given."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _draw_counts(
    ax: Axes,
    events: Sequence[DossierEvent],
    local: Sequence[datetime],
    limits: tuple[float, float],
    found_label: str,
    online_label: str,
    count_label: str,
) -> None:
    found = online = 0
    # Both lines start at zero at the left edge and carry their last value to the right edge,
    # so a removal on the last day still shows as a step.
    times: list[float] = [limits[0]]
    found_series: list[int] = [0]
    online_series: list[int] = [0]
    # A copy is online from when it was posted, where the site said so, else from when it
    # was first seen; it counts as found when first seen.
    online_since: set[int] = set()
    for event, at in zip(events, local, strict=True):
        if event.kind in (EventKind.POSTED, EventKind.FIRST_SEEN):
            if event.kind is EventKind.FIRST_SEEN:
                found += 1
            if event.finding_id not in online_since:
                online_since.add(event.finding_id)
                online += 1
        elif event.kind is EventKind.REMOVED:
            online -= 1
        elif event.kind is EventKind.REAPPEARED:
            online += 1
        times.append(_day(at))
        found_series.append(found)
        online_series.append(max(online, 0))
    times.append(limits[1])
    found_series.append(found)
    online_series.append(max(online, 0))
    ax.step(
        times, found_series, where="post", color=_FOUND_COLOUR, linewidth=1.6, label=found_label
    )
    ax.step(
        times,
        online_series,
        where="post",
        color=_ONLINE_COLOUR,
        linewidth=1.6,
        linestyle="--",
        label=online_label,
    )
    ax.fill_between(times, online_series, step="post", color=_ONLINE_COLOUR, alpha=0.12)
    ax.set_ylim(bottom=0, top=max(1, found) * 1.12)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(count_label, fontsize=7)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.grid(axis="y", linewidth=0.4, alpha=0.5)


def _draw_strip(
    ax: Axes,
    events: Sequence[DossierEvent],
    local: Sequence[datetime],
    kind_labels: Mapping[EventKind, str],
) -> None:
    present = [k for k in KIND_ORDER if any(e.kind is k for e in events)]
    rows = {kind: len(present) - 1 - i for i, kind in enumerate(present)}  # first kind on top
    for kind in present:
        xs = [_day(at) for e, at in zip(events, local, strict=True) if e.kind is kind]
        ax.scatter(
            xs,
            [rows[kind]] * len(xs),
            marker="|",
            s=90,
            linewidths=1.2,
            color=_COLOURS[kind],
            alpha=0.75,
        )
    ax.set_yticks([rows[k] for k in present], [kind_labels[k] for k in present])
    ax.set_ylim(-0.7, len(present) - 0.3)
    ax.grid(axis="x", linewidth=0.4, alpha=0.5)
