"""Reading and writing shared hash lists: `pdq <hex>` lines (ThreatExchange style), CSV, JSON
and JSON Lines (one object per line, as `rempart hash --json` writes).

Pure: text in, validated records and per-line problems out. Never raises on a bad line (each is
reported); raises HashListError only when the whole list is unreadable. Must not touch the store.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rempart.errors import HashListError, InputError, InvalidHash
from rempart.hashing.signals import PdqHash

__all__ = [
    "MAX_LIST_BYTES",
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
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Spreadsheets run cells that start with these as formulas: exported labels get a quote first.
_FORMULA_START = ("=", "+", "-", "@")


class ListFormat(StrEnum):
    PDQ = "pdq"
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One entry of a hash list, validated. At least one of pdq, md5, sha256 is set."""

    pdq: PdqHash | None = None
    quality: int | None = None
    md5: str | None = None
    sha256: str | None = None
    label: str = ""
    line: int = 0  # where it came from, for reports; 0 when not from a list


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


def detect_format(text: str, filename: str = "") -> ListFormat:
    """Pick the format from the file extension, else from the first meaningful character."""
    lower = filename.lower()
    for fmt in ListFormat:
        if lower.endswith("." + fmt.value):
            return fmt
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("[", "{")):
        return ListFormat.JSON
    fields = {f.strip().strip('"') for f in stripped.split("\n", 1)[0].lower().split(",")}
    if fields & {"pdq", "md5", "sha256"}:  # a CSV header names its columns
        return ListFormat.CSV
    return ListFormat.PDQ


def parse_hash_list(text: str, fmt: ListFormat | None = None, filename: str = "") -> ParsedList:
    """Validate every entry; bad entries and duplicates become `problems`, never exceptions."""
    fmt = fmt or detect_format(text, filename)
    text = text.removeprefix("\ufeff")
    rows: Iterator[tuple[int, dict[str, Any] | InputError]]
    if fmt is ListFormat.PDQ:
        rows = _pdq_rows(text)
    elif fmt is ListFormat.CSV:
        rows = _csv_rows(text)
    else:
        rows = _json_rows(text)
    parsed = ParsedList()
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


def _pdq_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE:
            yield number, InputError("line longer than {limit} characters", limit=MAX_LINE)
            continue
        parts = line.split(None, 1)
        kind = "pdq"
        if len(parts) == 2 and parts[0].lower() in ("pdq", "md5", "sha256"):
            kind, line = parts[0].lower(), parts[1].strip()
        value, _, rest = line.partition(",")  # "hex,quality" also appears in the wild
        row: dict[str, Any] = {kind: value.strip()}
        if rest.strip():
            if kind != "pdq":
                yield number, InputError("unexpected text after the {kind} value", kind=kind)
                continue
            row["quality"] = rest.strip()
        yield number, row


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise HashListError("unreadable CSV header: {reason}", reason=str(exc)) from exc
    if not {"pdq", "md5", "sha256"} & set(header):
        raise HashListError("a CSV hash list needs a header with a pdq, md5 or sha256 column")
    reader.fieldnames = header
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                yield line, InputError("more fields than the header names")
                continue
            yield line, {k: v for k, v in row.items() if v not in (None, "")}
    except csv.Error as exc:
        yield reader.line_num, InputError("unreadable CSV: {reason}", reason=str(exc))


def _json_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if _looks_like_json_lines(text):
            yield from _json_lines_rows(text)
            return
        raise HashListError("not valid JSON: {reason}", reason=str(exc)) from exc
    except RecursionError as exc:
        raise HashListError("not valid JSON: {reason}", reason="nested too deeply") from exc
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    elif isinstance(data, dict):
        yield 1, _json_entry(data)  # one object: JSON Lines of one line, or pretty-printed
        return
    if not isinstance(data, list):
        raise HashListError('a JSON hash list is a list of objects, or {"items": [...]}')
    for number, entry in enumerate(data, start=1):
        if isinstance(entry, dict):
            yield number, entry
        else:
            yield number, InputError("entry is not an object")


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


def _json_lines_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | InputError]]:
    """JSON Lines: one object per line, each read by `_json_entry`."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if len(line) > MAX_LINE:
            yield number, InputError("line longer than {limit} characters", limit=MAX_LINE)
            continue
        try:
            entry = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield number, InputError("not valid JSON: {reason}", reason=str(exc))
            continue
        yield number, _json_entry(entry)


def _json_entry(entry: object) -> dict[str, Any] | InputError:
    """One object of a JSON Lines list. Those `rempart hash --json` wrote for files it could
    not hash (`{"path": ..., "error": ...}`) are reported, not imported."""
    if not isinstance(entry, dict):
        return InputError("entry is not an object")
    if "error" in entry and not {"pdq", "md5", "sha256"} & set(entry):
        return InputError(
            "this file could not be hashed: {reason}", reason=str(entry["error"])[:200]
        )
    return entry


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


def format_records(records: Iterable[HashRecord], fmt: ListFormat, ids: Iterable[int]) -> str:
    """Write records as a hash list; `ids` are the store's item ids, in the same order."""
    pairs = list(zip(ids, records, strict=True))
    if fmt is ListFormat.PDQ:
        return "".join(f"pdq {r.pdq.hex}\n" for _, r in pairs if r.pdq is not None)
    rows = [
        {
            "id": item_id,
            "pdq": r.pdq.hex if r.pdq else None,
            "quality": r.quality,
            "md5": r.md5,
            "sha256": r.sha256,
            "label": r.label,
        }
        for item_id, r in pairs
    ]
    if fmt is ListFormat.JSON:
        return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "pdq", "quality", "md5", "sha256", "label"])
    writer.writeheader()
    for row in rows:
        row["label"] = _spreadsheet_safe(str(row["label"]))
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return out.getvalue()
