"""Custody anchors kept outside the database, and `custody verify`: each case's chain head is
signed and time-stamped into an append-only file per chain in the vault folder
(`evidence/anchors/<chain>.jsonl`), copied out for a lawyer on request, and the database chain
is checked against every anchor and every sealed bundle found (the vault's, and given files).

Must not print. The anchors' rules live in `rempart.evidence.anchors`.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from sqlalchemy import select

from rempart.clock import Clock, utc_now
from rempart.errors import EvidenceError, InputError, NotFound
from rempart.evidence.anchors import (
    Anchor,
    AnchorReason,
    AnchorVerdict,
    ChainReport,
    Disagreement,
    check_anchor,
    compare_chain,
    make_anchor,
    parse_anchors,
)
from rempart.evidence.bundle import CUSTODY, MANIFEST, load_json, read_entries
from rempart.evidence.custody import CustodyEvent, parse_jsonl
from rempart.evidence.keys import PublicKeyInfo, SigningKey
from rempart.evidence.ledger import chain_events
from rempart.evidence.timestamps import Timestamper
from rempart.evidence.vault import Vault
from rempart.evidence.verify import OWN_KEY, verify_bundle
from rempart.i18n import Phrase
from rempart.intake.cases import chain_of
from rempart.store.database import Database
from rempart.store.models import Case, CustodyRow

__all__ = [
    "Anchoring",
    "anchor_chains",
    "anchor_file",
    "anchors_of",
    "case_names",
    "chain_of_case",
    "export_anchors",
    "verify_custody",
]

ANCHORS = "anchors"
_MAX_ANCHOR_FILE = 256 * 1024 * 1024
_MAX_BUNDLE_FILE = 0xFFFF_FFFF
_CHAIN = re.compile(r"org|case:\d{1,18}")
_UNKNOWN = "?"  # the chain of a record that cannot be read


@dataclass(frozen=True, slots=True)
class Anchoring:
    """What anchoring needs: the sealing key and the time-stamping authorities."""

    key: SigningKey
    timestamper: Timestamper


def anchor_file(vault: Vault, chain: str) -> Path:
    """The append-only anchor file of `chain` in the vault folder."""
    if not _CHAIN.fullmatch(chain):
        raise EvidenceError("not a custody chain name: {chain!r:.40}", chain=chain)
    return vault.folder / ANCHORS / f"{chain.replace(':', '-')}.jsonl"


def anchors_of(vault: Vault, chain: str) -> tuple[Anchor, ...]:
    path = anchor_file(vault, chain)
    return parse_anchors(_read(path, _MAX_ANCHOR_FILE), source=str(path)) if path.exists() else ()


def _read(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(
            "cannot read {path}: {reason}", path=str(path), reason=exc.strerror
        ) from None
    if len(data) > limit:
        raise InputError("{path} is too large", path=str(path))
    return data


def chain_of_case(db: Database, case: str) -> str:
    with db.session() as session:
        case_id = session.scalar(select(Case.id).where(Case.name == case))
    if case_id is None:
        raise NotFound("no case named {name!r} (see `rempart case list`)", name=case)
    return chain_of(case_id)


def case_names(db: Database) -> dict[str, str]:
    """Chain name -> case name, for every case."""
    with db.session() as session:
        return {chain_of(i): name for i, name in session.execute(select(Case.id, Case.name))}


def _chains(db: Database) -> list[str]:
    with db.session() as session:
        return sorted(session.scalars(select(CustodyRow.chain).distinct()).all())


def anchor_chains(
    db: Database,
    vault: Vault,
    anchoring: Anchoring,
    *,
    chains: Sequence[str] | None = None,
    reason: AnchorReason = AnchorReason.INTERVAL,
    force: bool = False,
    clock: Clock = utc_now,
) -> list[Anchor]:
    """Anchor each chain (default: all) whose head moved since its last anchor (`force`:
    anchor even when it did not). Returns the anchors made; each is appended to its file."""
    names = case_names(db)
    made: list[Anchor] = []
    for chain in chains if chains is not None else _chains(db):
        events = chain_events(db, chain)
        if not events:
            continue
        earlier = anchors_of(vault, chain)
        last = earlier[-1] if earlier else None
        if last is not None and not force and last.head == events[-1].digest:
            continue
        anchor = make_anchor(
            events,
            chain=chain,
            case=names.get(chain, chain),
            since=last.seq if last is not None and last.seq <= events[-1].seq else 0,
            reason=reason,
            at=clock(),
            key=anchoring.key,
            timestamper=anchoring.timestamper,
        )
        _append(anchor_file(vault, chain), anchor.to_line())
        made.append(anchor)
    return made


def _append(path: Path, line: bytes) -> None:
    """Append one line, durably; the file is only ever opened for appending."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def export_anchors(vault: Vault, chain: str, target: Path) -> int:
    """Copy a chain's anchor file to `target` (a lawyer's copy); returns how many anchors."""
    source = anchor_file(vault, chain)
    if not source.exists():
        raise NotFound("no anchor yet for {chain}: run `rempart custody anchor` first", chain=chain)
    data = _read(source, _MAX_ANCHOR_FILE)
    count = len(parse_anchors(data, source=str(source)))
    if target.exists():
        raise InputError("{path} exists already; choose another name", path=str(target))
    partial = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        with open(partial, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(partial, target)
    except FileExistsError:
        raise InputError("{path} exists already; choose another name", path=str(target)) from None
    except OSError as exc:
        raise InputError(
            "cannot write {path}: {reason}", path=str(target), reason=exc.strerror
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return count


# ------------------------------------------------------------------------------ verify


@dataclass
class _Found:
    anchors: dict[str, list[tuple[str, Anchor]]]
    bundles: dict[str, list[tuple[str, tuple[CustodyEvent, ...]]]]
    problems: dict[str, list[Disagreement]]


def verify_custody(
    db: Database,
    vault: Vault,
    *,
    keys: Iterable[PublicKeyInfo],
    roots: Sequence[x509.Certificate] = (),
    chains: Sequence[str] | None = None,
    paths: Sequence[Path] = (),
) -> list[ChainReport]:
    """Check each chain (default: every chain in the database or found outside it) against
    every anchor and sealed bundle: the vault's anchor files and bundles, and the anchor files
    (.jsonl) and bundles (.wacz) in `paths` (files or folders). A record that cannot be
    relied on (bad signature, unknown key, no valid time-stamp) is itself reported."""
    lives = {info.fingerprint: info for info in keys}
    names = {name: chain for chain, name in case_names(db).items()}
    found = _Found({}, {}, {})
    for where, data, chain in _vault_files(vault):
        _take(found, where, data, lives, roots, names, chain)
    for path in _walk(paths):
        _take(found, str(path), _read(path, _MAX_BUNDLE_FILE), lives, roots, names, _UNKNOWN)
    known = set(_chains(db)) | set(found.anchors) | set(found.bundles) | set(found.problems)
    wanted = list(chains) if chains is not None else sorted(known - {_UNKNOWN})
    # A record whose chain cannot be told (an unreadable file) concerns every chain checked.
    unplaced = found.problems.get(_UNKNOWN, []) if _UNKNOWN not in wanted else []
    return [
        compare_chain(
            chain,
            chain_events(db, chain),
            anchors=found.anchors.get(chain, ()),
            bundles=found.bundles.get(chain, ()),
            problems=[*found.problems.get(chain, ()), *unplaced],
        )
        for chain in wanted
    ]


def _vault_files(vault: Vault) -> Iterator[tuple[str, bytes, str]]:
    """The vault's anchor files and bundles, each with the chain its place names."""
    folder = vault.folder / ANCHORS
    if folder.is_dir():
        for path in sorted(folder.glob("*.jsonl")):
            chain = path.stem.replace("case-", "case:", 1)
            yield str(path), _read(path, _MAX_ANCHOR_FILE), chain
    for name in vault.names():
        if name.startswith("bundles/") and name.endswith(".wacz"):
            folder_name = name.split("/")[1]
            chain = "org" if folder_name == "no-case" else folder_name.replace("case-", "case:")
            yield f"vault:{name}", vault.get(name), chain


def _walk(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix in (".wacz", ".jsonl"):
                    yield child
        elif path.is_file():
            yield path
        else:
            raise InputError("{path} is neither a file nor a folder", path=str(path))


def _take(
    found: _Found,
    where: str,
    data: bytes,
    lives: Mapping[str, PublicKeyInfo],
    roots: Sequence[x509.Certificate],
    names: Mapping[str, str],
    place: str,
) -> None:
    """Sort one file found into anchors, bundle chains and problems, by chain. `place` is
    the chain its location names (_UNKNOWN for a file given from outside)."""
    if data.startswith(b"PK"):
        _take_bundle(found, where, data, lives, roots, names, place)
        return
    try:
        anchors = parse_anchors(data, source=where)
    except EvidenceError as exc:
        found.problems.setdefault(place, []).append(
            Disagreement(1, where, "anchor", Phrase("unreadable: {why}", why=exc.localized()))
        )
        return
    for anchor in anchors:
        verdict = check_anchor(anchor, keys=lives, roots=roots)
        if place != _UNKNOWN and anchor.chain != place:
            verdict = AnchorVerdict(False, Phrase("it belongs to another chain"))
        if verdict.ok:
            found.anchors.setdefault(anchor.chain, []).append((where, anchor))
        else:
            found.problems.setdefault(anchor.chain, []).append(
                Disagreement(
                    anchor.from_seq,
                    where,
                    "anchor",
                    Phrase(
                        "the anchor of event {seq} cannot be relied on: {why}",
                        seq=anchor.seq,
                        why=verdict.problem,
                    ),
                )
            )


def _take_bundle(
    found: _Found,
    where: str,
    data: bytes,
    lives: Mapping[str, PublicKeyInfo],
    roots: Sequence[x509.Certificate],
    names: Mapping[str, str],
    place: str,
) -> None:
    report = verify_bundle(
        data,
        trusted_keys=dict.fromkeys(lives, OWN_KEY),
        tsa_roots=roots,
        key_lives=lives.values(),
    )
    try:
        entries = read_entries(data)
        manifest = load_json(entries.files[MANIFEST], MANIFEST)
        case = manifest["case"] if isinstance(manifest, dict) else None
        events = parse_jsonl(entries.files[CUSTODY])
    except (EvidenceError, KeyError, TypeError):
        case, events = None, ()
    named = (
        names.get(case, "org" if case == "no-case" else _UNKNOWN)
        if isinstance(case, str)
        else _UNKNOWN
    )
    chain = place if place != _UNKNOWN else named
    if not report.ok or report.check("key_trust").status.value != "pass" or not events:
        found.problems.setdefault(chain, []).append(
            Disagreement(
                1,
                where,
                "bundle",
                Phrase("this bundle fails verification (`rempart verify` says why)"),
            )
        )
        return
    found.bundles.setdefault(chain, []).append((where, events))
