"""Backups of everything a case needs: the database, and every file in REMPART_HOME (the
evidence vault, the signing keys, the vault key, config.toml, authorities and platforms).
Written encrypted and checked member by member; restored into an empty home and database,
staged beside them first so a bad backup leaves nothing half-restored.

Owns what a backup holds and how it is put back; the file format is rempart.jobs.backup_file,
the database copies rempart.store.dump. Must not prompt or print (the CLI does).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import select

from rempart import __version__
from rempart.clock import Clock, utc_now
from rempart.errors import Conflict, StoreError
from rempart.evidence.custody import verify_chain
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import KEY_ENV, Vault
from rempart.jobs.backup_file import (
    BackupFileError,
    ChunkWriter,
    KdfParams,
    open_reader,
    private_file,
)
from rempart.store import dump
from rempart.store.database import Database
from rempart.store.models import CaptureRow, CustodyRow

__all__ = [
    "BackupSummary",
    "ChainReport",
    "RestoreReport",
    "restore_backup",
    "verify_backup",
    "write_backup",
]

MANIFEST = "manifest.json"
_SQLITE_MEMBER = "database/rempart.sqlite3"
_COPY = 1 << 20
_MAX_MANIFEST = 256 << 20
_SQLITE_SIDES = ("", "-wal", "-shm", "-journal")
_DEFAULT_KDF = KdfParams()


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """What a backup holds, read from its manifest (every member checked against it)."""

    created: str
    rempart: str
    dialect: str
    revision: str | None
    rows: Mapping[str, int]
    home_files: int
    vault_objects: int
    size: int  # of the backup file, in bytes
    vault_key_outside: bool  # the vault key came from REMPART_VAULT_KEY: not in the backup

    def to_json(self) -> dict[str, object]:
        return {
            "created": self.created,
            "rempart": self.rempart,
            "database": self.dialect,
            "revision": self.revision,
            "rows": dict(self.rows),
            "home_files": self.home_files,
            "vault_objects": self.vault_objects,
            "size": self.size,
            "vault_key_outside": self.vault_key_outside,
        }


@dataclass(frozen=True, slots=True)
class ChainReport:
    chain: str
    events: int
    ok: bool
    first_bad_seq: int | None = None


@dataclass(frozen=True, slots=True)
class RestoreReport:
    summary: BackupSummary
    home: Path
    database: str  # the URL, password hidden
    revision: str | None  # after migration
    chains: tuple[ChainReport, ...] = ()
    missing_bundles: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains) and not self.missing_bundles


# ------------------------------------------------------------------------------------ write


def write_backup(
    home: Path,
    database_url: str,
    target: Path,
    passphrase: bytes,
    *,
    kdf: KdfParams = _DEFAULT_KDF,
    env: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
) -> BackupSummary:
    """Back up `home` and the database at `database_url` into `target` (a new file, 0600):
    the database first, then the files, so every bundle the database names is in the copy.
    The file is read back and checked before it takes its name."""
    env = os.environ if env is None else env
    target = target.absolute()
    if target.exists():
        raise Conflict("{path} already exists: choose another file name", path=str(target))
    if not target.parent.is_dir():
        raise BackupFileError("no folder {path}", path=str(target.parent))
    created = clock().isoformat()
    partial = target.with_name(f".{target.name}.part")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="rempart-backup-") as scratch:
        work = Path(scratch)
        os.chmod(work, 0o700)
        manifest: dict[str, Any] = {
            "format": 1,
            "created": created,
            "rempart": __version__,
            "vault_key_outside": bool(env.get(KEY_ENV)),
        }
        database_files, manifest["database"] = _dump_database(database_url, work)
        skip = {target, partial} | {
            Path(str(p) + side) for p in database_files for side in _SQLITE_SIDES
        }
        try:
            with private_file(partial) as out:
                writer = ChunkWriter(out, passphrase, kdf=kdf, created=created)
                members: dict[str, dict[str, object]] = {}
                with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                    for member, path in _database_members(manifest["database"], work):
                        members[member] = _add(tar, member, path)
                    for member, path in _home_files(home, skip):
                        added = _add_if_there(tar, member, path)
                        if added is not None:
                            members[member] = added
                    manifest["members"] = members
                    _add_bytes(tar, MANIFEST, json.dumps(manifest, sort_keys=True).encode())
                writer.close()
                out.flush()
                os.fsync(out.fileno())
            summary = verify_backup(partial, passphrase)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    _sync_folder(target.parent)
    return summary


def _dump_database(url: str, work: Path) -> tuple[list[Path], dict[str, Any]]:
    source = dump.sqlite_file(url)
    db = Database.open(url, migrate=False)
    try:
        revision = dump.revision_of(db)
        if source is not None:
            dump.copy_sqlite(source, work / "rempart.sqlite3")
            return [source.absolute()], {
                "dialect": "sqlite",
                "kind": "sqlite-file",
                "revision": revision,
                "rows": _row_counts(work / "rempart.sqlite3"),
            }
        (work / "rows").mkdir()
        tables = dump.dump_rows(db, work / "rows")
        return [], {
            "dialect": db.engine.dialect.name,
            "kind": "rows",
            "revision": revision,
            "tables": [t.name for t in tables],
            "rows": {t.name: t.rows for t in tables},
        }
    finally:
        db.dispose()


def _row_counts(path: Path) -> dict[str, int]:
    copy = dump.sqlite_database(path)
    try:
        return dump.row_counts(copy)
    finally:
        copy.dispose()


def _database_members(database: Mapping[str, Any], work: Path) -> Iterator[tuple[str, Path]]:
    if database["kind"] == "sqlite-file":
        yield _SQLITE_MEMBER, work / "rempart.sqlite3"
    else:
        for name in database["tables"]:
            yield f"database/rows/{name}.jsonl", work / "rows" / f"{name}.jsonl"


def _home_files(home: Path, skip: set[Path]) -> Iterator[tuple[str, Path]]:
    """Every plain file in `home` but the database's own files, hidden temporary files and
    links (a link could lead outside the home)."""
    if not home.is_dir():
        return
    for folder, dirs, files in os.walk(home):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or path.absolute() in skip or path.is_symlink():
                continue
            yield "home/" + path.relative_to(home).as_posix(), path


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    return info


class _Hashing:
    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.sha256.update(data)
        return data


def _add(tar: tarfile.TarFile, member: str, path: Path) -> dict[str, object]:
    added = _add_if_there(tar, member, path)
    if added is None:
        raise BackupFileError("{path} vanished while it was backed up", path=str(path))
    return added


def _add_if_there(tar: tarfile.TarFile, member: str, path: Path) -> dict[str, object] | None:
    """Add the file as it is when opened (vault writes replace files whole, so an open file
    never changes under us); None when it was deleted in the meantime."""
    try:
        source = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BackupFileError("cannot read {path}: {why}", path=str(path), why=str(exc)) from exc
    with source:
        size = os.fstat(source.fileno()).st_size
        hashing = _Hashing(source)
        tar.addfile(_tarinfo(member, size), hashing)
    return {"sha256": hashing.sha256.hexdigest(), "size": size}


def _add_bytes(tar: tarfile.TarFile, member: str, data: bytes) -> None:
    tar.addfile(_tarinfo(member, len(data)), io.BytesIO(data))


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------- read


def verify_backup(path: Path, passphrase: bytes) -> BackupSummary:
    """Decrypt the whole backup and check every member against its manifest."""
    return _read(path, passphrase, into=None)[0]


def _read(
    path: Path, passphrase: bytes, *, into: Path | None
) -> tuple[BackupSummary, dict[str, Any]]:
    """Read the backup through; with `into`, write each member below it (0600 files, 0700
    folders). Raises BackupFileError on anything wrong, before the caller uses `into`."""
    try:
        source = path.open("rb")
    except OSError as exc:
        raise BackupFileError("cannot read {path}: {why}", path=str(path), why=str(exc)) from exc
    seen: dict[str, dict[str, object]] = {}
    manifest: dict[str, Any] | None = None
    with source:
        size = os.fstat(source.fileno()).st_size
        reader = open_reader(source, passphrase)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                for info in tar:
                    if manifest is not None:
                        raise BackupFileError("the backup holds members after its manifest")
                    member = _checked_name(info)
                    stream = tar.extractfile(info)
                    assert stream is not None  # a regular file, checked above
                    if member == MANIFEST:
                        if info.size > _MAX_MANIFEST:
                            raise BackupFileError("the backup's manifest is damaged")
                        manifest = _parse_manifest(stream.read())
                        continue
                    if member in seen:
                        raise BackupFileError("the backup holds {name} twice", name=member)
                    seen[member] = _copy_member(stream, into, member)
        except tarfile.TarError as exc:
            raise BackupFileError("the backup's contents are damaged: {why}", why=str(exc)) from exc
    if manifest is None:
        raise BackupFileError("the backup has no manifest")
    _compare(manifest, seen)
    database = manifest["database"]
    summary = BackupSummary(
        created=str(manifest["created"]),
        rempart=str(manifest["rempart"]),
        dialect=str(database["dialect"]),
        revision=database["revision"],
        rows={str(k): int(v) for k, v in database["rows"].items()},
        home_files=sum(1 for m in seen if m.startswith("home/")),
        vault_objects=sum(1 for m in seen if m.startswith("home/evidence/")),
        size=size,
        vault_key_outside=bool(manifest["vault_key_outside"]),
    )
    return summary, manifest


def _checked_name(info: tarfile.TarInfo) -> str:
    name = info.name
    parts = PurePosixPath(name).parts
    allowed = name == MANIFEST or (len(parts) >= 2 and parts[0] in {"home", "database"})
    if (
        not info.isreg()
        or not allowed
        or name.startswith("/")
        or any(p in {"", ".", ".."} or p.startswith(".") for p in parts)
        or "\\" in name
        or "\x00" in name
    ):
        raise BackupFileError("the backup holds an unexpected member {name!r}", name=name)
    return name


def _copy_member(stream: IO[bytes], into: Path | None, member: str) -> dict[str, object]:
    digest = hashlib.sha256()
    size = 0
    out: IO[bytes] | None = None
    if into is not None:
        path = into / member
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        out = private_file(path)
    try:
        while chunk := stream.read(_COPY):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return {"sha256": digest.hexdigest(), "size": size}


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
        if not isinstance(manifest, dict) or manifest.get("format") != 1:
            raise ValueError
        database = manifest["database"]
        if database["kind"] not in {"sqlite-file", "rows"} or not isinstance(
            manifest["members"], dict
        ):
            raise ValueError
        return manifest
    except (ValueError, KeyError, TypeError):
        raise BackupFileError("the backup's manifest is damaged") from None


def _compare(manifest: Mapping[str, Any], seen: Mapping[str, Mapping[str, object]]) -> None:
    listed: Mapping[str, Any] = manifest["members"]
    for name, facts in listed.items():
        found = seen.get(name)
        if found is None:
            raise BackupFileError("the backup lacks {name}, which its manifest lists", name=name)
        if found["sha256"] != facts.get("sha256") or found["size"] != facts.get("size"):
            raise BackupFileError("{name} in the backup differs from its manifest", name=name)
    extra = sorted(set(seen) - set(listed))
    if extra:
        raise BackupFileError("the backup holds {name}, which its manifest omits", name=extra[0])


# ---------------------------------------------------------------------------------- restore


def restore_backup(
    path: Path,
    passphrase: bytes,
    *,
    home: Path,
    database_url: str,
    force: bool = False,
) -> RestoreReport:
    """Restore into `home` and the database at `database_url`, both empty (or replaced with
    `force`). Everything is read and checked into a folder beside `home` first; a bad backup
    changes nothing. Then the schema is migrated if the backup is older, and each case's
    custody chain and every sealed bundle are checked."""
    home = home.absolute()
    target_file = dump.sqlite_file(database_url)
    _refuse_unless_empty(home, database_url, target_file, force=force)
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{home.name}.restore-", dir=home.parent))
    try:
        summary, manifest = _read(path, passphrase, into=staging)
        database: Mapping[str, Any] = manifest["database"]
        if target_file is not None:
            staged_db = _restore_into_sqlite_file(staging, database)
            _place_home(staging / "home", home)
            for side in _SQLITE_SIDES[1:]:
                Path(str(target_file) + side).unlink(missing_ok=True)
            target_file.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged_db, target_file)
        else:
            _restore_into_server(staging, database, database_url)
            _place_home(staging / "home", home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _check_restored(summary, home, database_url)


def _refuse_unless_empty(
    home: Path, database_url: str, target_file: Path | None, *, force: bool
) -> None:
    if force:
        return
    own = {Path(str(target_file) + s).absolute() for s in _SQLITE_SIDES} if target_file else set()
    if home.is_dir():
        for folder, _dirs, files in os.walk(home):
            if any((Path(folder) / f).absolute() not in own for f in files):
                raise Conflict(
                    "{home} is not empty: restore into an empty folder (`--to-home`), or add "
                    "--force to replace what is there",
                    home=str(home),
                )
    if target_file is not None and not target_file.exists():
        return
    db = Database.open(database_url, migrate=False)
    try:
        empty = dump.is_empty(db)
    finally:
        db.dispose()
    if not empty:
        raise Conflict(
            "the database {url} is not empty: restore into an empty database, or add --force "
            "to replace what is there",
            url=_hidden(database_url),
        )


def _restore_into_sqlite_file(staging: Path, database: Mapping[str, Any]) -> Path:
    """The database file to put in place, migrated to the head, in the staging folder."""
    staged = staging / "restored.sqlite3"
    if database["kind"] == "sqlite-file":
        os.replace(staging / _SQLITE_MEMBER, staged)
    else:
        db = Database.open(f"sqlite:///{staged}", migrate=False)
        try:
            _upgrade_to(db, database["revision"])
            dump.load_rows(db, _table_files(staging, database["tables"]))
        finally:
            db.dispose()
    db = Database.open(f"sqlite:///{staged}", migrate=False)
    try:
        _upgrade_to(db, "head")
    finally:
        db.dispose()
    final = staging / "final.sqlite3"
    dump.copy_sqlite(staged, final)  # one self-contained file, its log folded in
    os.chmod(final, 0o600)
    return final


def _restore_into_server(staging: Path, database: Mapping[str, Any], url: str) -> None:
    rows = staging / "database" / "rows"
    if database["kind"] == "sqlite-file":  # a SQLite backup going to PostgreSQL: as rows
        source = dump.sqlite_database(staging / _SQLITE_MEMBER)
        try:
            rows.mkdir(parents=True)
            tables = [t.name for t in dump.dump_rows(source, rows)]
        finally:
            source.dispose()
    else:
        tables = list(database["tables"])
    db = Database.open(url, migrate=False)
    try:
        # Empty (checked) or to be replaced (--force): its schema goes too, so that the rows
        # load into the backup's own revision even when this one was migrated further.
        dump.wipe(db)
        try:
            _upgrade_to(db, database["revision"])
            dump.load_rows(db, _table_files(staging, tables))
        except BaseException:
            dump.wipe(db)  # leave it empty, as it was
            raise
        _upgrade_to(db, "head")
    finally:
        db.dispose()


def _table_files(staging: Path, tables: list[str]) -> list[tuple[str, Path]]:
    return [(name, staging / "database" / "rows" / f"{name}.jsonl") for name in tables]


def _upgrade_to(db: Database, revision: str | None) -> None:
    if revision is None:
        return
    from alembic.util import CommandError

    try:
        db.upgrade(revision)
    except CommandError:
        raise StoreError(
            "the backup's database is at schema revision {revision}, which this version of "
            "Rempart does not know: restore it with the version that made it, or a newer one",
            revision=revision,
        ) from None


def _place_home(staged: Path, home: Path) -> None:
    """Swap the staged home in (the old one, empty or replaced by --force, goes)."""
    staged.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(staged, 0o700)
    old: Path | None = None
    if home.exists():
        old = home.with_name(f".{home.name}.replaced-{os.getpid()}")
        os.replace(home, old)
    try:
        os.replace(staged, home)
    except OSError:
        if old is not None:
            os.replace(old, home)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _check_restored(summary: BackupSummary, home: Path, url: str) -> RestoreReport:
    db = Database.open(url)
    try:
        with db.session() as session:
            chains = session.scalars(select(CustodyRow.chain).distinct()).all()
            bundles = session.scalars(
                select(CaptureRow.bundle).where(CaptureRow.bundle.is_not(None))
            ).all()
        reports = []
        for chain in sorted(chains):
            check = verify_chain(chain_events(db, chain))
            reports.append(ChainReport(chain, check.events, check.ok, check.first_bad_seq))
        vault = Vault(home / "evidence", b"\0" * 32)  # only to find objects by name
        missing = tuple(sorted(b for b in bundles if b and not vault.has(b)))
        return RestoreReport(
            summary, home, _hidden(url), dump.revision_of(db), tuple(reports), missing
        )
    finally:
        db.dispose()


def _hidden(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
