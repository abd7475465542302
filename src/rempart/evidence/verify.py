"""Verify a sealed bundle offline: one PASS / FAIL / NOT CHECKED line per check, in French or
English, with what the bundle proves and what it cannot prove, and a JSON form.

Owns the checks and their wording. Must not read the clock, the network or any store: the
same bytes and the same trusted keys and roots always give the same report, and hostile
input only ever produces FAIL lines, never an exception.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cryptography import x509

from rempart.errors import EvidenceError
from rempart.evidence.bundle import (
    CUSTODY,
    DATAPACKAGE,
    DIGEST,
    MANIFEST,
    PAGES,
    SEAL,
    SEAL_FORMAT,
    SEAL_SIGNATURE,
    WACZ_VERSION,
    BundleEntries,
    decode_base64,
    load_json,
    load_timestamps,
    read_entries,
    timestamp_files,
)
from rempart.evidence.custody import CustodyAction, parse_jsonl, parse_time, verify_chain
from rempart.evidence.keys import (
    PublicKeyInfo,
    fingerprint,
    public_key_from_spki,
    verify_signature,
)
from rempart.evidence.timestamps import (
    RevocationStatus,
    Timestamp,
    TimestampVerdict,
    openssl_verify_command,
    verify_timestamp,
)
from rempart.i18n import Catalog, Messages

__all__ = [
    "CATALOG",
    "EXIT_FAIL",
    "EXIT_PASS",
    "EXIT_UNTRUSTED",
    "GIVEN_KEY",
    "LIST_KEY",
    "OWN_KEY",
    "Check",
    "Status",
    "VerifyReport",
    "render_report",
    "report_json_text",
    "report_to_json",
    "verify_bundle",
]

# Checks that must PASS for a bundle to be called intact (trust checks may be NOT CHECKED).
CORE = (
    "container",
    "inventory",
    "datapackage",
    "digest",
    "signature",
    "seal",
    "custody",
    "acquisition",
    "warc",
)
_MAX_WARC_EXPANSION = 512 * 1024 * 1024  # decompressed WARC bytes read per bundle
_CLOCK_SKEW = timedelta(minutes=5)
_MAX_VALUE = 400
# Where the trust in a sealing key came from, said in the report.
GIVEN_KEY = "given"  # the person verifying gave it (--trust-key)
OWN_KEY = "own"  # this installation's own key ($REMPART_HOME/keys)
LIST_KEY = "list"  # a key list the organisation published (--trust-list)
# `rempart verify` exit statuses, one per verdict (2 is a usage error, as for every command).
EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_UNTRUSTED = 3


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    NOT_CHECKED = "not_checked"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: a stable id, a status and the catalog message that says it."""

    id: str
    status: Status
    key: str
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # A Rempart error the line quotes: rendered in the report's language, where `values`
    # keeps its English.
    cause: EvidenceError | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Every check's line, what the bundle states about itself, and each time-stamp's verdict.
    `ok`: the bundle is intact; `trusted`: and its key and a time-stamping root are trusted."""

    bundle_sha256: str
    bundle_bytes: int
    checks: tuple[Check, ...]
    facts: Mapping[str, str]  # what the bundle says about itself (read, not proven by itself)
    timestamps: tuple[TimestampVerdict, ...] = ()

    @property
    def ok(self) -> bool:
        """Intact: no check failed, every core check passed and a time-stamp is valid."""
        passed = {c.id for c in self.checks if c.status is Status.PASS}
        has_timestamp = any(
            c.id.startswith("timestamp.") and c.id.count(".") == 1 and c.status is Status.PASS
            for c in self.checks
        )
        no_failure = all(c.status is not Status.FAIL for c in self.checks)
        return no_failure and has_timestamp and all(core in passed for core in CORE)

    @property
    def trusted(self) -> bool:
        """Intact, sealed by a trusted key within its life, and stamped by an authority under
        a trusted root."""
        passed = {c.id for c in self.checks if c.status is Status.PASS}
        stamped = any(c.id.endswith(".trust") and c.id in passed for c in self.checks)
        return self.ok and "key_trust" in passed and stamped

    @property
    def verdict(self) -> str:
        """pass (intact and trusted), untrusted (intact, but nothing you trust vouches for
        it: anyone can seal a bundle with their own key and time-stamp server) or fail."""
        if not self.ok:
            return "fail"
        return "pass" if self.trusted else "untrusted"

    @property
    def exit_status(self) -> int:
        return {"pass": EXIT_PASS, "untrusted": EXIT_UNTRUSTED}.get(self.verdict, EXIT_FAIL)

    def check(self, check_id: str) -> Check:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)


def _values(**values: object) -> Mapping[str, str]:
    return MappingProxyType({k: _short(str(v)) for k, v in values.items()})


def _short(text: str) -> str:
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _error(check_id: str, exc: BaseException) -> Check:
    cause = exc if isinstance(exc, EvidenceError) else None
    return Check(check_id, Status.FAIL, "check.error", _values(error=_describe(exc)), cause)


def _describe(exc: BaseException, lang: str = "en") -> str:
    """A short, printable account of why a check could not run: library messages on hostile
    input may quote kilobytes of binary."""
    if isinstance(exc, EvidenceError):
        text = exc.localized(lang) if lang != "en" else str(exc)
    else:
        text = f"{exc.__class__.__name__}: {exc}"
    text = ascii(text)[1:-1]
    return text if len(text) <= 160 else text[:159] + "…"


# --------------------------------------------------------------------------------- checks


@dataclass
class _Context:
    """What the checks share as they go; each check fills what it proved."""

    files: Mapping[str, bytes] = field(repr=False)
    entries: BundleEntries
    trusted_keys: Mapping[str, str]  # fingerprint -> where its trust came from
    tsa_roots: tuple[x509.Certificate, ...]
    crls: tuple[bytes, ...] = field(default=(), repr=False)
    key_lives: Mapping[str, PublicKeyInfo] = field(default_factory=dict)
    datapackage: dict[str, Any] | None = None
    digest: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    seal: dict[str, Any] | None = None
    public_key: bytes | None = field(default=None, repr=False)
    facts: dict[str, str] = field(default_factory=dict)
    verdicts: list[TimestampVerdict] = field(default_factory=list)


def _json(files: Mapping[str, bytes], name: str) -> dict[str, Any]:
    if name not in files:
        raise EvidenceError("{name} is missing", name=name)
    document = load_json(files[name], name)
    if not isinstance(document, dict):
        raise EvidenceError("{name} is not a JSON object", name=name)
    return document


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _names(names: Iterable[str], limit: int = 5) -> str:
    listed = sorted(names)
    text = ", ".join(listed[:limit])
    return text + (f" (+{len(listed) - limit})" if len(listed) > limit else "")


def _check_container(ctx: _Context) -> Check:
    if not ctx.entries.canonical:
        return Check("container", Status.FAIL, "container.fail", _values(note=ctx.entries.note))
    started = _started_at(ctx)
    moment = ctx.entries.moment
    if started is not None and (
        moment is None or abs((moment - started.replace(microsecond=0)).total_seconds()) >= 2
    ):
        return Check(
            "container",
            Status.FAIL,
            "container.fail",
            _values(note="the ZIP time is not the capture time"),
        )
    return Check("container", Status.PASS, "container.pass", _values(files=len(ctx.files)))


def _started_at(ctx: _Context) -> datetime | None:
    """The capture time the manifest states, when it can be read (the ZIP time must match)."""
    try:
        return parse_time(_json(ctx.files, MANIFEST)["capture"]["started_at"])
    except (EvidenceError, KeyError, TypeError, ValueError):
        return None  # the inventory and custody checks report an unreadable manifest


def _by_path(entries: object, where: str) -> dict[str, Mapping[str, Any]]:
    """A file list (datapackage resources, seal entries) by path; malformed or repeated
    entries are refused."""
    if not isinstance(entries, list):
        raise EvidenceError("{where} has no file list", where=where)
    found: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise EvidenceError("an entry of {where} has no path", where=where)
        if entry["path"] in found:
            raise EvidenceError("{where} lists {path} twice", where=where, path=entry["path"])
        found[entry["path"]] = entry
    return found


def _resources(datapackage: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return _by_path(datapackage.get("resources"), "datapackage.json")


def _sealed(seal: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return _by_path(seal.get("files"), "the seal")


def _check_inventory(ctx: _Context) -> Check:
    ctx.datapackage = _json(ctx.files, DATAPACKAGE)
    ctx.seal = _json(ctx.files, SEAL)
    listed = _resources(ctx.datapackage)
    sealed = _sealed(ctx.seal)
    required = {DATAPACKAGE, DIGEST, MANIFEST, CUSTODY, PAGES, SEAL, SEAL_SIGNATURE}
    missing = (required | set(listed) | set(sealed)) - set(ctx.files)
    both = set(listed) & set(sealed)
    misplaced = {DIGEST, DATAPACKAGE, SEAL, SEAL_SIGNATURE} & set(listed)
    misplaced |= {SEAL, SEAL_SIGNATURE} & set(sealed)
    stray = set(ctx.files) - set(listed) - set(sealed) - {SEAL, SEAL_SIGNATURE}
    if missing:
        return Check("inventory", Status.FAIL, "inventory.missing", _values(names=_names(missing)))
    if both or misplaced:
        return Check(
            "inventory", Status.FAIL, "inventory.misplaced", _values(names=_names(both | misplaced))
        )
    if stray:
        return Check("inventory", Status.FAIL, "inventory.stray", _values(names=_names(stray)))
    return Check("inventory", Status.PASS, "inventory.pass", _values(files=len(ctx.files)))


def _digest_mismatches(
    files: Mapping[str, bytes], listing: Mapping[str, Mapping[str, Any]], prefix: str
) -> list[str]:
    bad = []
    for path, entry in listing.items():
        data = files.get(path)
        expected = entry.get("hash" if prefix else "sha256")
        if data is None or expected != f"{prefix}{_sha(data)}" or entry.get("bytes") != len(data):
            bad.append(path)
    return bad


def _check_datapackage(ctx: _Context) -> Check:
    datapackage = ctx.datapackage or _json(ctx.files, DATAPACKAGE)
    if datapackage.get("profile") != "data-package" or (
        datapackage.get("wacz_version") != WACZ_VERSION
    ):
        return Check("datapackage", Status.FAIL, "datapackage.format", _values())
    listing = _resources(datapackage)
    bad = _digest_mismatches(ctx.files, listing, "sha256:")
    if bad:
        return Check("datapackage", Status.FAIL, "datapackage.fail", _values(names=_names(bad)))
    return Check("datapackage", Status.PASS, "datapackage.pass", _values(files=len(listing)))


def _check_digest(ctx: _Context) -> Check:
    ctx.digest = _json(ctx.files, DIGEST)
    expected = f"sha256:{_sha(ctx.files[DATAPACKAGE])}"
    signed = ctx.digest.get("signedData")
    if (
        ctx.digest.get("path") != DATAPACKAGE
        or ctx.digest.get("hash") != expected
        or not isinstance(signed, dict)
        or signed.get("hash") != expected
    ):
        return Check("digest", Status.FAIL, "digest.fail", _values())
    return Check("digest", Status.PASS, "digest.pass", _values(hash=expected))


def _check_signature(ctx: _Context) -> Check:
    digest = ctx.digest or _json(ctx.files, DIGEST)
    signed = digest.get("signedData")
    if not isinstance(signed, dict) or signed.get("algorithm") != "Ed25519":
        return Check("signature", Status.FAIL, "signature.fail", _values(why="no Ed25519 block"))
    raw = public_key_from_spki(decode_base64(signed.get("publicKey"), "publicKey"))
    signature = decode_base64(signed.get("signature"), "signature")
    key_id = fingerprint(raw)
    ctx.facts["fingerprint"] = key_id
    if signed.get("fingerprint") != key_id:
        return Check(
            "signature", Status.FAIL, "signature.fail", _values(why="fingerprint mismatch")
        )
    message = signed.get("hash")
    if not isinstance(message, str) or not verify_signature(raw, signature, message.encode()):
        return Check("signature", Status.FAIL, "signature.fail", _values(why="bad signature"))
    ctx.public_key = raw
    return Check("signature", Status.PASS, "signature.pass", _values(fingerprint=key_id))


def _check_key_trust(ctx: _Context) -> Check:
    if ctx.public_key is None:
        return Check("key_trust", Status.NOT_CHECKED, "key_trust.no_signature", _values())
    key_id = fingerprint(ctx.public_key)
    if not ctx.trusted_keys:
        return Check(
            "key_trust", Status.NOT_CHECKED, "key_trust.none_given", _values(fingerprint=key_id)
        )
    if key_id in ctx.trusted_keys:
        origin = ctx.trusted_keys[key_id]
        key = {
            OWN_KEY: "key_trust.pass.own",
            GIVEN_KEY: "key_trust.pass.given",
            LIST_KEY: "key_trust.pass.list",
        }.get(origin, "key_trust.pass")
        return Check("key_trust", Status.PASS, key, _values(fingerprint=key_id, origin=origin))
    return Check("key_trust", Status.FAIL, "key_trust.fail", _values(fingerprint=key_id))


def _check_seal(ctx: _Context) -> Check:
    seal = ctx.seal or _json(ctx.files, SEAL)
    if seal.get("format") != SEAL_FORMAT or SEAL_SIGNATURE not in ctx.files:
        return Check("seal", Status.FAIL, "seal.fail", _values(why="not a Rempart seal"))
    raw = public_key_from_spki(decode_base64(seal.get("publicKey"), "publicKey"))
    if (
        ctx.public_key is None
        or raw != ctx.public_key
        or seal.get("fingerprint") != fingerprint(raw)
    ):
        return Check("seal", Status.FAIL, "seal.fail", _values(why="not the signing key"))
    if not verify_signature(raw, ctx.files[SEAL_SIGNATURE], ctx.files[SEAL]):
        return Check("seal", Status.FAIL, "seal.fail", _values(why="bad signature"))
    bad = _digest_mismatches(ctx.files, _sealed(seal), "")
    if bad:
        return Check("seal", Status.FAIL, "seal.files", _values(names=_names(bad)))
    return Check("seal", Status.PASS, "seal.pass", _values(files=len(seal["files"])))


def _timestamp_checks(ctx: _Context) -> list[Check]:
    seal = ctx.seal or _json(ctx.files, SEAL)
    stamps = load_timestamps(ctx.files, seal)
    if not stamps:
        return [Check("timestamp.1", Status.FAIL, "timestamp.none", _values())]
    manifest = ctx.manifest or _json(ctx.files, MANIFEST)
    started = parse_time(manifest["capture"]["started_at"])
    verdicts = [
        verify_timestamp(stamp, ctx.files[DIGEST], roots=ctx.tsa_roots, crls=ctx.crls)
        for stamp in stamps
    ]
    ctx.verdicts.extend(verdicts)
    # One trusted authority is enough: a second one under a root you did not list is then
    # not a failure, only not checked.
    any_trusted = any(v.valid and v.trusted for v in verdicts)
    checks: list[Check] = []
    for index, (stamp, verdict) in enumerate(zip(stamps, verdicts, strict=True), start=1):
        checks.extend(_one_timestamp(ctx, index, stamp, verdict, started, any_trusted))
    return checks


def _one_timestamp(
    ctx: _Context,
    index: int,
    stamp: Timestamp,
    verdict: TimestampVerdict,
    started: datetime,
    any_trusted: bool,
) -> list[Check]:
    base = f"timestamp.{index}"
    when = f"{verdict.gen_time:%Y-%m-%dT%H:%M:%SZ}" if verdict.gen_time else "?"
    problems = list(verdict.problems)
    if verdict.gen_time is not None and verdict.gen_time + _CLOCK_SKEW < started:
        problems.append("it was issued before the capture it covers started")
    places = timestamp_files(index, stamp)
    command = openssl_verify_command(
        data_file=DIGEST,
        response_file=places["response"],
        ca_file="trusted-roots.pem",
        untrusted_file=places["chain"],
        gen_time=verdict.gen_time,
        crl_check=bool(stamp.crls),
    )
    common = {"authority": stamp.authority, "gen_time": when, "openssl": " ".join(command)}
    if problems:
        return [
            Check(
                base, Status.FAIL, "timestamp.fail", _values(problems="; ".join(problems), **common)
            )
        ]
    ctx.facts.setdefault("first_timestamp", when)
    checks = [Check(base, Status.PASS, "timestamp.pass", _values(**common))]
    root = _values(
        root=verdict.root_subject or "?", root_fingerprint=verdict.root_fingerprint or "?"
    )
    if verdict.trusted is None:
        checks.append(Check(f"{base}.trust", Status.NOT_CHECKED, "timestamp.trust.none", root))
    elif verdict.trusted:
        checks.append(Check(f"{base}.trust", Status.PASS, "timestamp.trust.pass", root))
    elif any_trusted:
        checks.append(Check(f"{base}.trust", Status.NOT_CHECKED, "timestamp.trust.other", root))
    else:
        checks.append(Check(f"{base}.trust", Status.FAIL, "timestamp.trust.fail", root))
    detail = _values(detail="; ".join(verdict.revocation_detail) or "-")
    revocation = {
        RevocationStatus.GOOD: (Status.PASS, "timestamp.revocation.good"),
        RevocationStatus.REVOKED_LATER: (Status.PASS, "timestamp.revocation.later"),
        RevocationStatus.REVOKED: (Status.FAIL, "timestamp.revocation.revoked"),
        RevocationStatus.UNKNOWN: (Status.NOT_CHECKED, "timestamp.revocation.unknown"),
    }[verdict.revocation]
    checks.append(Check(f"{base}.revocation", revocation[0], revocation[1], detail))
    return checks


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def _check_key_validity(ctx: _Context) -> Check:
    """A retired key is trusted only for bundles time-stamped before its retirement; a
    compromised one only for bundles an authority time-stamped before the compromise."""
    if ctx.public_key is None:
        return Check("key_validity", Status.NOT_CHECKED, "key_trust.no_signature", _values())
    key_id = fingerprint(ctx.public_key)
    life = ctx.key_lives.get(key_id)
    if life is None:
        return Check("key_validity", Status.NOT_CHECKED, "key_validity.unknown", _values())
    valid = [v for v in ctx.verdicts if v.valid and v.gen_time is not None]
    trusted = sorted(v.gen_time for v in valid if v.trusted and v.gen_time is not None)
    anywhere = sorted(v.gen_time for v in valid if v.gen_time is not None)
    created = _values(created=_when(life.created))
    if life.retired is None and life.compromised is None:
        if trusted and trusted[0] + _CLOCK_SKEW < life.created:
            return Check("key_validity", Status.FAIL, "key_validity.before", created)
        return Check("key_validity", Status.PASS, "key_validity.active", created)
    # The end of the key's trusted life: its retirement or compromise, whichever came first.
    ends = [(life.compromised, "compromised"), (life.retired, "retired")]
    end, why = min(((t, w) for t, w in ends if t is not None), key=lambda pair: pair[0])
    # A retired key's private half is deleted on rotation: a bundle it seals is stamped
    # within seconds; a compromise leaves no such grace.
    limit = end + _CLOCK_SKEW if why == "retired" else end
    values = _values(
        created=_when(life.created), end=_when(end), stamped=_when(anywhere[0]) if anywhere else "?"
    )
    if trusted and trusted[0] < limit:
        if trusted[0] + _CLOCK_SKEW < life.created:
            return Check("key_validity", Status.FAIL, "key_validity.before", created)
        return Check("key_validity", Status.PASS, f"key_validity.{why}.before", values)
    if not trusted and anywhere and anywhere[0] < limit:
        return Check("key_validity", Status.NOT_CHECKED, f"key_validity.{why}.unproven", values)
    return Check("key_validity", Status.FAIL, f"key_validity.{why}.after", values)


def _check_custody(ctx: _Context) -> Check:
    manifest = ctx.manifest or _json(ctx.files, MANIFEST)
    events = parse_jsonl(ctx.files[CUSTODY])
    anchor = manifest["custody"]["tail"]
    chain = verify_chain(events, anchor=anchor)
    if not chain.ok:
        return Check(
            "custody",
            Status.FAIL,
            "custody.broken",
            _values(seq=chain.first_bad_seq, reason=chain.reason, detail=chain.detail),
        )
    last = events[-1]
    artifacts = [
        {"path": a["path"], "sha256": a["sha256"], "bytes": a["bytes"]}
        for a in sorted(manifest["artifacts"], key=lambda a: a["path"])
    ]
    detail = last.detail
    capture = manifest["capture"]
    if (
        last.action is not CustodyAction.CAPTURE
        or last.seq != manifest["custody"]["capture_event"]
        or _plain(detail.get("artifacts")) != artifacts
        or detail.get("url") != capture["url"]
        or detail.get("final_url") != capture["final_url"]
    ):
        return Check("custody", Status.FAIL, "custody.not_this_capture", _values(seq=last.seq))
    return Check("custody", Status.PASS, "custody.pass", _values(events=len(events), seq=last.seq))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _check_acquisition(ctx: _Context) -> Check:
    manifest = ctx.manifest or _json(ctx.files, MANIFEST)
    bad = []
    for artifact in manifest["artifacts"]:
        data = ctx.files.get(artifact["path"])
        if data is None or _sha(data) != artifact["sha256"] or len(data) != artifact["bytes"]:
            bad.append(str(artifact["path"]))
    for media in manifest["media"]:
        if media["artifact"] is not None:
            data = ctx.files.get(media["artifact"])
            if data is None or _sha(data) != media["sha256"]:
                bad.append(str(media["artifact"]))
    if bad:
        return Check("acquisition", Status.FAIL, "acquisition.fail", _values(names=_names(bad)))
    return Check(
        "acquisition", Status.PASS, "acquisition.pass", _values(files=len(manifest["artifacts"]))
    )


def _check_warc(ctx: _Context) -> Check:
    from warcio.archiveiterator import ArchiveIterator  # slow import, only when needed

    warcs = sorted(n for n in ctx.files if n.startswith("archive/"))
    if not warcs:
        return Check("warc", Status.FAIL, "warc.none", _values())
    records = checked = 0
    budget = _MAX_WARC_EXPANSION
    bad: list[str] = []
    for name in warcs:
        iterator = ArchiveIterator(io.BytesIO(ctx.files[name]), check_digests=True)
        for record in iterator:
            records += 1
            stream = record.content_stream()
            while chunk := stream.read(1 << 16):
                budget -= len(chunk)
                if budget < 0:
                    raise EvidenceError("the WARC expands beyond the size limit")
            if record.digest_checker.passed is False:
                bad.append(f"{name}#{iterator.get_record_offset()}")
            elif record.digest_checker.passed:
                checked += 1
    if bad:
        return Check("warc", Status.FAIL, "warc.fail", _values(names=_names(bad)))
    if records == 0:
        return Check("warc", Status.FAIL, "warc.none", _values())
    return Check("warc", Status.PASS, "warc.pass", _values(records=records, checked=checked))


def _facts(ctx: _Context) -> None:
    try:
        manifest = _json(ctx.files, MANIFEST)
        ctx.manifest = manifest
        capture = manifest.get("capture", {})
        for key, value in (
            ("case", manifest.get("case")),
            ("finding", manifest.get("finding")),
            ("operator", manifest.get("operator")),
            ("sealed_at", manifest.get("sealed_at")),
            ("url", capture.get("url")),
            ("final_url", capture.get("final_url")),
            ("captured_at", capture.get("started_at")),
        ):
            if isinstance(value, str):
                ctx.facts[key] = _short(value)
        source = (manifest.get("context") or {}).get("source")
        if isinstance(source, dict) and isinstance(source.get("kind"), str):
            ctx.facts["source"] = _short(f"{source['kind']}: {source.get('name', '?')}")
    except Exception:  # the checks below say what is wrong with the manifest
        ctx.manifest = None


_Step = Callable[[_Context], "Check | list[Check]"]
_STEPS: tuple[tuple[str, _Step], ...] = (
    ("container", _check_container),
    ("inventory", _check_inventory),
    ("datapackage", _check_datapackage),
    ("digest", _check_digest),
    ("signature", _check_signature),
    ("key_trust", _check_key_trust),
    ("seal", _check_seal),
    ("timestamp.1", _timestamp_checks),
    ("key_validity", _check_key_validity),
    ("custody", _check_custody),
    ("acquisition", _check_acquisition),
    ("warc", _check_warc),
)


def verify_bundle(
    data: bytes,
    *,
    trusted_keys: Iterable[str] | Mapping[str, str] = (),
    tsa_roots: Sequence[x509.Certificate] = (),
    crls: Sequence[bytes] = (),
    key_lives: Iterable[PublicKeyInfo] = (),
) -> VerifyReport:
    """Every check on `data`, offline. `trusted_keys` are the Ed25519 fingerprints your
    organisation published (or a mapping of each to where its trust came from: GIVEN_KEY,
    OWN_KEY, LIST_KEY, said in the report); `tsa_roots` the time-stamping roots you trust;
    `crls` (DER) any revocation lists you obtained since sealing, checked with those kept in
    the bundle; `key_lives` what is known of the keys' lives (created, retired, compromised):
    a key is trusted only for bundles time-stamped within its life. Never raises."""
    size = len(data) if isinstance(data, bytes | bytearray) else 0
    digest = _sha(bytes(data)) if isinstance(data, bytes | bytearray) else "?"
    try:
        if isinstance(trusted_keys, Mapping):
            keys = {k.strip().lower(): str(v) for k, v in trusted_keys.items()}
        else:
            keys = {k.strip().lower(): "" for k in trusted_keys}
        lives = {info.fingerprint: info for info in key_lives}
        return _verify(bytes(data), keys, tuple(tsa_roots), tuple(crls), digest, lives)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a library panic (BaseException) must still be a FAIL
        return VerifyReport(digest, size, (_error("container", exc),), MappingProxyType({}))


def _verify(
    data: bytes,
    trusted_keys: Mapping[str, str],
    roots: tuple[x509.Certificate, ...],
    crls: tuple[bytes, ...],
    digest: str,
    lives: Mapping[str, PublicKeyInfo],
) -> VerifyReport:
    try:
        entries = read_entries(data)
    except EvidenceError as exc:
        unread = [Check("container", Status.FAIL, "container.unreadable", _values(why=exc), exc)]
        unread += [
            Check(step, Status.NOT_CHECKED, "check.unreadable", _values()) for step, _ in _STEPS[1:]
        ]
        return VerifyReport(digest, len(data), tuple(unread), MappingProxyType({}))
    ctx = _Context(entries.files, entries, trusted_keys, roots, crls, key_lives=lives)
    _facts(ctx)
    checks: list[Check] = []
    for step_id, step in _STEPS:
        try:
            result = step(ctx)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # hostile input: any failure is this check's FAIL
            result = _error(step_id, exc)
        checks.extend(result if isinstance(result, list) else [result])
    return VerifyReport(
        digest, len(data), tuple(checks), MappingProxyType(dict(ctx.facts)), tuple(ctx.verdicts)
    )


# ------------------------------------------------------------------------------ wording

CATALOG: Catalog = {
    "title": {
        "en": "Rempart evidence bundle — verification report",
        "fr": "Scellé de preuve Rempart — rapport de vérification",
    },
    "bundle": {
        "en": "Bundle: SHA-256 {sha256}, {size} bytes",
        "fr": "Scellé : SHA-256 {sha256}, {size} octets",
    },
    "fact.url": {"en": "Page captured: {value}", "fr": "Page capturée : {value}"},
    "fact.final_url": {"en": "Final URL: {value}", "fr": "URL finale : {value}"},
    "fact.captured_at": {"en": "Capture started: {value}", "fr": "Début de la capture : {value}"},
    "fact.case": {"en": "Case: {value}", "fr": "Dossier : {value}"},
    "fact.finding": {"en": "Finding: {value}", "fr": "Copie trouvée : {value}"},
    "fact.record": {
        "en": "Copy as found in its source: {value}",
        "fr": "Copie telle que trouvée dans sa source : {value}",
    },
    "fact.source": {
        "en": "Sealed from a file-based source (not a web capture): {value}",
        "fr": "Scellée depuis une source de fichiers (pas une capture web) : {value}",
    },
    "ref.finding": {"en": "finding {n}", "fr": "n° {n}"},
    "ref.capture": {
        "en": "none (capture {n}, made by hand)",
        "fr": "aucune (constat n° {n}, fait à la main)",
    },
    "fact.operator": {"en": "Captured by: {value}", "fr": "Capturé par : {value}"},
    "fact.fingerprint": {
        "en": "Sealing key fingerprint: {value}",
        "fr": "Empreinte de la clé de scellement : {value}",
    },
    "facts.note": {
        "en": "(as the bundle states them; the checks below say whether they can be relied on)",
        "fr": "(tels que le scellé les déclare ; les contrôles ci-dessous disent si l'on peut "
        "s'y fier)",
    },
    "line": {"en": "[{status}] {label}: {message}", "fr": "[{status}] {label} : {message}"},
    "status.pass": {"en": "PASS", "fr": "RÉUSSI"},
    "status.fail": {"en": "FAIL", "fr": "ÉCHEC"},
    "status.not_checked": {"en": "NOT CHECKED", "fr": "NON VÉRIFIÉ"},
    "verdict.ok": {
        "en": "Verdict: PASS — the bundle is intact and its seal holds.",
        "fr": "Verdict : RÉUSSI — le scellé est intact et son sceau tient.",
    },
    "verdict.trusted": {
        "en": "The sealing key (within its validity) and a time-stamping root are among those "
        "you trust.",
        "fr": "La clé de scellement (pendant sa validité) et une racine d'horodatage font partie "
        "de celles auxquelles vous faites confiance.",
    },
    "verdict.untrusted_title": {
        "en": "Verdict: UNTRUSTED — the bundle is intact and its seal holds, but nothing you "
        "trust vouches for who sealed it or when.",
        "fr": "Verdict : NON FIABLE — le scellé est intact et son sceau tient, mais rien de ce "
        "à quoi vous faites confiance ne garantit qui l'a scellé ni quand.",
    },
    "verdict.untrusted": {
        "en": "Anyone can seal a bundle with their own key and their own time-stamping server: "
        "do not rely on it until its key and time-stamping root are ones you trust.",
        "fr": "N'importe qui peut sceller un scellé avec sa propre clé et son propre serveur "
        "d'horodatage : ne vous y fiez pas tant que sa clé et sa racine d'horodatage ne sont "
        "pas de celles auxquelles vous faites confiance.",
    },
    "verdict.untrusted_todo": {
        "en": "What to do: obtain the organisation's published key list (`rempart keys export "
        "--list`) and the time-stamping authority's root certificate through a channel you "
        "trust, then run again with `--trust-list FILE` (or `--trust-key FINGERPRINT`) and "
        "`--tsa-root FILE`.",
        "fr": "Que faire : obtenez la liste de clés publiée par l'organisation (`rempart keys "
        "export --list`) et le certificat racine de l'autorité d'horodatage par un canal de "
        "confiance, puis relancez avec `--trust-list FICHIER` (ou `--trust-key EMPREINTE`) et "
        "`--tsa-root FICHIER`.",
    },
    "verdict.fail": {
        "en": "Verdict: FAIL — do not rely on this bundle: it was altered, damaged or is "
        "incomplete.",
        "fr": "Verdict : ÉCHEC — ne vous fiez pas à ce scellé : il a été modifié, endommagé ou "
        "il est incomplet.",
    },
    "check.error": {
        "en": "unreadable or inconsistent: {error}",
        "fr": "illisible ou incohérent : {error}",
    },
    "check.unreadable": {
        "en": "not checked: the container cannot be read",
        "fr": "non vérifié : le conteneur est illisible",
    },
    "label.container": {"en": "Container (canonical ZIP)", "fr": "Conteneur (ZIP canonique)"},
    "label.inventory": {"en": "Inventory of files", "fr": "Inventaire des fichiers"},
    "label.datapackage": {
        "en": "File digests (datapackage.json)",
        "fr": "Empreintes des fichiers (datapackage.json)",
    },
    "label.digest": {
        "en": "Digest of the file list (datapackage-digest.json)",
        "fr": "Empreinte de la liste des fichiers (datapackage-digest.json)",
    },
    "label.signature": {"en": "Ed25519 signature", "fr": "Signature Ed25519"},
    "label.key_trust": {"en": "Sealing key trusted", "fr": "Clé de scellement reconnue"},
    "label.key_validity": {
        "en": "Sealing key valid when sealed",
        "fr": "Clé de scellement valide lors du scellement",
    },
    "label.seal": {"en": "Closing seal (seal.json)", "fr": "Sceau final (seal.json)"},
    "label.timestamp": {"en": "Time-stamp {n}", "fr": "Horodatage {n}"},
    "label.timestamp.trust": {
        "en": "Time-stamp {n}: trusted root",
        "fr": "Horodatage {n} : racine de confiance",
    },
    "label.timestamp.revocation": {
        "en": "Time-stamp {n}: revocation",
        "fr": "Horodatage {n} : révocation",
    },
    "label.custody": {"en": "Chain of custody", "fr": "Chaîne de traçabilité"},
    "label.acquisition": {
        "en": "Digests taken at acquisition",
        "fr": "Empreintes prises à l'acquisition",
    },
    "label.warc": {"en": "WARC record digests", "fr": "Empreintes des enregistrements WARC"},
    "container.pass": {
        "en": "{files} files, encoded exactly as Rempart seals them",
        "fr": "{files} fichiers, encodés exactement comme Rempart les scelle",
    },
    "container.fail": {
        "en": "the ZIP container was altered: {note}",
        "fr": "le conteneur ZIP a été modifié : {note}",
    },
    "container.unreadable": {
        "en": "not a readable bundle: {why}",
        "fr": "ce n'est pas un scellé lisible : {why}",
    },
    "inventory.pass": {
        "en": "each of the {files} files is covered by the file list or the closing seal",
        "fr": "chacun des {files} fichiers est couvert par la liste des fichiers ou le sceau final",
    },
    "inventory.missing": {"en": "missing files: {names}", "fr": "fichiers manquants : {names}"},
    "inventory.misplaced": {
        "en": "files listed in the wrong place: {names}",
        "fr": "fichiers listés au mauvais endroit : {names}",
    },
    "inventory.stray": {
        "en": "files covered by nothing: {names}",
        "fr": "fichiers couverts par rien : {names}",
    },
    "datapackage.pass": {
        "en": "the {files} listed files match their SHA-256 and size",
        "fr": "les {files} fichiers listés correspondent à leur SHA-256 et à leur taille",
    },
    "datapackage.fail": {
        "en": "these files differ from their recorded digest: {names}",
        "fr": "ces fichiers diffèrent de leur empreinte enregistrée : {names}",
    },
    "datapackage.format": {
        "en": "datapackage.json is not a WACZ 1.1.1 data package",
        "fr": "datapackage.json n'est pas un data package WACZ 1.1.1",
    },
    "digest.pass": {
        "en": "datapackage.json has the digest {hash}",
        "fr": "datapackage.json a l'empreinte {hash}",
    },
    "digest.fail": {
        "en": "datapackage.json does not match its recorded digest",
        "fr": "datapackage.json ne correspond pas à son empreinte enregistrée",
    },
    "signature.pass": {
        "en": "valid, by key {fingerprint}",
        "fr": "valide, par la clé {fingerprint}",
    },
    "signature.fail": {"en": "invalid ({why})", "fr": "invalide ({why})"},
    "key_trust.pass": {
        "en": "{fingerprint} is among the keys you trust",
        "fr": "{fingerprint} fait partie des clés auxquelles vous faites confiance",
    },
    "key_trust.pass.given": {
        "en": "{fingerprint} is a key you gave as trusted (--trust-key)",
        "fr": "{fingerprint} est une clé que vous avez déclarée de confiance (--trust-key)",
    },
    "key_trust.pass.own": {
        "en": "{fingerprint} is this installation's own sealing key ($REMPART_HOME/keys), "
        "trusted because it is yours; someone else checks it against the fingerprint the "
        "organisation published (--trust-key, and --no-own-keys to trust nothing else)",
        "fr": "{fingerprint} est la clé de scellement de cette installation "
        "($REMPART_HOME/keys), reconnue parce que c'est la vôtre ; un tiers la compare à "
        "l'empreinte publiée par l'organisation (--trust-key, et --no-own-keys pour ne rien "
        "reconnaître d'autre)",
    },
    "key_trust.pass.list": {
        "en": "{fingerprint} is in the key list the organisation published (--trust-list)",
        "fr": "{fingerprint} figure dans la liste de clés publiée par l'organisation "
        "(--trust-list)",
    },
    "key_trust.fail": {
        "en": "{fingerprint} is NOT among the keys you trust",
        "fr": "{fingerprint} ne fait PAS partie des clés auxquelles vous faites confiance",
    },
    "key_trust.none_given": {
        "en": "no trusted keys given; compare {fingerprint} with the fingerprint the "
        "organisation published",
        "fr": "aucune clé de confiance fournie ; comparez {fingerprint} avec l'empreinte publiée "
        "par l'organisation",
    },
    "key_trust.no_signature": {
        "en": "no valid signature to attribute",
        "fr": "aucune signature valide à attribuer",
    },
    "key_validity.unknown": {
        "en": "no validity period known for this key (a bare fingerprint, or no trusted key)",
        "fr": "aucune période de validité connue pour cette clé (une empreinte seule, ou aucune "
        "clé de confiance)",
    },
    "key_validity.active": {
        "en": "the key is active (created {created}), neither retired nor compromised",
        "fr": "la clé est active (créée le {created}), ni retirée ni compromise",
    },
    "key_validity.before": {
        "en": "a trusted time-stamp is earlier than the key's creation ({created}): the key "
        "list and the bundle disagree",
        "fr": "un horodatage de confiance est antérieur à la création de la clé ({created}) : "
        "la liste de clés et le scellé sont en désaccord",
    },
    "key_validity.retired.before": {
        "en": "the key was retired {end}; a trusted time-stamp proves the bundle existed "
        "before, at {stamped}",
        "fr": "la clé a été retirée le {end} ; un horodatage de confiance prouve que le scellé "
        "existait avant, le {stamped}",
    },
    "key_validity.retired.unproven": {
        "en": "the key was retired {end}; the bundle is time-stamped {stamped}, before, but "
        "by an authority whose root you did not list",
        "fr": "la clé a été retirée le {end} ; le scellé est horodaté du {stamped}, avant, mais "
        "par une autorité dont vous n'avez pas fourni la racine",
    },
    "key_validity.retired.after": {
        "en": "the key was RETIRED {end} and no time-stamp proves the bundle existed before "
        "(first time-stamp: {stamped}): a retired key must never seal again",
        "fr": "la clé a été RETIRÉE le {end} et aucun horodatage ne prouve que le scellé "
        "existait avant (premier horodatage : {stamped}) : une clé retirée ne doit plus "
        "jamais sceller",
    },
    "key_validity.compromised.before": {
        "en": "the key is compromised since {end}, but an independent authority's trusted "
        "time-stamp proves the bundle existed before, at {stamped}",
        "fr": "la clé est compromise depuis le {end}, mais l'horodatage de confiance d'une "
        "autorité indépendante prouve que le scellé existait avant, le {stamped}",
    },
    "key_validity.compromised.unproven": {
        "en": "the key is compromised since {end}; the bundle is time-stamped {stamped}, "
        "before, but by an authority whose root you did not list",
        "fr": "la clé est compromise depuis le {end} ; le scellé est horodaté du {stamped}, "
        "avant, mais par une autorité dont vous n'avez pas fourni la racine",
    },
    "key_validity.compromised.after": {
        "en": "the key is COMPROMISED since {end} and no trusted time-stamp proves the bundle "
        "existed before (first time-stamp: {stamped}): anyone may have sealed it",
        "fr": "la clé est COMPROMISE depuis le {end} et aucun horodatage de confiance ne "
        "prouve que le scellé existait avant (premier horodatage : {stamped}) : n'importe qui "
        "a pu le sceller",
    },
    "seal.pass": {
        "en": "signed by the same key; the {files} files it lists are unchanged",
        "fr": "signé par la même clé ; les {files} fichiers qu'il liste sont inchangés",
    },
    "seal.fail": {"en": "invalid ({why})", "fr": "invalide ({why})"},
    "seal.files": {
        "en": "these files differ from the seal: {names}",
        "fr": "ces fichiers diffèrent du sceau : {names}",
    },
    "timestamp.none": {
        "en": "the bundle holds no time-stamp",
        "fr": "le scellé ne contient aucun horodatage",
    },
    "timestamp.pass": {
        "en": "{authority} stamped the digest file at {gen_time} (UTC); independent check: "
        "{openssl}",
        "fr": "{authority} a horodaté le fichier d'empreinte le {gen_time} (UTC) ; contrôle "
        "indépendant : {openssl}",
    },
    "timestamp.fail": {
        "en": "{authority} ({gen_time}): {problems}",
        "fr": "{authority} ({gen_time}) : {problems}",
    },
    "timestamp.trust.pass": {
        "en": "chains to {root}, a root you trust",
        "fr": "remonte à {root}, une racine de confiance",
    },
    "timestamp.trust.fail": {
        "en": "chains to {root} (SHA-256 {root_fingerprint}), NOT a root you trust",
        "fr": "remonte à {root} (SHA-256 {root_fingerprint}), qui N'EST PAS une racine de "
        "confiance",
    },
    "timestamp.trust.other": {
        "en": "chains to {root} (SHA-256 {root_fingerprint}), not a root you listed; another "
        "time-stamp is under a trusted root",
        "fr": "remonte à {root} (SHA-256 {root_fingerprint}), qui n'est pas une racine "
        "fournie ; un autre horodatage relève d'une racine de confiance",
    },
    "timestamp.trust.none": {
        "en": "no trusted roots given; chains to {root} (SHA-256 {root_fingerprint})",
        "fr": "aucune racine de confiance fournie ; remonte à {root} (SHA-256 {root_fingerprint})",
    },
    "timestamp.revocation.good": {
        "en": "not revoked, per the CRLs kept at stamping time ({detail})",
        "fr": "non révoqué, d'après les CRL conservées lors de l'horodatage ({detail})",
    },
    "timestamp.revocation.later": {
        "en": "revoked only after the time-stamp, for a benign reason ({detail})",
        "fr": "révoqué seulement après l'horodatage, pour un motif sans gravité ({detail})",
    },
    "timestamp.revocation.revoked": {
        "en": "the authority's certificate is REVOKED ({detail})",
        "fr": "le certificat de l'autorité est RÉVOQUÉ ({detail})",
    },
    "timestamp.revocation.unknown": {
        "en": "revocation could not be checked: {detail}",
        "fr": "la révocation n'a pas pu être vérifiée : {detail}",
    },
    "custody.pass": {
        "en": "{events} events chained without a break, ending with this capture (event {seq})",
        "fr": "{events} événements chaînés sans rupture, se terminant par cette capture "
        "(événement {seq})",
    },
    "custody.broken": {
        "en": "broken at event {seq}: {reason} ({detail})",
        "fr": "rompue à l'événement {seq} : {reason} ({detail})",
    },
    "custody.not_this_capture": {
        "en": "the last event ({seq}) does not record this capture",
        "fr": "le dernier événement ({seq}) n'enregistre pas cette capture",
    },
    "acquisition.pass": {
        "en": "the {files} captured files are those digested when acquired",
        "fr": "les {files} fichiers capturés sont ceux dont l'empreinte a été prise à "
        "l'acquisition",
    },
    "acquisition.fail": {
        "en": "these files differ from their acquisition digest: {names}",
        "fr": "ces fichiers diffèrent de leur empreinte d'acquisition : {names}",
    },
    "warc.pass": {
        "en": "{records} records read, {checked} record digests verified",
        "fr": "{records} enregistrements lus, {checked} empreintes d'enregistrement vérifiées",
    },
    "warc.fail": {
        "en": "records whose digest fails: {names}",
        "fr": "enregistrements dont l'empreinte est fausse : {names}",
    },
    "warc.none": {"en": "no WARC record found", "fr": "aucun enregistrement WARC trouvé"},
    "proven.title": {"en": "What this proves", "fr": "Ce que cela prouve"},
    "proven.unchanged": {
        "en": "These files are unchanged since they were sealed.",
        "fr": "Ces fichiers n'ont pas changé depuis leur scellement.",
    },
    "proven.existed": {
        "en": "They existed no later than {gen_time} (UTC), as time-stamped by {authority}.",
        "fr": "Ils existaient au plus tard le {gen_time} (UTC), selon l'horodatage de {authority}.",
    },
    "proven.sealed_by": {
        "en": "The holder of key {fingerprint} sealed them.",
        "fr": "Le détenteur de la clé {fingerprint} les a scellés.",
    },
    "proven.custody": {
        "en": "The custody log recorded up to this capture has not been edited, reordered or cut.",
        "fr": "Le journal de traçabilité enregistré jusqu'à cette capture n'a été ni modifié, "
        "ni réordonné, ni tronqué.",
    },
    "proven.nothing": {
        "en": "Nothing: a bundle that fails verification proves nothing until the failure is "
        "explained.",
        "fr": "Rien : un scellé qui échoue à la vérification ne prouve rien tant que l'échec "
        "n'est pas expliqué.",
    },
    "not_proven.title": {"en": "What this does not prove", "fr": "Ce que cela ne prouve pas"},
    "not_proven.server": {
        "en": "That the web server really sent these contents: the capture is the record of "
        "the capturing browser, signed by whoever captured it.",
        "fr": "Que le serveur web a réellement envoyé ces contenus : la capture est "
        "l'enregistrement du navigateur qui l'a faite, signé par qui l'a faite.",
    },
    "not_proven.source": {
        "en": "That the platform really published these contents: the record is what the "
        "export or file held when it was read, sealed by whoever read it.",
        "fr": "Que la plateforme a réellement publié ces contenus : l'enregistrement est ce "
        "que contenait l'export ou le fichier au moment de sa lecture, scellé par qui l'a lu.",
    },
    "not_proven.operator": {
        "en": "Who operates the site or published the content.",
        "fr": "Qui exploite le site ou a publié le contenu.",
    },
    "not_proven.person": {
        "en": "Anything about the person depicted: identity, consent or age.",
        "fr": "Quoi que ce soit sur la personne représentée : identité, consentement ou âge.",
    },
    "not_proven.before": {
        "en": "When the content first appeared online: only that it existed at capture time.",
        "fr": "Quand le contenu est apparu en ligne pour la première fois : seulement qu'il "
        "existait au moment de la capture.",
    },
}

_FACTS = (
    "source",
    "url",
    "final_url",
    "captured_at",
    "case",
    "finding",
    "operator",
    "fingerprint",
)

# English details that checks quote from the time-stamp and custody code, in French.
_DETAILS_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french)
    for pattern, french in (
        (r"CRL issued (\S+)", r"CRL émise le \1"),
        (r": not revoked \(", r" : non révoqué ("),
        (r": revoked (\S+), after genTime \(", r" : révoqué le \1, après l'horodatage ("),
        (r": revoked (\S+) \(", r" : révoqué le \1 ("),
        (r"no reason given", "aucun motif donné"),
        (
            r"^no CRL from its issuer was kept for ",
            "aucune CRL de son émetteur n'a été conservée pour ",
        ),
        (r"^a kept CRL is unreadable$", "une CRL conservée est illisible"),
        (
            r"^it was issued before the capture it covers started$",
            "il a été émis avant le début de la capture qu'il couvre",
        ),
        (
            r"^its imprint is not the SHA-256 of the stamped file$",
            "son empreinte n'est pas le SHA-256 du fichier horodaté",
        ),
        (
            r"^the kept request is not for the stamped file$",
            "la requête conservée ne porte pas sur le fichier horodaté",
        ),
        (
            r"^its nonce does not match the kept request$",
            "son nonce ne correspond pas à la requête conservée",
        ),
        (r"^the chain does not reach a root: ", "la chaîne n'aboutit à aucune racine : "),
        (
            r"^a certificate of the chain is revoked: ",
            "un certificat de la chaîne est révoqué : ",
        ),
        (r"^no Ed25519 block$", "aucun bloc Ed25519"),
        (r"^fingerprint mismatch$", "empreinte de clé discordante"),
        (r"^bad signature$", "signature fausse"),
        (r"^not a Rempart seal$", "ce n'est pas un sceau Rempart"),
        (r"^not the signing key$", "ce n'est pas la clé de signature"),
        (r"^the ZIP time is not the capture time$", "l'heure du ZIP n'est pas celle de la capture"),
        (
            r"^the ZIP directory or layout differs from the canonical encoding$",
            "le répertoire ou la disposition du ZIP diffère de l'encodage canonique",
        ),
        (r"^entry (\S+) does not match its CRC-32$", r"l'entrée \1 ne correspond pas à son CRC-32"),
        (r"^entries carry different times$", "les entrées portent des heures différentes"),
        (
            r"^the entries' ZIP time is not a valid date$",
            "l'heure ZIP des entrées n'est pas une date valide",
        ),
        (r"^not a canonical bundle: ", "ce n'est pas un scellé canonique : "),
        (r"^edited$", "modifié"),
        (r"^deleted$", "supprimé"),
        (r"^inserted$", "inséré"),
        (r"^reordered$", "réordonné"),
        (r"^truncated$", "tronqué"),
        (
            r"^its fields do not match its digest$",
            "ses champs ne correspondent pas à son empreinte",
        ),
        (
            r"^it follows event (\d+), not the event just before it$",
            r"il suit l'événement \1, et non l'événement juste avant lui",
        ),
        (
            r"^the next event recorded a different digest for it$",
            "l'événement suivant a enregistré une autre empreinte pour lui",
        ),
        (
            r"^the chain does not end at the anchored event$",
            "la chaîne ne se termine pas à l'événement ancré",
        ),
        (r"^event (\d+) stands where (\d+) should$", r"l'événement \1 est à la place du \2"),
        (r"^event number (\d+) appears twice$", r"le numéro d'événement \1 apparaît deux fois"),
        (r"^event (\d+) is missing$", r"l'événement \1 manque"),
    )
)
_REFERENCE = re.compile(r"(finding|capture):(\d+)")


def _label(check: Check, messages: Messages) -> str:
    parts = check.id.split(".")
    if parts[0] == "timestamp":
        key = "label." + ".".join(["timestamp", *parts[2:]])
        return messages.lookup(CATALOG, key, n=parts[1] if len(parts) > 1 else "?")
    return messages.lookup(CATALOG, f"label.{check.id}")


def _printable(text: str) -> str:
    """Hostile bundles may carry terminal escape sequences: show control characters as
    code points instead of sending them to a terminal."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _in_language(text: str, messages: Messages) -> str:
    """A detail quoted from English code, in the report's language: each part of it is put
    in French where its wording is known (names, dates and digests stay as they are)."""
    if messages.lang != "fr":
        return text
    parts = []
    for part in text.split("; "):
        for pattern, french in _DETAILS_FR:
            part = pattern.sub(french, part)
        parts.append(part)
    return " ; ".join(parts)


def _message(check: Check, messages: Messages) -> str:
    values = {k: _printable(_in_language(v, messages)) for k, v in check.values.items()}
    if check.cause is not None and messages.lang != "en":
        described = _printable(_describe(check.cause, messages.lang))
        values = {k: described if k in ("error", "why") else v for k, v in values.items()}
    return messages.lookup(CATALOG, check.key, **values)


def _fact(name: str, value: str, messages: Messages, *, from_source: bool = False) -> str:
    if name == "url" and from_source:
        return messages.lookup(CATALOG, "fact.record", value=_printable(value))
    if name == "finding" and (found := _REFERENCE.fullmatch(value)):
        value = messages.lookup(CATALOG, f"ref.{found.group(1)}", n=found.group(2))
    return messages.lookup(CATALOG, f"fact.{name}", value=_printable(value))


def render_report(report: VerifyReport, messages: Messages) -> str:
    """The report as plain text in `messages.lang` (fr or en)."""
    say = messages.lookup
    lines = [say(CATALOG, "title"), ""]
    lines.append(say(CATALOG, "bundle", sha256=report.bundle_sha256, size=report.bundle_bytes))
    from_source = "source" in report.facts
    for fact in _FACTS:
        if fact in report.facts and not (from_source and fact == "final_url"):
            lines.append(_fact(fact, report.facts[fact], messages, from_source=from_source))
    lines.append(say(CATALOG, "facts.note"))
    lines.append("")
    for check in report.checks:
        status = say(CATALOG, f"status.{check.status.value}")
        label, message = _label(check, messages), _message(check, messages)
        lines.append(say(CATALOG, "line", status=status, label=label, message=message))
    lines.append("")
    if report.verdict == "pass":
        lines.append(say(CATALOG, "verdict.ok"))
        lines.append(say(CATALOG, "verdict.trusted"))
    elif report.verdict == "untrusted":
        lines.append(say(CATALOG, "verdict.untrusted_title"))
        lines.append(say(CATALOG, "verdict.untrusted"))
        lines.append(say(CATALOG, "verdict.untrusted_todo"))
    else:
        lines.append(say(CATALOG, "verdict.fail"))
    lines.append("")
    lines.append(say(CATALOG, "proven.title"))
    lines.extend(f"  - {line}" for line in _proven(report, messages))
    lines.append(say(CATALOG, "not_proven.title"))
    for key in _not_proven(report):
        lines.append(f"  - {say(CATALOG, key)}")
    return "\n".join(lines) + "\n"


def _proven(report: VerifyReport, messages: Messages) -> list[str]:
    if not report.ok:
        return [messages.lookup(CATALOG, "proven.nothing")]
    found = [messages.lookup(CATALOG, "proven.unchanged")]
    for verdict in report.timestamps:
        if verdict.valid and verdict.gen_time is not None:
            found.append(
                messages.lookup(
                    CATALOG,
                    "proven.existed",
                    gen_time=f"{verdict.gen_time:%Y-%m-%dT%H:%M:%SZ}",
                    authority=_printable(verdict.authority),
                )
            )
    found.append(
        messages.lookup(
            CATALOG, "proven.sealed_by", fingerprint=report.facts.get("fingerprint", "?")
        )
    )
    found.append(messages.lookup(CATALOG, "proven.custody"))
    return found


def _not_proven(report: VerifyReport) -> tuple[str, ...]:
    first = "not_proven.source" if "source" in report.facts else "not_proven.server"
    return (first, "not_proven.operator", "not_proven.person", "not_proven.before")


def report_to_json(report: VerifyReport, messages: Messages | None = None) -> dict[str, Any]:
    """The report as JSON values: stable ids and statuses for machines, messages in
    `messages.lang` (English by default) for people."""
    messages = messages or Messages("en")
    return {
        "format": "rempart-verify-report-1",
        "bundle": {"sha256": report.bundle_sha256, "bytes": report.bundle_bytes},
        "verdict": report.verdict,
        "intact": report.ok,
        "trusted": report.trusted,
        "exit_status": report.exit_status,
        "facts": dict(report.facts),
        "checks": [
            {
                "id": check.id,
                "status": check.status.value,
                "label": _label(check, messages),
                "message": _message(check, messages),
                "values": dict(check.values),
            }
            for check in report.checks
        ],
        "proven": _proven(report, messages),
        "not_proven": [messages.lookup(CATALOG, key) for key in _not_proven(report)],
    }


def report_json_text(report: VerifyReport, messages: Messages | None = None) -> str:
    return json.dumps(report_to_json(report, messages), indent=2, ensure_ascii=False) + "\n"
