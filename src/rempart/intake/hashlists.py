"""Reading and writing shared hash lists, in the formats partners write and read.

Read: `pdq <hex>` lines (ThreatExchange style, python-threatexchange's `dataset
--print-signals`, the reference PDQ hasher's `hash,quality,filename`), CSV (Rempart's
columns, `hash` + `hash_type`/`signal_type`, python-threatexchange's `dataset --csv`), JSON
and JSON Lines (Rempart's objects, StopNCII-style `signalType`/`hashValue` records, HMA's
signal objects). Written: the same, plus `pytx`, `stopncii` and `hma` for those partners.
No column or key is dropped silently: an unknown one refuses the list (unless the caller
skips unknown columns), and what is deliberately not kept (file names, a partner's
metadata) is counted in `ParsedList.not_kept`.

Pure: text in, validated records and per-line problems out. Never raises on a bad line (each is
reported); raises HashListError only when the whole list is unreadable. Must not touch the store.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rempart.errors import HashListError, InputError, InvalidHash
from rempart.hashing.signals import PdqHash
from rempart.i18n import N_, Phrase
from rempart.intake.signal_names import MATCHABLE, pytx_name, signal_name, stopncii_name
from rempart.intake.vpdq import VPDQ_LINE, VideoFrame, parse_vpdq

__all__ = [
    "ITEM_LISTS",
    "MAX_LIST_BYTES",
    "Formatted",
    "HashRecord",
    "LineProblem",
    "ListFormat",
    "ParsedList",
    "detect_format",
    "format_records",
    "parse_hash_list",
]

MAX_LABEL = 200
MAX_LINE = 10_000
MAX_LIST_BYTES = 256 * 1024 * 1024  # one list file: about 3.5 million PDQ lines
_HEX = re.compile(r"[0-9a-f]+")
_HEX_START = re.compile(r"[0-9a-fA-F]{32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Spreadsheets run cells that start with these as formulas: exported labels get a quote first.
_FORMULA_START = ("=", "+", "-", "@")

_Row = dict[str, Any] | InputError
# What is read but deliberately not kept, said once per list with a count (`not_kept`).
FILE_NAMES = N_("file names")
PARTNER_METADATA = N_("a partner's metadata (collaboration, category, tags, status, dates)")
OUR_NUMBERS = N_("item numbers of the list that was exported")
PICTURE_FACTS = N_("picture facts (size, format, variants)")
SKIPPED_COLUMNS = N_("columns skipped on request")
VIDEO_FRAMES = N_("a video's frame hashes (they come in from a vPDQ file: --format vpdq)")

# Columns (CSV) and keys (JSON) Rempart understands, besides the signal names themselves.
_KEPT = {"pdq", "md5", "sha256", "quality", "label", "media", "pdq_partner"}
_VALUE = ("hash", "signal", "signal_str", "signal_value", "hash_value", "hashvalue", "value")
_TYPE = ("hash_type", "signal_type", "signaltype", "hashtype", "type")
_NOT_KEPT = {
    "id": OUR_NUMBERS,
    "filename": FILE_NAMES,
    "file": FILE_NAMES,
    "path": FILE_NAMES,
    "collab": PARTNER_METADATA,
    "collaboration": PARTNER_METADATA,
    "category": PARTNER_METADATA,
    "tags": PARTNER_METADATA,
    "hashstatus": PARTNER_METADATA,
    "lastmodtimestamp": PARTNER_METADATA,
    "casenumbers": PARTNER_METADATA,
    "cspfeedbacks": PARTNER_METADATA,
    "width": PICTURE_FACTS,
    "height": PICTURE_FACTS,
    "format": PICTURE_FACTS,
    "animated": PICTURE_FACTS,
    "variants": PICTURE_FACTS,
    "durations": PICTURE_FACTS,  # duration_s (names are compared without "_")
    "frames": VIDEO_FRAMES,
}
# A StopNCII record in these states has been withdrawn by the person: never imported.
_WITHDRAWN = {"withdrawn", "deleted"}


class ListFormat(StrEnum):
    PDQ = "pdq"  # `pdq <hex>` lines; digest-only items as `md5`/`sha256`/`video_md5` lines
    CSV = "csv"
    JSON = "json"
    PYTX = "pytx"  # python-threatexchange's signal files: `<signal_type> <signal>` lines
    STOPNCII = "stopncii"  # StopNCII-style records: `signalType` / `hashValue`
    HMA = "hma"  # JSON Lines of HMA signal objects: the body of POST /c/bank/<bank>/signal
    VPDQ = "vpdq"  # one video's frame hashes (rempart.intake.vpdq): one file, one video


# The formats that hold a list of items (bank export); a vPDQ file holds one video.
ITEM_LISTS = tuple(f for f in ListFormat if f is not ListFormat.VPDQ)


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One entry of a hash list, validated. At least one of pdq, md5, sha256, frames is set."""

    pdq: PdqHash | None = None
    quality: int | None = None  # None: the list did not say (a bank setting decides)
    md5: str | None = None
    sha256: str | None = None
    label: str = ""
    line: int = 0  # where it came from, for reports; 0 when not from a list
    media: str = "image"  # "image" or "video" (a video's digests)
    frames: tuple[VideoFrame, ...] = ()  # a video's frame hashes (from a vPDQ file)
    # the PDQ hash partners compute from the raw pixels, where it differs (see ImageHashes)
    partner_pdq: PdqHash | None = None


@dataclass(frozen=True, slots=True)
class LineProblem:
    """Why one entry was refused: an error whose message is a catalog template."""

    line: int
    error: InputError

    @property
    def reason(self) -> str:
        """The reason in English (as stored and in --json)."""
        return str(self.error)

    def localized(self, lang: str | None = None) -> str:
        """The reason in the current (or given) language."""
        return self.error.localized(lang)


@dataclass(slots=True)
class ParsedList:
    records: list[HashRecord] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    # what was read and deliberately not kept (one of the N_ texts above) -> entries
    not_kept: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Formatted:
    """A written list, and the items the format cannot carry (item id, reason)."""

    text: str
    left_out: list[tuple[int, InputError]] = field(default_factory=list)


def detect_format(text: str, filename: str = "") -> ListFormat:
    """Pick the format from the file extension, else from the first meaningful character."""
    lower = filename.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return ListFormat.JSON
    for fmt in (ListFormat.PDQ, ListFormat.CSV, ListFormat.JSON):
        if lower.endswith("." + fmt.value):
            return fmt
    if lower.endswith(".vpdq"):
        return ListFormat.VPDQ
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("[", "{")):
        return ListFormat.JSON
    first = stripped.split("\n", 1)[0].lower()
    if VPDQ_LINE.fullmatch(first.strip()):
        return ListFormat.VPDQ
    fields = {f.strip().strip('"') for f in first.split(",")}
    if len(fields) > 1 and fields & (_KEPT | set(_VALUE) | set(_TYPE)):
        return ListFormat.CSV  # a CSV header names its columns
    return ListFormat.PDQ


def parse_hash_list(
    text: str, fmt: ListFormat | None = None, filename: str = "", *, skip_unknown: bool = False
) -> ParsedList:
    """Validate every entry; bad entries and duplicates become `problems`, never exceptions.

    An unknown CSV column or JSON key refuses the whole list (HashListError) unless
    `skip_unknown`, when it is counted in `not_kept` instead.
    """
    fmt = fmt or detect_format(text, filename)
    text = text.removeprefix("\ufeff")
    parsed = ParsedList()
    if fmt is ListFormat.VPDQ:
        return _video_list(text)
    rows: Iterator[tuple[int, dict[str, Any] | InputError]]
    if fmt in (ListFormat.PDQ, ListFormat.PYTX):
        rows = _pdq_rows(text, parsed.not_kept)
    elif fmt is ListFormat.CSV:
        rows = _csv_rows(text, parsed.not_kept, skip_unknown)
    else:
        rows = _json_rows(text, parsed.not_kept, skip_unknown)
    first_seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        if isinstance(row, InputError):
            parsed.problems.append(LineProblem(line, row))
            continue
        try:
            record = _record(row, line)
        except InvalidHash as exc:
            parsed.problems.append(LineProblem(line, exc))
            continue
        duplicate = _first_duplicate(record, first_seen)
        if duplicate is not None:
            problem = InputError("duplicate of entry {entry}", entry=duplicate)
            parsed.problems.append(LineProblem(line, problem))
            continue
        parsed.records.append(record)
    return parsed


def _video_list(text: str) -> ParsedList:
    """A vPDQ file: one video item made of its frame hashes (its file's digests unknown)."""
    frames, problems = parse_vpdq(text)
    parsed = ParsedList(problems=[LineProblem(line, why) for line, why in problems])
    if not frames:
        raise HashListError("no frame hash in this vPDQ file")
    parsed.records.append(HashRecord(media="video", frames=tuple(frames), line=1))
    return parsed


def _first_duplicate(record: HashRecord, seen: dict[tuple[str, str], int]) -> int | None:
    keys = [
        (kind, value)
        for kind, value in (
            ("pdq", record.pdq.hex if record.pdq else None),
            ("md5", record.md5),
            ("sha256", record.sha256),
        )
        if value is not None
    ]
    for key in keys:
        if key in seen:
            return seen[key]
    for key in keys:
        seen[key] = record.line
    return None


def _pdq_rows(text: str, not_kept: Counter[str]) -> Iterator[tuple[int, _Row]]:
    """`[type ]value[,quality[,file name]][ metadata]` lines.

    `pdq <hex>` and a bare `<hex>` (ThreatExchange); `<hex>,<quality>` (in the wild);
    `<hex>,<quality>,<file name>` (the reference PDQ hasher: the name is not kept);
    `<signal_type> <value> '<collab>' <metadata>` (python-threatexchange's `dataset
    --print-signals`: the metadata is not kept); `video_md5 <hex>` and the other names of
    signal_names.
    """
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE:
            yield number, InputError("line longer than {limit} characters", limit=MAX_LINE)
            continue
        kind, media = "pdq", "image"
        if not _HEX_START.match(line):  # a signal type comes first
            name_text, _, line = line.partition(" ")
            name = signal_name(name_text)
            if name is None:
                yield number, _unmatchable(name_text)
                continue
            kind, media, line = name.field, name.media, line.strip()
        value, comma, after = line.partition(",")
        value, _, metadata = value.strip().partition(" ")
        row: dict[str, Any] = {kind: value, "media": media}
        if metadata.strip():
            not_kept[PARTNER_METADATA] += 1
        if comma:
            if kind != "pdq":
                yield number, InputError("unexpected text after the {kind} value", kind=kind)
                continue
            quality, _, file_name = after.partition(",")
            row["quality"] = quality.strip()
            if file_name.strip():
                not_kept[FILE_NAMES] += 1
        yield number, row


def _unmatchable(name: str) -> InputError:
    return InputError(
        "Rempart cannot match {kind} signals (it matches {known})",
        kind=_CONTROL.sub("?", name[:40]),
        known=MATCHABLE,
    )


_UNKNOWN = (
    "unknown {what}: {names}. Rempart would lose them: rename them, or leave them out on "
    "purpose with --skip-unknown-columns"
)


def _columns(names: Iterable[str], skip_unknown: bool) -> tuple[set[str], set[str], list[str]]:
    """Column (or key) names: kept, deliberately not kept, and unknown (those are dropped
    too when `skip_unknown`, else left for the caller to refuse)."""
    kept: set[str] = set()
    dropped: set[str] = set()
    unknown: list[str] = []
    for name in names:
        if name in _KEPT or name in _VALUE or name in _TYPE or signal_name(name) is not None:
            kept.add(name)
        elif name.replace("_", "") in _NOT_KEPT or skip_unknown:
            dropped.add(name)
        else:
            unknown.append(_CONTROL.sub("?", name[:40]))
    return kept, dropped, sorted(unknown)


def _signals_of(row: dict[str, Any]) -> dict[str, Any] | InputError:
    """A row with partners' names (`hash` + `hash_type`, `video_md5`, ...) in Rempart's terms."""
    out: dict[str, Any] = {k: row[k] for k in ("quality", "label", "pdq_partner") if k in row}
    media = row.get("media")
    if media is not None and media not in ("image", "video"):
        return InputError("media must be image or video")
    medias = {media} if media else set()
    pairs: list[tuple[Any, Any]] = []
    value_key = next((k for k in _VALUE if k in row), None)
    type_key = next((k for k in _TYPE if k in row), None)
    if value_key is not None and type_key is None:
        return InputError("a {column} value needs a signal type beside it", column=value_key)
    if type_key is not None and value_key is None:
        return InputError("a signal type without a value")
    if value_key is not None and type_key is not None:
        pairs.append((row[type_key], row[value_key]))
    skip = {"quality", "label", "media", "pdq_partner", *_VALUE, *_TYPE}
    pairs += [(k, v) for k, v in row.items() if k not in skip]
    for name_text, value in pairs:
        name = signal_name(name_text) if isinstance(name_text, str) else None
        if name is None:
            return _unmatchable(str(name_text))
        if name.field in out and out[name.field] != value:
            return InputError("two different {kind} values in one entry", kind=name.field)
        out[name.field] = value
        if name.field == "pdq":
            medias.add("image")
        elif name.media == "video":
            medias.add("video")  # a plain md5 or sha256 says nothing about the media
    if len(medias) > 1:
        return InputError("an entry is a picture or a video, not both")
    out["media"] = medias.pop() if medias else "image"
    return out


def _csv_rows(
    text: str, not_kept: Counter[str], skip_unknown: bool
) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise HashListError("unreadable CSV header: {reason}", reason=str(exc)) from exc
    kept, dropped, unknown = _columns(header, skip_unknown)
    if not kept - {"quality", "label", "media"}:
        raise HashListError(
            "a CSV hash list needs a header with a pdq, md5 or sha256 column, or hash and "
            "hash_type columns"
        )
    if unknown:
        raise HashListError(_UNKNOWN, what=Phrase("columns"), names=", ".join(unknown))
    reader.fieldnames = header
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                yield line, InputError("more fields than the header names")
                continue
            present = {k: v for k, v in row.items() if v not in (None, "")}
            _count_dropped(present, dropped, not_kept)
            yield line, _signals_of({k: v for k, v in present.items() if k in kept})
    except csv.Error as exc:
        yield reader.line_num, InputError("unreadable CSV: {reason}", reason=str(exc))


def _count_dropped(row: dict[str, Any], dropped: set[str], not_kept: Counter[str]) -> None:
    for what in {_NOT_KEPT.get(k.replace("_", ""), SKIPPED_COLUMNS) for k in row if k in dropped}:
        not_kept[what] += 1


def _json_rows(
    text: str, not_kept: Counter[str], skip_unknown: bool
) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    for number, entry in _json_entries(text):
        yield number, _json_row(entry, not_kept, skip_unknown)


def _json_entries(text: str) -> Iterator[tuple[int, object]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if _looks_like_json_lines(text):
            yield from _json_lines_entries(text)
            return
        raise HashListError("not valid JSON: {reason}", reason=str(exc)) from exc
    except RecursionError as exc:
        raise HashListError("not valid JSON: {reason}", reason="nested too deeply") from exc
    if isinstance(data, dict):
        for wrapper in ("items", "hashRecords"):  # Rempart's, StopNCII's
            if isinstance(data.get(wrapper), list):
                data = data[wrapper]
                break
        else:
            yield 1, data  # one object: JSON Lines of one line, or pretty-printed
            return
    if not isinstance(data, list):
        raise HashListError('a JSON hash list is a list of objects, or {"items": [...]}')
    yield from enumerate(data, start=1)


def _looks_like_json_lines(text: str) -> bool:
    """Whether the first meaningful line is a whole JSON object by itself."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("{"):
            return False
        try:
            return isinstance(json.loads(line), dict)
        except (json.JSONDecodeError, RecursionError):
            return False
    return False


def _json_lines_entries(text: str) -> Iterator[tuple[int, object]]:
    """JSON Lines: one object per line."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if len(line) > MAX_LINE:
            yield number, InputError("line longer than {limit} characters", limit=MAX_LINE)
            continue
        try:
            yield number, json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield number, InputError("not valid JSON: {reason}", reason=str(exc))


def _json_row(
    entry: object, not_kept: Counter[str], skip_unknown: bool
) -> dict[str, Any] | InputError:
    """One object: Rempart's keys, a StopNCII record, or an HMA signal object. Those that
    `rempart hash --json` wrote for files it could not hash (`{"path", "error"}`) are
    reported, not imported."""
    if isinstance(entry, InputError):
        return entry
    if not isinstance(entry, dict):
        return InputError("entry is not an object")
    if "error" in entry and not {"pdq", "md5", "sha256"} & set(entry):
        return InputError(
            "this file could not be hashed: {reason}", reason=str(entry["error"])[:200]
        )
    row = {str(k).lower(): v for k, v in entry.items()}
    status = row.get("hashstatus")
    if isinstance(status, str) and status.lower() in _WITHDRAWN:
        return InputError("withdrawn at the source ({status}): not imported", status=status[:20])
    if isinstance(row.get("signals"), dict):  # HMA's banked content: {"signals": {...}}
        signals = {str(k).lower(): v for k, v in row.pop("signals").items()}
        row.update(signals)
    if "signaltype" in row or "hashvalue" in row:  # StopNCII: {"signalType", "hashValue"}
        row["signal_type"], row["hash_value"] = (
            row.pop("signaltype", None),
            row.pop("hashvalue", None),
        )
    kept, dropped, unknown = _columns(row, skip_unknown)
    if unknown:
        return InputError(_UNKNOWN, what=Phrase("keys"), names=", ".join(unknown))
    _count_dropped(row, dropped, not_kept)
    return _signals_of({k: v for k, v in row.items() if k in kept and v is not None})


def _record(row: dict[str, Any], line: int) -> HashRecord:
    pdq = _pdq(row.get("pdq"))
    md5 = _hex_digest(row.get("md5"), 32, "MD5")
    sha256 = _hex_digest(row.get("sha256"), 64, "SHA-256")
    if pdq is None and md5 is None and sha256 is None:
        raise InvalidHash("no pdq, md5 or sha256 value")
    return HashRecord(
        pdq=pdq,
        quality=_quality(row.get("quality")),
        md5=md5,
        sha256=sha256,
        label=_label(row.get("label")),
        line=line,
        media=str(row.get("media", "image")),
        partner_pdq=_pdq(row.get("pdq_partner")),
    )


def _pdq(value: Any) -> PdqHash | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidHash("pdq must be a string of 64 hexadecimal characters")
    pdq = PdqHash.from_hex(value)
    if pdq.is_degenerate:
        raise InvalidHash(
            "degenerate PDQ hash ({ones} of 256 bits set): it would match unrelated images",
            ones=pdq.ones,
        )
    return pdq


def _hex_digest(value: Any, length: int, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidHash(
            "{name} must be a string of {length} hexadecimal characters", name=name, length=length
        )
    text = value.strip().lower()
    if len(text) != length or not _HEX.fullmatch(text):
        raise InvalidHash(
            "{name} must be {length} hexadecimal characters", name=name, length=length
        )
    if len(set(text)) == 1:
        raise InvalidHash("degenerate {name} (one repeated character)", name=name)
    return text


def _quality(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidHash("quality must be a whole number from 0 to 100")
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise InvalidHash("quality must be a whole number from 0 to 100")
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidHash("quality must be a whole number from 0 to 100")
    return value


def _label(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidHash("label must be text")
    if len(value) > MAX_LABEL:
        raise InvalidHash("label longer than {limit} characters", limit=MAX_LABEL)
    if _CONTROL.search(value):
        raise InvalidHash("label contains control characters")
    label: str = value.strip()
    if label.startswith("'") and label[1:2] in _FORMULA_START:
        label = label[1:]  # undo our own spreadsheet escaping on re-import
    return label


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def format_records(records: Iterable[HashRecord], fmt: ListFormat, ids: Iterable[int]) -> Formatted:
    """Write records as a hash list; `ids` are the store's item ids, in the same order.

    Formats of one signal per entry (pdq lines, pytx, StopNCII, HMA) write an item by its
    PDQ hash, else by one digest (a video's MD5 first, as partners exchange them; a
    picture's SHA-256 first). What a format cannot carry is left out and listed.
    """
    pairs = list(zip(ids, records, strict=True))
    if fmt is ListFormat.VPDQ:
        raise ValueError("a vPDQ file holds one video: see banks.export_videos")
    if fmt in (ListFormat.CSV, ListFormat.JSON):
        framed = [(i, r) for i, r in pairs if r.pdq or r.md5 or r.sha256]
        unframed = [(i, _FRAMES_ONLY) for i, r in pairs if not (r.pdq or r.md5 or r.sha256)]
        return Formatted(_table(framed, fmt), unframed)
    lines: list[str] = []
    records_out: list[dict[str, str]] = []
    left_out: list[tuple[int, InputError]] = []
    for item_id, record in pairs:
        if record.pdq is None and record.md5 is None and record.sha256 is None:
            left_out.append((item_id, _FRAMES_ONLY))
            continue
        signals = [_one_signal(record)]
        if record.partner_pdq is not None:  # what a partner hashing the same file gets
            signals.append(("pdq", record.partner_pdq.hex))
        for kind, value in signals:
            name = _partner_name(fmt, kind, record.media)
            if name is None:
                left_out.append((item_id, _cannot_carry(fmt, kind, record.media)))
            elif fmt is ListFormat.STOPNCII:
                records_out.append({"signalType": name, "hashValue": value})
            elif fmt is ListFormat.HMA:
                lines.append(json.dumps({name: value}) + "\n")
            else:
                lines.append(f"{name} {value}\n")
    if fmt is ListFormat.STOPNCII:
        payload = {"count": len(records_out), "hashRecords": records_out}
        return Formatted(json.dumps(payload, indent=1) + "\n", left_out)
    return Formatted("".join(lines), left_out)


_FRAMES_ONLY = InputError("a video known only by its frame hashes: export it with --format vpdq")


def _one_signal(record: HashRecord) -> tuple[str, str]:
    if record.pdq is not None:
        return "pdq", record.pdq.hex
    order = ("md5", "sha256") if record.media == "video" else ("sha256", "md5")
    for kind in order:
        value = getattr(record, kind)
        if value is not None:
            return kind, value
    raise ValueError("a record has no signal")  # HashRecord's invariant


def _partner_name(fmt: ListFormat, kind: str, media: str) -> str | None:
    field_name: Any = kind
    media_name: Any = media
    if fmt is ListFormat.STOPNCII:
        return stopncii_name(field_name, media_name)
    if fmt in (ListFormat.PYTX, ListFormat.HMA):
        return pytx_name(field_name, media_name)
    return pytx_name(field_name, media_name) or kind  # pdq lines: Rempart reads `md5 <hex>`


def _cannot_carry(fmt: ListFormat, kind: str, media: str) -> InputError:
    name = "MD5" if kind == "md5" else "SHA-256"
    if media == "video":
        return InputError(
            "the {format} format has no signal type for a video's {kind} alone",
            format=fmt.value,
            kind=name,
        )
    return InputError(
        "the {format} format has no signal type for a picture's {kind} alone",
        format=fmt.value,
        kind=name,
    )


def _table(pairs: Sequence[tuple[int, HashRecord]], fmt: ListFormat) -> str:
    rows = [
        {
            "id": item_id,
            "pdq": r.pdq.hex if r.pdq else None,
            "quality": r.quality,
            "md5": r.md5,
            "sha256": r.sha256,
            "media": r.media,
            "pdq_partner": r.partner_pdq.hex if r.partner_pdq else None,
            "label": r.label,
        }
        for item_id, r in pairs
    ]
    if fmt is ListFormat.JSON:
        return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    out = io.StringIO()
    columns = ["id", "pdq", "quality", "md5", "sha256", "media", "pdq_partner", "label"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        row["label"] = _spreadsheet_safe(str(row["label"]))
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()
