"""Notices made through the takedown use cases for the web tests: a confirmed copy of a case on
forum.example, planned into a DSA e-mail notice to the forum and a Pharos web-form report; and
the recording SMTP server of the takedown tests, on loopback."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from webapp import Web, make_web

from findings_made import make_finding
from rempart.config import Identity, Settings
from rempart.jobs.review import decide
from rempart.store.database import Database
from rempart.store.models import FindingStatus, RecheckSchedule
from rempart.takedown.drafting import notice, plan
from rempart.takedown.registry import Registry, load_registry, parse_registry

sys.path.insert(0, str(Path(__file__).parents[1] / "takedown"))
from smtp_process import RecordingSmtp

__all__ = ["IDENTITY", "NoLookups", "RecordingSmtp", "drafted", "notices_web", "removed"]

IDENTITY = Identity(name="Asso", email="contact@asso.example", caseworker="server-user")
PLATFORM = """
[platform.demoforum]
name = "Demo Forum"
roles = ["host"]
domains = ["forum.example"]
notice_email = { value = "abuse@forum.example", source = "https://forum.example/contact" }
"""


def registry() -> Registry:
    return Registry.of(
        parse_registry(PLATFORM, origin="test", base=load_registry(None).platforms).values()
    )


def notices_web(db: Database, tmp_path: Path, smtp_url: str = "") -> Web:
    """A web app whose organisation is set (notices need it) and whose mail server is
    `smtp_url`."""
    core = Settings(
        home=tmp_path / "home",
        database_url=str(db.engine.url),
        operator="server-user",
        identity=IDENTITY,
        smtp_url=smtp_url,
        smtp_from="notices@asso.example",
    )
    return make_web(db, tmp_path, core=core)


def drafted(web: Web, tmp_path: Path, *, case: str = "case-a", seed: int = 1) -> dict[str, int]:
    """A confirmed copy of `case`, planned: the ids of its notices by kind (dsa, pharos)."""
    made = make_finding(web.db, None, tmp_path, case=case, seed=seed)
    decide(web.db, made.finding, FindingStatus.CONFIRMED, actor="reviewer")
    planned = plan(
        web.db,
        registry=registry(),
        lookups=None,  # type: ignore[arg-type]
        identity=IDENTITY,
        operator="reviewer",
        case=case,
        clock=web.clock,
    )
    return {n.kind: n.id for n in planned.notices}


def removed(web: Web, notice_id: int, after: timedelta) -> None:
    """The re-checks found every copy of a sent notice gone, `after` it was sent."""
    view = notice(web.db, notice_id)
    assert view.sent_at is not None
    with web.db.session() as session:
        for copy in view.copies:
            session.add(
                RecheckSchedule(
                    finding_id=copy.finding,
                    status="removed",
                    last_checked_at=view.sent_at + after,
                    next_check_at=view.sent_at + after + timedelta(days=1),
                    interval_s=86400,
                    removed_at=view.sent_at + after,
                )
            )


class NoLookups:
    """Lookups that answer nothing (the tests' platforms are in the registry): no DNS or
    RDAP query leaves the machine."""

    def _nothing(self, *_args: object) -> object:
        from rempart.takedown.errors import ResolutionError

        raise ResolutionError("nothing is looked up in the tests")

    dns = origin_asn = rdap_ip = rdap_asn = rdap_domain = _nothing

    def close(self) -> None:
        pass
