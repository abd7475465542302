"""`plan` against the loopback DNS and RDAP servers: an unknown site's notice goes to the
host's abuse contact, the raw answers that chose it are kept (custody log and vault), and the
rest of the chain waits for escalation."""

from __future__ import annotations

from pathlib import Path

from takedown_servers import HOSTING_ABUSE

from findings_made import make_finding
from rempart.config import Identity
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import FindingStatus, Sighting
from rempart.takedown.drafting import plan
from rempart.takedown.lookups import NetworkLookups
from rempart.takedown.registry import Registry

IDENTITY = Identity(name="Asso", email="contact@asso.example", caseworker="alice")


def _confirmed_on(db: Database, tmp_path: Path, url: str, seed: int = 1) -> int:
    made = make_finding(db, None, tmp_path, seed=seed)
    with db.session() as session:
        sighting = session.get(Sighting, made.finding)
        assert sighting is not None
        sighting.media_url = url
    decide(db, made.finding, FindingStatus.CONFIRMED, actor="alice")
    return made.finding


def test_an_unknown_site_is_notified_at_its_hosts_abuse_contact_with_the_answers_kept(
    db: Database, tmp_path: Path, registry: Registry, lookups: NetworkLookups
) -> None:
    _confirmed_on(db, tmp_path, "https://forum.example.org/img/1.jpg")
    vault = Vault.open(tmp_path / "home", {})
    planned = plan(
        db, registry=registry, lookups=lookups, identity=IDENTITY, operator="alice", vault=vault
    )
    host = next(n for n in planned.notices if n.kind == "dsa")
    assert host.recipient_address == HOSTING_ABUSE and host.recipient_role == "host"
    roles = [step["role"] for step in host.provenance["chain"]]  # type: ignore[index]
    assert roles[0] == "host" and "search" in roles
    events = chain_events(db, f"case:{case_info(db, 'case-a').id}")
    lookups_logged = [e for e in events if e.action.value == "lookup"]
    assert lookups_logged
    answers = lookups_logged[0].detail["answers"]
    assert {a["query"] for a in answers} >= {"A forum.example.org"}
    for answer in answers:
        assert vault.has(f"lookups/{answer['sha256']}")


def test_a_name_that_does_not_exist_gets_a_manual_notice_said_plainly(
    db: Database, tmp_path: Path, registry: Registry, lookups: NetworkLookups
) -> None:
    _confirmed_on(db, tmp_path, "https://gone.example.com/1.jpg")
    planned = plan(db, registry=registry, lookups=lookups, identity=IDENTITY, operator="alice")
    manual = next(n for n in planned.notices if n.kind == "manual")
    assert manual.recipient_channel == "manual"
    assert "by hand" in str(manual.provenance["why"])
