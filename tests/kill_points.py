"""SIGKILL at random points during the four kinds of work that must survive a crash: a scan
(a loopback demo site), capturing and sealing (copies in a folder, a demo TSA), a bank import
and sending notices (a recording SMTP server in its own process). After the kills, the work is
run once more to the end and checked: nothing lost, nothing twice, no half-written file.

Used by bench/kill.py (100 kills) and tests/test_kill.py (a handful). Kills land on observed
progress (a committed batch, a capture logged or sealed, the list file opened, a message
received or held by the server), then after a random delay drawn from the range a step of
that work takes; never after a guess of how fast this machine is.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "takedown"))

from smtp_process import RecordingSmtp  # noqa: E402

from findings_made import make_finding  # noqa: E402
from rempart.config import Identity  # noqa: E402
from rempart.demo_site import DemoSite  # noqa: E402
from rempart.demo_site.site import ServedSite  # noqa: E402
from rempart.demo_site.tsa import DemoTimestampAuthority  # noqa: E402
from rempart.evidence.authorities import write_authorities  # noqa: E402
from rempart.evidence.custody import verify_chain  # noqa: E402
from rempart.evidence.keys import Keyring  # noqa: E402
from rempart.evidence.ledger import chain_events  # noqa: E402
from rempart.evidence.vault import Vault  # noqa: E402
from rempart.intake import banks, cases  # noqa: E402
from rempart.jobs import watchlist  # noqa: E402
from rempart.jobs.findings import list_findings  # noqa: E402
from rempart.jobs.review import decide  # noqa: E402
from rempart.jobs.runner import run_scan  # noqa: E402
from rempart.matching.service import Matcher  # noqa: E402
from rempart.samples import web_jpeg  # noqa: E402
from rempart.store.database import Database  # noqa: E402
from rempart.store.models import FindingStatus  # noqa: E402
from rempart.takedown.drafting import approve, list_notices, plan  # noqa: E402
from rempart.takedown.registry import load_registry  # noqa: E402

PHASES = ("scan", "capture", "import", "notices")
LOOPBACK = {"allow_networks": ["127.0.0.1/32"], "any_port": True, "per_host_interval_s": 0.0}
STALL_S = 300.0  # only against a hung process: every wait ends on observed progress first
POLL_S = 0.005
PLATFORMS = """
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
notice_email = { value = "abuse@forum.example", source = "https://forum.example/contact" }
"""
IDENTITY = Identity(name="Asso Rempart", email="contact@asso.example", caseworker="alice")


@dataclass
class PhaseResult:
    phase: str
    kills: int = 0
    rounds: int = 0
    violations: list[str] = field(default_factory=list)
    left_temporary: int = 0  # hidden `.part` files a kill left (never taken for real files)
    seconds: float = 0.0


class Stalled(RuntimeError):
    pass


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_")}
    env.update(
        REMPART_HOME=str(home),
        REMPART_OPERATOR="alice",
        REMPART_ORGANISATION="Asso Rempart",
        REMPART_ORGANISATION_EMAIL="contact@asso.example",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *sys.path]),
        **extra,
    )
    return env


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "rempart", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # it leads its group: its workers die with it
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _until(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> bool:
    """Until `condition` holds (True) or the process ends by itself (False)."""
    deadline = time.monotonic() + STALL_S
    while not condition():
        if process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            _kill(process)
            raise Stalled("no progress observed")
        time.sleep(POLL_S)
    return True


def _kill_after(
    process: subprocess.Popen[bytes],
    condition: Callable[[], bool],
    delay_s: float,
) -> bool:
    """Kill once `condition` is seen and `delay_s` more has passed; False if it ended first."""
    try:
        if not _until(condition, process):
            return False
        if delay_s:
            time.sleep(delay_s)
        if process.poll() is not None:
            return False
        _kill(process)
        return True
    except BaseException:
        _kill(process)
        raise


def _count(db_path: Path, sql: str) -> int:
    """Read as another process would (WAL: never blocks the one being killed)."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)) as conn:
        try:
            return int(conn.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # not migrated yet


def _finish(args: list[str], env: dict[str, str], log: Path, ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "rempart", *args], env=env, capture_output=True, check=False
    )
    if done.returncode not in ok:
        return f"`rempart {' '.join(args)}` exited {done.returncode}: {done.stderr[-400:]!r}"
    return ""


def _vault_sound(home: Path, result: PhaseResult) -> None:
    """Every object in the vault opens; hidden temporary files are counted, never opened."""
    vault = Vault.open(home)
    for name in vault.names():
        try:
            vault.get(name)
        except Exception as exc:  # a half-written object would land here
            result.violations.append(f"vault object {name}: {exc}")
    result.left_temporary += sum(1 for p in vault.folder.rglob(".*") if p.is_file())


# ----------------------------------------------------------------------------------- scan


@contextmanager
def demo_site() -> Iterator[ServedSite]:
    with DemoSite(seed=5, images=1200).serve() as served:
        yield served


def scan_store(url: str, site: ServedSite, work: Path) -> Database:
    """A store whose bank holds the demo site's victims and whose source is its forum."""
    db = Database.open(url)
    banks.create_bank(db, "victim")
    paths = []
    for i, data in enumerate(site.victim_images()):
        path = work / f"victim-{i}.jpg"
        path.write_bytes(data)
        paths.append(path)
    list(banks.add_images(db, "victim", paths))
    watchlist.add_source(db, "forum", "web", {**LOOPBACK, "recipe": site.recipes()["forum"]})
    return db


def scan_findings(db: Database) -> list[tuple[str | None, str | None, int]]:
    return [(v.page_url, v.media_url, v.item) for v in list_findings(db)]


def scan_round(
    site: ServedSite, work: Path, rng: random.Random, kills: int, expected: set[object]
) -> PhaseResult:
    """`rempart scan` killed `kills` times, each 1 or 2 committed batches into a run and
    0-50 ms later, then run to the end."""
    result = PhaseResult("scan", rounds=1)
    work.mkdir(parents=True)
    path = work / "rempart.db"
    db = scan_store(f"sqlite:///{path}", site, work)
    env = _env(work, REMPART_DATABASE_URL=f"sqlite:///{path}")
    log = work / "scan.log"
    marks = "SELECT count(*) FROM seen_media"
    while result.kills < kills:
        base = _count(path, marks)
        target = base + rng.randint(1, 2)
        process = _spawn(["scan", "forum", "--json"], env, log)
        if _kill_after(process, lambda t=target: _count(path, marks) >= t, rng.uniform(0, 0.05)):
            result.kills += 1
        else:
            break  # the scan ended first: this round has no more work to interrupt
    if problem := _finish(["scan", "forum", "--json"], env, log):
        result.violations.append(problem)
    found = scan_findings(db)
    if len(found) != len(set(found)):
        result.violations.append(f"scan: {len(found) - len(set(found))} findings twice")
    if set(found) != expected:
        lost = len(expected - set(found))
        result.violations.append(f"scan: {lost} findings lost, {len(set(found) - expected)} new")
    db.dispose()
    return result


def scan_reference(site: ServedSite, work: Path) -> set[object]:
    work.mkdir(parents=True)
    db = scan_store(f"sqlite:///{work / 'reference.db'}", site, work)
    run_scan(db, Matcher(db), "forum")
    found = set(scan_findings(db))
    db.dispose()
    return found  # type: ignore[return-value]


# ----------------------------------------------------------------------- capture and seal


def _sealing_home(work: Path, tsa: DemoTimestampAuthority, copies: int) -> Database:
    home = work / "home"
    home.mkdir(parents=True)
    (home / "demo-root.pem").write_bytes(tsa.root_pem)
    write_authorities(home / "authorities.toml", [("demo-tsa", tsa.url, ["demo-root.pem"])])
    Keyring(home / "keys").generate()
    db = Database.open(f"sqlite:///{home / 'rempart.db'}")
    picture = web_jpeg(11, 320, 240)
    cases.create_case(db, "case-k")
    banks.create_bank(db, "case-k-images", case="case-k")
    (work / "photo.jpg").write_bytes(picture)
    list(banks.add_images(db, "case-k-images", [work / "photo.jpg"]))
    seized = work / "seized"
    seized.mkdir()
    for i in range(copies):  # each file another copy of the same picture
        (seized / f"copy-{i:03d}.jpg").write_bytes(picture + bytes([i % 251]) * (i + 1))
    watchlist.add_source(db, "seized", "files", {"path": str(seized)})
    run_scan(db, Matcher(db), "seized")
    for view in list_findings(db):
        decide(db, view.id, FindingStatus.CONFIRMED, actor="alice")
    return db


def capture_round(
    tsa: DemoTimestampAuthority, work: Path, rng: random.Random, kills: int
) -> PhaseResult:
    """`rempart capture --confirmed` killed `kills` times: once 1 to 3 more captures are
    logged (before their seal) or sealed, then 0-150 ms later (a seal's duration here)."""
    result = PhaseResult("capture", rounds=1)
    db = _sealing_home(work, tsa, copies=kills * 3 + 4)
    home = work / "home"
    path = home / "rempart.db"
    env = _env(home)
    log = work / "capture.log"
    while result.kills < kills:
        query = rng.choice(
            ["SELECT count(*) FROM captures", "SELECT count(*) FROM captures WHERE status='sealed'"]
        )
        target = _count(path, query) + rng.randint(1, 3)
        process = _spawn(["capture", "--confirmed", "--json"], env, log)
        if _kill_after(
            process, lambda t=target, q=query: _count(path, q) >= t, rng.uniform(0, 0.15)
        ):
            result.kills += 1
        else:
            break
    if problem := _finish(["capture", "--confirmed", "--json"], env, log):
        result.violations.append(problem)
    _check_captures(db, home, result)
    db.dispose()
    return result


def _check_captures(db: Database, home: Path, result: PhaseResult) -> None:
    from sqlalchemy import select

    from rempart.evidence.verify import OWN_KEY, verify_bundle
    from rempart.store.models import CaptureRow, CustodyRow

    confirmed = {v.id for v in list_findings(db, status=FindingStatus.CONFIRMED.value)}
    with db.session() as session:
        rows = session.scalars(select(CaptureRow)).all()
        chains = set(session.scalars(select(CustodyRow.chain).distinct()))
    sealed: dict[int, int] = {}
    for row in rows:
        if row.status == "sealed" and row.finding_id is not None:
            sealed[row.finding_id] = sealed.get(row.finding_id, 0) + 1
        elif row.status == "sealing":
            result.violations.append(f"capture {row.id} left 'sealing' for good")
    lost = confirmed - set(sealed)
    twice = [f for f, n in sealed.items() if n > 1]
    if lost:
        result.violations.append(f"capture: {len(lost)} confirmed copies never sealed")
    if twice:
        result.violations.append(f"capture: {len(twice)} copies sealed twice")
    _vault_sound(home, result)
    vault = Vault.open(home)
    keys = {k.lower(): OWN_KEY for k in Keyring(home / "keys").trusted_fingerprints()}
    for row in rows:
        if row.status != "sealed" or row.bundle is None:
            continue
        data = vault.get(row.bundle)
        if hashlib.sha256(data).hexdigest() != row.bundle_sha256:
            result.violations.append(f"capture {row.id}: bundle digest differs")
        with zipfile.ZipFile(__import__("io").BytesIO(data)) as bundle:
            if bundle.testzip() is not None:
                result.violations.append(f"capture {row.id}: bundle damaged")
        report = verify_bundle(data, trusted_keys=keys, tsa_roots=_roots(home))
        if not report.ok:
            result.violations.append(f"capture {row.id}: bundle fails verify")
    for chain in chains:
        if not verify_chain(chain_events(db, chain)).ok:
            result.violations.append(f"custody log {chain} broken")


def _roots(home: Path) -> list[object]:
    from rempart.evidence.authorities import authorities_file, load_authorities
    from rempart.evidence.timestamps import load_certificates

    roots: list[object] = []
    for authority in load_authorities(authorities_file(home, {})):
        roots.extend(load_certificates(list(authority.certificates)))
    return roots


# ------------------------------------------------------------------------------- import


def hash_list(path: Path, n: int, seed: int) -> int:
    """A CSV list of `n` distinct PDQ hashes (quality 100); returns n."""
    rng = random.Random(seed)
    seen: set[str] = set()
    with path.open("w") as out:
        out.write("pdq,quality\n")
        while len(seen) < n:
            value = f"{rng.getrandbits(256):064x}"
            if value not in seen:
                seen.add(value)
                out.write(f"{value},100\n")
    return n


def _opened(pid: int, path: Path) -> bool:
    with suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):
                if os.readlink(fd) == str(path):
                    return True
    return False


def _import_home(home: Path) -> None:
    home.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "rempart", "bank", "create", "b"], env=_env(home),
                   capture_output=True, check=True)  # fmt: skip


def _import_checked(home: Path, listed: int, result: PhaseResult) -> None:
    db_path = home / "rempart.db"
    count = _count(db_path, "SELECT count(*) FROM items")
    distinct = _count(db_path, "SELECT count(DISTINCT pdq) FROM items")
    adds = _count(db_path, "SELECT count(*) FROM item_events WHERE action='add'")
    if not count == distinct == adds == listed:
        result.violations.append(
            f"import: {count} items, {distinct} distinct, {adds} logged, of {listed} listed"
        )


def import_round(work: Path, rng: random.Random, kills: int, size: int = 20_000) -> PhaseResult:
    """`rempart bank import` killed `kills` times, once it has the database open and then at
    a random moment of an uninterrupted import's duration (measured first, on this machine).
    The import is one transaction: after each kill the bank holds all the list or none."""
    result = PhaseResult("import", rounds=1)
    work.mkdir(parents=True, exist_ok=True)
    listed = hash_list(work / "list.csv", size, rng.randint(0, 1 << 30))
    log = work / "import.log"
    timing = work / "timing"
    _import_home(timing)
    started = time.monotonic()
    if problem := _finish(["bank", "import", "b", str(work / "list.csv")], _env(timing), log):
        result.violations.append(problem)
        return result
    duration = time.monotonic() - started
    home = work / f"home-{result.rounds}"
    _import_home(home)
    args = ["bank", "import", "b", str(work / "list.csv")]
    items = "SELECT count(*) FROM items"
    for _ in range(kills * 4):
        if result.kills == kills:
            break
        db_path = home / "rempart.db"
        process = _spawn(args, _env(home), log)
        if _kill_after(
            process, lambda p=process, d=db_path: _opened(p.pid, d), rng.uniform(0, duration)
        ):
            result.kills += 1
            count = _count(db_path, items)
            if count not in (0, listed):
                result.violations.append(f"import: {count} of {listed} items after a kill")
        elif _count(db_path, items) == listed:  # it ended first: check it, start afresh
            _import_checked(home, listed, result)
            result.rounds += 1
            home = work / f"home-{result.rounds}"
            _import_home(home)
    if problem := _finish(args, _env(home), log):
        result.violations.append(problem)
    _import_checked(home, listed, result)
    return result


# ------------------------------------------------------------------------------ notices


class _NoLookups:
    def __getattr__(self, name: str) -> Callable[..., object]:
        raise AssertionError("a registry host needs no network lookup")


def _approved(home: Path, work: Path, n: int) -> Database:
    (home / "platforms.toml").write_text(PLATFORMS)
    db = Database.open(f"sqlite:///{home / 'rempart.db'}")
    for index in range(n):
        made = make_finding(db, None, work, case=f"case-{index}", seed=index + 1)
        decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice")
    planned = plan(
        db,
        registry=load_registry(home),
        lookups=_NoLookups(),  # type: ignore[arg-type]
        identity=IDENTITY,
        operator="alice",
    )
    for view in planned.notices:
        if view.recipient_channel == "email" and view.kind == "dsa":
            approve(db, view.id, identity=IDENTITY, operator="alice")
    return db


def notices_round(work: Path, rng: random.Random, kills: int) -> PhaseResult:
    """`rempart notify send --approved` killed `kills` times: once the server has received
    1-3 more messages, or holds one before answering, or a notice's outbox row is claimed;
    then 0-20 ms later (an exchange on loopback)."""
    result = PhaseResult("notices", rounds=1)
    home = work / "home"
    home.mkdir(parents=True)
    n = kills * 2 + 2
    db = _approved(home, work, n)
    db_path = home / "rempart.db"
    smtp = RecordingSmtp(work / "smtp")
    log = work / "notify.log"
    args = ["notify", "send", "--approved", "--json"]
    try:
        env = _env(home, REMPART_SMTP_FROM="notices@asso.example", REMPART_SMTP_URL=smtp.url)
        claimed = "SELECT count(*) FROM notice_outbox WHERE state IN ('sending', 'data')"
        for _ in range(kills * 3):
            if result.kills == kills:
                break
            trigger = rng.choice(["received", "held", "outbox"])
            received = len(smtp.raw())
            held = len(list(smtp.folder.glob("held-*")))
            if trigger == "held":
                (smtp.folder / "hold").write_text("")
            process = _spawn(args, env, log)
            wanted = received + rng.randint(1, 3)

            def condition(trigger: str = trigger, wanted: int = wanted, held: int = held) -> bool:
                if trigger == "received":
                    return len(smtp.raw()) >= wanted
                if trigger == "held":
                    return len(list(smtp.folder.glob("held-*"))) > held
                return _count(db_path, claimed) > 0

            delay = 0.0 if trigger == "held" else rng.uniform(0, 0.02)
            if _kill_after(process, condition, delay):
                result.kills += 1
            (smtp.folder / "hold").unlink(missing_ok=True)
        if problem := _finish(args, env, log, ok=(0, 1)):
            result.violations.append(problem)
        counts = smtp.count_by_message_id()
        twice = [m for m, c in counts.items() if c > 1]
        if twice:
            result.violations.append(f"notices: {len(twice)} received twice")
        views = [v for v in list_notices(db) if v.outbox_state is not None]
        if len(views) != n:
            result.violations.append(f"notices: {len(views)} of {n} in the outbox")
        for view in views:
            copies = counts.get(str(view.message_id), 0)
            if view.outbox_state == "sent" and copies != 1:
                result.violations.append(f"notice {view.id}: sent, received {copies} times")
            elif view.outbox_state == "uncertain" and copies > 1:
                result.violations.append(f"notice {view.id}: uncertain, received {copies} times")
            elif view.outbox_state not in ("sent", "uncertain"):
                result.violations.append(f"notice {view.id}: left {view.outbox_state}")
        _vault_sound(home, result)
    finally:
        smtp.close()
        db.dispose()
    return result


def merge(results: list[PhaseResult]) -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = {}
    for r in results:
        row = table.setdefault(
            r.phase,
            {"kills": 0, "rounds": 0, "violations": [], "left_temporary": 0, "seconds": 0.0},
        )
        row["kills"] = int(row["kills"]) + r.kills  # type: ignore[call-overload]
        row["rounds"] = int(row["rounds"]) + r.rounds  # type: ignore[call-overload]
        row["violations"] = [*row["violations"], *r.violations]  # type: ignore[misc]
        row["left_temporary"] = int(row["left_temporary"]) + r.left_temporary  # type: ignore[call-overload]
        row["seconds"] = float(row["seconds"]) + r.seconds  # type: ignore[arg-type]
    return table


def dumps(table: dict[str, dict[str, object]]) -> str:
    return json.dumps(table, indent=2, ensure_ascii=False)
