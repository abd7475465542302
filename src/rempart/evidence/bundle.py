"""The sealed bundle: one capture, its context, the case's custody chain, digests, an Ed25519
signature, RFC 3161 time-stamps and a closing seal, written as a WACZ 1.1.1 file whose bytes
depend only on its inputs; and a strict reader for such files.

Owns the layout and the canonical ZIP encoding. Must not check signatures or time-stamps when
reading (verify.py proves; this module only parses) and must not touch disk or network.

Layout (every byte is covered by a digest, a signature or the canonical-container check):

    archive/data.warc.gz          the raw HTTP exchange (from the capture)
    indexes/index.cdx             CDXJ index of the WARC
    pages/pages.jsonl             the captured page
    <capture artifacts>           screenshot, HTML, media, as acquired
    rempart/manifest.json         capture context, link path, per-artifact SHA-256, PDQ...
    rempart/custody.jsonl         the case's custody chain, ending with this capture's event
    datapackage.json              every file above with its SHA-256 and size (WACZ)
    datapackage-digest.json       SHA-256 of datapackage.json, signed (Ed25519)
    rempart/timestamps/NN-<tsa>.* RFC 3161 request, response, chain, CRLs over the digest file
    rempart/seal.json             SHA-256 of every file datapackage.json does not list
    rempart/seal.sig              Ed25519 signature of the exact bytes of rempart/seal.json
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import ipaddress
import json
import platform
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from rempart.errors import EvidenceError
from rempart.evidence.artifacts import Capture
from rempart.evidence.custody import (
    CustodyAction,
    CustodyEvent,
    format_time,
    parse_jsonl,
    to_jsonl,
    verify_chain,
)
from rempart.evidence.keys import SigningKey, spki_der
from rempart.evidence.timestamps import Timestamp, Timestamper, verify_timestamp
from rempart.i18n import N_, Phrase, joined

__all__ = [
    "CUSTODY",
    "DATAPACKAGE",
    "DIGEST",
    "INDEX",
    "MANIFEST",
    "PAGES",
    "SEAL",
    "SEAL_SIGNATURE",
    "TIMESTAMPS",
    "BundleEntries",
    "SealedBundle",
    "canonical_zip",
    "capture_custody_detail",
    "read_bundle",
    "read_entries",
    "seal_capture",
    "timestamp_files",
]

WACZ_VERSION = "1.1.1"
MANIFEST_FORMAT = "rempart-evidence-manifest-1"
SEAL_FORMAT = "rempart-seal-1"
SIGNATURE_ALGORITHM = "Ed25519"

DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
PAGES = "pages/pages.jsonl"
INDEX = "indexes/index.cdx"
MANIFEST = "rempart/manifest.json"
CUSTODY = "rempart/custody.jsonl"
SEAL = "rempart/seal.json"
SEAL_SIGNATURE = "rempart/seal.sig"
TIMESTAMPS = "rempart/timestamps/"
WARC_NAME = "archive/data.warc.gz"

MAX_ENTRIES = 10_000
MAX_BUNDLE = 0xFFFF_FFFF  # no ZIP64: a bundle is one page, not a crawl
MAX_NAME = 255
_NAME = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
_RESERVED_PREFIXES = ("rempart/", "indexes/", "pages/")
_RESERVED = {DATAPACKAGE, DIGEST}

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION_NEEDED = 10  # 1.0: stored entries, no directories, no encryption
_MADE_BY = (3 << 8) | 30  # Unix, spec 3.0: external attributes are Unix modes
_FILE_MODE = 0o100644 << 16


# ------------------------------------------------------------------------ canonical ZIP


def _dos_time(moment: datetime) -> tuple[int, int]:
    moment = moment.astimezone(UTC)
    if not 1980 <= moment.year <= 2107:
        raise EvidenceError("ZIP times must fall between 1980 and 2107")
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, date


def check_entry_name(name: str) -> None:
    """A plain relative path of safe ASCII characters: no traversal, no absolute path, no
    backslash, no empty or dot segment, no directory entry."""
    if (
        not isinstance(name, str)
        or len(name) > MAX_NAME
        or not _NAME.fullmatch(name)
        or any(part in (".", "..") for part in name.split("/"))
    ):
        raise EvidenceError(
            "unsafe or invalid file name in bundle: {name!r}",
            name=name[:80] if isinstance(name, str) else name,
        )


def canonical_zip(entries: Mapping[str, bytes], moment: datetime) -> bytes:
    """The one ZIP encoding of `entries`: sorted names, STORED, every entry stamped with
    `moment` (2 s resolution), no extra fields, no comment, Unix mode 0644, no ZIP64."""
    if len(entries) > MAX_ENTRIES:
        raise EvidenceError("a bundle holds at most {count} files", count=MAX_ENTRIES)
    folders = {name[:i] for name in entries for i, c in enumerate(name) if c == "/"}
    if clash := folders & set(entries):
        raise EvidenceError("{name} is both a file and a folder", name=sorted(clash)[0])
    time, date = _dos_time(moment)
    body = bytearray()
    central = bytearray()
    for name in sorted(entries):
        check_entry_name(name)
        data = entries[name]
        encoded = name.encode("ascii")
        crc = zlib.crc32(data)
        offset = len(body)
        body += _LOCAL.pack(
            _LOCAL_SIG, _VERSION_NEEDED, 0, 0, time, date, crc, len(data), len(data),
            len(encoded), 0,
        )  # fmt: skip
        body += encoded
        body += data
        central += _CENTRAL.pack(
            _CENTRAL_SIG, _MADE_BY, _VERSION_NEEDED, 0, 0, time, date, crc, len(data),
            len(data), len(encoded), 0, 0, 0, 0, _FILE_MODE, offset,
        )  # fmt: skip
        central += encoded
        if len(body) + len(central) > MAX_BUNDLE - _END.size:
            raise EvidenceError("a bundle cannot exceed 4 GiB")
    end = _END.pack(_END_SIG, 0, 0, len(entries), len(entries), len(central), len(body), 0)
    return bytes(body + central + end)


@dataclass(frozen=True, slots=True)
class BundleEntries:
    """The files of a bundle as read, in stored order, and how they were read."""

    files: Mapping[str, bytes] = field(repr=False)
    moment: datetime | None  # the entries' common ZIP time, when there is one
    canonical: bool  # the bytes are exactly canonical_zip(files, moment)
    note: str  # why not canonical, or how the entries were read (a Phrase when not "")


def read_entries(data: bytes, *, max_total: int = MAX_BUNDLE) -> BundleEntries:
    """Read a bundle's files without trusting it: canonical bundles are walked entry by entry
    (STORED only, so no decompression bomb); anything else is read through its central
    directory with size caps, for diagnosis. Duplicate or unsafe names, encryption, more than
    MAX_ENTRIES files or more than `max_total` bytes raise EvidenceError."""
    if not isinstance(data, bytes | bytearray):
        raise EvidenceError("a bundle is bytes")
    data = bytes(data)
    if len(data) > MAX_BUNDLE:
        raise EvidenceError("a bundle cannot exceed 4 GiB")
    try:
        files, moment, note = _walk_stored(data)
    except EvidenceError as exc:
        files = _read_any_zip(data, max_total)
        note = Phrase("not a canonical bundle: {reason}", reason=exc)
        return BundleEntries(MappingProxyType(files), None, False, note)
    canonical = canonical_zip(files, moment) == data if moment is not None else False
    if not canonical and not note:
        note = Phrase("the ZIP directory or layout differs from the canonical encoding")
    return BundleEntries(MappingProxyType(files), moment, canonical, note)


def _walk_stored(data: bytes) -> tuple[dict[str, bytes], datetime | None, str]:
    files: dict[str, bytes] = {}
    offset = 0
    stamp: tuple[int, int] | None = None
    note: str = ""
    while data[offset : offset + 4] == struct.pack("<I", _LOCAL_SIG):
        if len(files) >= MAX_ENTRIES:
            raise EvidenceError("more than {count} files", count=MAX_ENTRIES)
        header = data[offset : offset + _LOCAL.size]
        if len(header) < _LOCAL.size:
            raise EvidenceError("truncated ZIP entry header")
        (_, _, flags, method, time, date, crc, csize, usize, nlen, elen) = _LOCAL.unpack(header)
        if flags != 0 or method != 0 or csize != usize:
            raise EvidenceError("entries must be STORED, unencrypted, without data descriptor")
        start = offset + _LOCAL.size
        try:
            name = data[start : start + nlen].decode("ascii")
        except UnicodeDecodeError:
            raise EvidenceError("an entry name is not ASCII") from None
        check_entry_name(name)
        if name in files:
            raise EvidenceError("two entries are named {name}", name=name)
        payload_start = start + nlen + elen
        payload = data[payload_start : payload_start + csize]
        if len(payload) != csize:
            raise EvidenceError("entry {name} is cut short", name=name)
        if zlib.crc32(payload) != crc:
            note = note or Phrase("entry {name} does not match its CRC-32", name=name)
        if stamp is None:
            stamp = (time, date)
        elif stamp != (time, date):
            note = note or Phrase("entries carry different times")
        files[name] = payload
        offset = payload_start + csize
    if not files:
        raise EvidenceError("no ZIP entry at the start of the file")
    moment = _from_dos(*stamp) if stamp is not None else None
    if moment is None:
        note = note or Phrase("the entries' ZIP time is not a valid date")
    return files, moment, note


def _from_dos(time: int, date: int) -> datetime | None:
    try:
        return datetime(
            (date >> 9) + 1980, (date >> 5) & 0xF, date & 0x1F,
            time >> 11, (time >> 5) & 0x3F, (time & 0x1F) * 2, tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None


def _read_any_zip(data: bytes, max_total: int) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise EvidenceError(
            "not a readable ZIP file ({kind})", kind=exc.__class__.__name__
        ) from None
    if len(infos) > MAX_ENTRIES:
        raise EvidenceError("more than {count} files", count=MAX_ENTRIES)
    files: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if info.filename.endswith("/"):  # ZipInfo.is_dir fails on an empty name
            continue
        check_entry_name(info.filename)
        if info.filename in files:
            raise EvidenceError("two entries are named {name}", name=info.filename)
        if info.flag_bits & 0x1:
            raise EvidenceError("encrypted entries are refused")
        chunks = []
        try:
            with archive.open(info) as member:
                while chunk := member.read(1 << 16):
                    total += len(chunk)
                    if total > max_total:
                        raise EvidenceError("the files expand beyond the size limit")
                    chunks.append(chunk)
        except EvidenceError:
            raise
        except Exception as exc:  # zipfile and zlib raise many things on hostile input
            raise EvidenceError(
                "entry {name} is unreadable ({kind})",
                name=info.filename,
                kind=exc.__class__.__name__,
            ) from None
        files[info.filename] = b"".join(chunks)
    return files


# --------------------------------------------------------------------------- JSON forms


def _json_file(document: object) -> bytes:
    """One line of compact JSON (sorted keys, `,` and `:` separators, UTF-8) and a newline: the
    bytes are a function of the value, and small (`jq .` pretty-prints them)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _software() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for distribution in ("rempart", "cryptography", "rfc3161-client", "warcio"):
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[distribution] = "unknown"
    return versions


def _software_label() -> str:
    return f"Rempart {_software()['rempart']}"


def capture_custody_detail(capture: Capture) -> dict[str, Any]:
    """The detail of the custody event that records `capture`: the caller appends
    `append(tail, action=CustodyAction.CAPTURE, detail=capture_custody_detail(capture), ...)`
    before sealing, and verification checks the bundle's artifacts against it."""
    return {
        "url": capture.url,
        "final_url": capture.final_url,
        "started_at": format_time(capture.started_at),
        "finished_at": format_time(capture.finished_at),
        "artifacts": [
            {"path": a.name, "sha256": a.sha256, "bytes": a.size}
            for a in sorted(capture.artifacts, key=lambda a: a.name)
        ],
    }


# --------------------------------------------------------------------------------- WARC


def _surt(url: str) -> str:
    """A SURT key as CDXJ indexes sort them (host reversed, lower case, no `www.`)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        key = host
    except ValueError:
        labels = host.removeprefix("www.").split(".")
        key = ",".join(reversed(labels))
    if parts.port is not None and parts.port not in (80, 443):
        key += f":{parts.port}"
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{key}){path}{query}".lower()


def _cdxj(warc: bytes, filename: str) -> bytes:
    """CDXJ lines for the response, resource and revisit records of `warc`, sorted."""
    from warcio.archiveiterator import ArchiveIterator  # slow import, only when sealing

    lines = []
    try:
        iterator = ArchiveIterator(io.BytesIO(warc))
        for record in iterator:
            kind = record.rec_type
            url = record.rec_headers.get_header("WARC-Target-URI")
            date = record.rec_headers.get_header("WARC-Date") or ""
            status = record.http_headers.get_statuscode() if record.http_headers else None
            mime = (
                record.http_headers.get_header("Content-Type")
                if record.http_headers
                else record.rec_headers.get_header("Content-Type")
            )
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            iterator.read_to_end(record)
            if kind not in ("response", "resource", "revisit") or not url:
                continue
            fields: dict[str, Any] = {
                "url": url,
                "offset": iterator.get_record_offset(),
                "length": iterator.get_record_length(),
                "filename": filename,
            }
            if status:
                fields["status"] = status
            if mime:
                fields["mime"] = mime.split(";")[0].strip()
            if digest:
                fields["digest"] = digest
            ts = re.sub(r"\D", "", date)[:14]
            lines.append(
                f"{_surt(url)} {ts} {json.dumps(fields, sort_keys=True, separators=(',', ':'))}"
            )
    except Exception as exc:  # warcio raises anything on a malformed archive
        raise EvidenceError(
            "the capture's WARC is unreadable ({kind})", kind=exc.__class__.__name__
        ) from None
    return "".join(line + "\n" for line in sorted(lines)).encode("utf-8")


# -------------------------------------------------------------------------------- sealing


def timestamp_files(index: int, stamp: Timestamp) -> dict[str, str]:
    """Where time-stamp `index` (1-based) and its evidence live inside the bundle."""
    base = f"{TIMESTAMPS}{index:02d}-{stamp.authority}"
    return {
        "request": f"{base}.tsq",
        "response": f"{base}.tsr",
        "chain": f"{base}.chain.pem",
    }


def _crl_file(index: int, stamp: Timestamp, number: int) -> str:
    return f"{TIMESTAMPS}{index:02d}-{stamp.authority}.crl-{number}.der"


def _chain_pem(chain: Sequence[bytes]) -> bytes:
    return b"".join(
        x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        for der in chain
    )


def _check_capture(capture: Capture) -> str:
    warcs = [a for a in capture.artifacts if a.name.startswith("archive/")]
    for artifact in capture.artifacts:
        check_entry_name(artifact.name)
        if artifact.name in _RESERVED or artifact.name.startswith(_RESERVED_PREFIXES):
            raise EvidenceError(
                "artifact name {name} is reserved for the bundle", name=artifact.name
            )
    for warc in warcs:
        if not warc.name.endswith((".warc", ".warc.gz")):
            raise EvidenceError("only WARC files may sit under archive/: {name}", name=warc.name)
    if len(warcs) != 1:
        raise EvidenceError("a capture must hold exactly one WARC under archive/")
    if capture.no_media:
        kept = [m.url for m in capture.media if m.artifact is not None]
        pictures = [
            a.name for a in capture.artifacts if a.media_type.startswith(("image/", "video/"))
        ]
        if kept or pictures:
            raise EvidenceError("a no-media capture must not hold pictures or videos")
    names = {a.name for a in capture.artifacts}
    for media in capture.media:
        if media.artifact is not None and media.artifact not in names:
            raise EvidenceError("media {sha256} names a missing artifact", sha256=media.sha256[:12])
    return warcs[0].name


def _check_custody(custody: Sequence[CustodyEvent], capture: Capture) -> None:
    check = verify_chain(custody)
    if not check.ok:
        raise EvidenceError("the custody chain is broken at event {seq}", seq=check.first_bad_seq)
    if not custody:
        raise EvidenceError("the custody chain must end with this capture's event")
    last = custody[-1]
    if last.action is not CustodyAction.CAPTURE or dict(_plain(last.detail)) != (
        capture_custody_detail(capture)
    ):
        raise EvidenceError(
            "the custody chain must end with this capture's event "
            "(action capture, detail from capture_custody_detail)"
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _manifest(
    capture: Capture,
    custody: Sequence[CustodyEvent],
    *,
    case_ref: str,
    finding_ref: str,
    operator: str,
    created: datetime,
) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "case": case_ref,
        "finding": finding_ref,
        "operator": operator,
        "sealed_at": format_time(created),
        "capture": {
            "url": capture.url,
            "final_url": capture.final_url,
            "link_path": list(capture.link_path),
            "started_at": format_time(capture.started_at),
            "finished_at": format_time(capture.finished_at),
            "no_media": capture.no_media,
        },
        "context": _plain(capture.context),
        "artifacts": [
            {
                "path": a.name,
                "media_type": a.media_type,
                "sha256": a.sha256,
                "bytes": a.size,
                "acquired_at": format_time(a.acquired_at),
            }
            for a in sorted(capture.artifacts, key=lambda a: a.name)
        ],
        "media": [
            {
                "url": m.url,
                "sha256": m.sha256,
                "bytes": m.size,
                "media_type": m.media_type,
                "artifact": m.artifact,
                "pdq": m.pdq,
                "pdq_quality": m.quality,
                "width": m.width,
                "height": m.height,
            }
            for m in capture.media
        ],
        "custody": {
            "events": len(custody),
            "capture_event": custody[-1].seq,
            "tail": custody[-1].digest,
        },
        "software": _software(),
    }


def seal_capture(
    capture: Capture,
    *,
    key: SigningKey,
    custody: Sequence[CustodyEvent],
    timestamper: Timestamper,
    case_ref: str,
    finding_ref: str,
    created: datetime,
    operator: str | None = None,
) -> bytes:
    """Seal one capture into a bundle (see the module docstring). Same inputs, same bytes:
    the signature is deterministic (Ed25519) and the time-stamps come from `timestamper`.

    `custody` is the case's chain up to and including this capture's event. `operator`
    defaults to the name in the capture context (`context["operator"]["name"]`). Raises
    EvidenceError on an unusable capture or chain, TimestampError when no time-stamp came."""
    warc_name = _check_capture(capture)
    _check_custody(custody, capture)
    operator = operator if operator is not None else _context_operator(capture)
    for text, missing in (
        (case_ref, N_("a case reference is required")),
        (finding_ref, N_("a finding reference is required")),
        (operator, N_("an operator reference is required")),
    ):
        if not text:
            raise EvidenceError(missing)

    files: dict[str, bytes] = {a.name: a.data for a in capture.artifacts}
    files[INDEX] = _cdxj(files[warc_name], warc_name.removeprefix("archive/"))
    files[PAGES] = _pages(capture, finding_ref)
    files[MANIFEST] = _json_file(
        _manifest(
            capture,
            custody,
            case_ref=case_ref,
            finding_ref=finding_ref,
            operator=operator,
            created=created,
        )
    )
    files[CUSTODY] = to_jsonl(custody)
    files[DATAPACKAGE] = _json_file(_datapackage(files, capture, finding_ref, created))
    files[DIGEST] = _digest_document(files[DATAPACKAGE], key, created)

    stamps = list(timestamper(files[DIGEST]))
    if not stamps:
        raise EvidenceError("no time-stamp was returned for the bundle")
    seal_entries = []
    for index, stamp in enumerate(stamps, start=1):
        verdict = verify_timestamp(stamp, files[DIGEST])
        if not verdict.valid:
            raise EvidenceError(
                "time-stamp {index} is invalid: {problems}",
                index=index,
                problems=joined(verdict.problems),
            )
        places = timestamp_files(index, stamp)
        files[places["request"]] = stamp.request
        files[places["response"]] = stamp.response
        files[places["chain"]] = _chain_pem(stamp.chain)
        crl_names = []
        for number, crl in enumerate(stamp.crls, start=1):
            crl_names.append(_crl_file(index, stamp, number))
            files[crl_names[-1]] = crl
        seal_entries.append(
            {
                "authority": stamp.authority,
                "url": stamp.url,
                **places,
                "crls": crl_names,
                "revocation_notes": list(stamp.revocation_notes),
            }
        )
    listed = {r["path"] for r in json.loads(files[DATAPACKAGE])["resources"]}
    files[SEAL] = _json_file(
        {
            "format": SEAL_FORMAT,
            "created": format_time(created),
            "fingerprint": key.fingerprint,
            "publicKey": base64.b64encode(spki_der(key.public_key)).decode("ascii"),
            "algorithm": SIGNATURE_ALGORITHM,
            "files": [
                {"path": name, "sha256": _sha256(files[name]), "bytes": len(files[name])}
                for name in sorted(files)
                if name not in listed
            ],
            "timestamps": seal_entries,
        }
    )
    files[SEAL_SIGNATURE] = key.sign(files[SEAL])
    return canonical_zip(files, capture.started_at)


def _context_operator(capture: Capture) -> str:
    recorded = capture.context.get("operator")
    if isinstance(recorded, dict) and isinstance(recorded.get("name"), str):
        return str(recorded["name"])
    if isinstance(recorded, str):
        return recorded
    return ""


def _pages(capture: Capture, finding_ref: str) -> bytes:
    title = capture.context.get("title")
    page: dict[str, Any] = {
        "id": finding_ref,
        "url": capture.final_url,
        "ts": format_time(capture.started_at),
    }
    if isinstance(title, str) and title:
        page["title"] = title
    header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    lines = [json.dumps(header, sort_keys=True), json.dumps(page, sort_keys=True)]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _datapackage(
    files: Mapping[str, bytes], capture: Capture, finding_ref: str, created: datetime
) -> dict[str, Any]:
    return {
        "profile": "data-package",
        "wacz_version": WACZ_VERSION,
        "title": f"Rempart evidence {finding_ref}",
        "description": (
            "A capture sealed by Rempart. The signature and time-stamps prove these files are "
            "unchanged since sealing and existed at the time-stamped time; they do not prove "
            "what the server sent. Verify with `rempart verify` or docs/verify.md."
        ),
        "created": format_time(created),
        "software": _software_label(),
        "mainPageUrl": capture.final_url,
        "mainPageDate": format_time(capture.started_at),
        "resources": [
            {
                "name": name.lower().replace("/", "-"),
                "path": name,
                "hash": f"sha256:{_sha256(files[name])}",
                "bytes": len(files[name]),
            }
            for name in sorted(files)
        ],
    }


def _digest_document(datapackage: bytes, key: SigningKey, created: datetime) -> bytes:
    """WACZ's datapackage-digest.json with an anonymous-signature block (WACZ signing 0.1.0),
    Ed25519 instead of ECDSA: the signature covers the UTF-8 text of `hash`."""
    digest = f"sha256:{_sha256(datapackage)}"
    return _json_file(
        {
            "path": DATAPACKAGE,
            "hash": digest,
            "signedData": {
                "hash": digest,
                "algorithm": SIGNATURE_ALGORITHM,
                "signature": base64.b64encode(key.sign(digest.encode("ascii"))).decode("ascii"),
                "publicKey": base64.b64encode(spki_der(key.public_key)).decode("ascii"),
                "fingerprint": key.fingerprint,
                "created": format_time(created),
                "software": _software_label(),
            },
        }
    )


# -------------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class SealedBundle:
    """A bundle read strictly (canonical container, required files, parseable documents).
    Reading proves nothing: `rempart.evidence.verify.verify_bundle` does."""

    files: Mapping[str, bytes] = field(repr=False)
    datapackage: Mapping[str, Any] = field(repr=False)
    digest: Mapping[str, Any] = field(repr=False)
    manifest: Mapping[str, Any] = field(repr=False)
    seal: Mapping[str, Any] = field(repr=False)
    custody: tuple[CustodyEvent, ...] = field(repr=False)
    timestamps: tuple[Timestamp, ...] = field(repr=False)


def load_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise EvidenceError(
            "{what} is not JSON ({kind})", what=what, kind=exc.__class__.__name__
        ) from None


def load_timestamps(files: Mapping[str, bytes], seal: Mapping[str, Any]) -> tuple[Timestamp, ...]:
    """The time-stamps the seal lists, rebuilt from their files."""
    entries = seal.get("timestamps")
    if not isinstance(entries, list):
        raise EvidenceError("the seal lists no time-stamps")
    found = []
    for entry in entries:
        try:
            chain_pem = files[entry["chain"]]
            chain = tuple(
                c.public_bytes(serialization.Encoding.DER)
                for c in x509.load_pem_x509_certificates(chain_pem)
            )
            found.append(
                Timestamp(
                    authority=str(entry["authority"]),
                    url=str(entry["url"]),
                    request=files[entry["request"]],
                    response=files[entry["response"]],
                    chain=chain,
                    crls=tuple(files[name] for name in entry["crls"]),
                    revocation_notes=tuple(str(n) for n in entry["revocation_notes"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EvidenceError(
                "a time-stamp entry of the seal is unusable ({problem!r:.80})", problem=exc
            ) from None
    return tuple(found)


def read_bundle(data: bytes) -> SealedBundle:
    """Parse a bundle strictly: EvidenceError unless the container is canonical and every
    required document parses. Use `verify_bundle` to know whether it can be trusted."""
    entries = read_entries(data)
    if not entries.canonical:
        raise EvidenceError("not a canonical Rempart bundle: {note}", note=entries.note)
    files = entries.files
    for required in (DATAPACKAGE, DIGEST, MANIFEST, CUSTODY, SEAL, SEAL_SIGNATURE, PAGES):
        if required not in files:
            raise EvidenceError("the bundle has no {name}", name=required)
    seal = load_json(files[SEAL], SEAL)
    if not isinstance(seal, dict):
        raise EvidenceError("{name} is not an object", name=SEAL)
    documents = {name: load_json(files[name], name) for name in (DATAPACKAGE, DIGEST, MANIFEST)}
    for name, document in documents.items():
        if not isinstance(document, dict):
            raise EvidenceError("{name} is not an object", name=name)
    return SealedBundle(
        files=files,
        datapackage=documents[DATAPACKAGE],
        digest=documents[DIGEST],
        manifest=documents[MANIFEST],
        seal=seal,
        custody=parse_jsonl(files[CUSTODY]),
        timestamps=load_timestamps(files, seal),
    )


def decode_base64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise EvidenceError("{what} is not a string", what=what)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise EvidenceError("{what} is not base64", what=what) from None
