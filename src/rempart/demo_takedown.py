"""`rempart demo`, last part: take the confirmed copies down, and check it worked.

A DEMO organisation → `notify plan` → approval (the demo stands in for the caseworker) →
sending through the demo hosts' SMTP server on loopback → re-check → removal proven and
sealed → the ignoring host's deadline lapses (on the demo's own clock: no real waiting) →
escalation → a re-upload caught → the removal report. Every step's outcome is checked; the
number of problems is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console

from rempart.clock import utc_now
from rempart.config import Identity
from rempart.demo_site.abuse import AbuseDesks, platforms_by_site, platforms_toml
from rempart.demo_site.web import SiteUrls
from rempart.evidence.browser import Browser
from rempart.evidence.vault import Vault
from rempart.fetch import FetchPolicy, site_key
from rempart.i18n import Messages, _, ngettext
from rempart.jobs import recheck as rc
from rempart.jobs.evidence import Sealer
from rempart.jobs.findings import FindingView, list_findings
from rempart.jobs.reports import load_notified, reuploads_by_provider
from rempart.jobs.runner import run_scan
from rempart.matching.service import Matcher
from rempart.store.database import Database
from rempart.takedown import drafting
from rempart.takedown.answers import DnsAnswer, RawAnswer, RdapAnswer
from rempart.takedown.errors import ResolutionError
from rempart.takedown.notices import NoticeStatus
from rempart.takedown.registry import Platform, Registry, load_registry
from rempart.takedown.report_files import write_flagger, write_removals
from rempart.takedown.reports import flagger_report, removal_stats
from rempart.takedown.sending import Stamper, send_notices
from rempart.takedown.smtp import SmtpTransport, SmtpUrl

__all__ = ["DEMO_IDENTITY", "NoLookups", "Takedown", "demo_registry", "run_takedown"]

DEMO_IDENTITY = Identity(
    name="Association Exemple (DEMO)",
    address="1 rue de l'Exemple, 75000 Paris (DEMO)",
    email="signalements@association.demo.invalid",
    website="https://association.demo.invalid",
    caseworker="demo caseworker",
)
# How long after sending the demo's clock stands at each check: PicDrop has acted by then,
# and the mirror's 72-hour deadline (the DSA target) has passed at the second.
_RECHECK_AFTER = timedelta(hours=30)
_DEADLINE_CHECK_AFTER = timedelta(days=4)


@dataclass(frozen=True, slots=True)
class _BySite(Registry):
    """The registry, with the demo hosts known by their site, `127.0.0.1:port` (they have no
    name and share one address: their ports tell them apart)."""

    at: Mapping[str, str] = field(default_factory=dict)

    def by_host(self, host: str, port: int | None = None) -> Platform | None:
        found = self.at.get(site_key(host, port))
        return self.platforms[found] if found else Registry.by_host(self, host, port)


def demo_registry(home: Path, urls: SiteUrls) -> Registry:
    """`home`'s platform registry (where the demo writes its hosts' entries), with the demo
    hosts served at `urls` known by their site: `127.0.0.1` and their own port."""
    return _BySite(load_registry(home).platforms, platforms_by_site(urls))


class NoLookups:
    """The demo's hosts are all in the registry: nothing is looked up on the network."""

    def dns(self, name: str, rdtype: str) -> DnsAnswer:
        raise _nothing()

    def origin_asn(self, address: str) -> tuple[int | None, RawAnswer]:
        raise _nothing()

    def rdap_ip(self, address: str) -> RdapAnswer:
        raise _nothing()

    def rdap_asn(self, asn: int) -> RdapAnswer:
        raise _nothing()

    def rdap_domain(self, domain: str) -> RdapAnswer:
        raise _nothing()


def _nothing() -> ResolutionError:
    return ResolutionError("the demo looks nothing up on the network")


@dataclass
class Takedown:
    """What the takedown part needs from the parts before it."""

    db: Database
    home: Path
    vault: Vault
    desks: AbuseDesks
    matcher: Matcher
    sealer: Sealer
    browser: Browser
    stamp: Stamper
    case: str
    on_host: FindingView  # a confirmed copy on PicDrop, which acts on notices
    on_mirror: FindingView  # one on the mirror, which ignores them
    loopback: tuple[str, ...] = ("127.0.0.1/32",)


def run_takedown(console: Console, t: Messages, run: Takedown) -> int:
    """The takedown part; returns the number of problems found."""
    console.rule(f"[bold]{_('Taking the copies down')}")
    problems = 0

    def check(ok: bool, failure: str) -> None:
        nonlocal problems
        if not ok:
            problems += 1
            console.print("   ✗ " + failure, style="red", markup=False)

    db, identity = run.db, DEMO_IDENTITY
    (run.home / "platforms.toml").write_text(platforms_toml(), encoding="utf-8")
    registry = demo_registry(run.home, run.desks.urls)
    demo_hosts = set(platforms_by_site(run.desks.urls).values())
    console.print(
        _(
            "DEMO organisation: {name} <{email}>; the demo hosts PicDrop (DEMO) and ForumVault "
            "(DEMO) are added to the platform registry ({path}).",
            name=identity.name,
            email=identity.email,
            path=run.home / "platforms.toml",
        ),
        markup=False,
    )

    planned = drafting.plan(
        db,
        registry=registry,
        lookups=NoLookups(),
        identity=identity,
        operator=identity.caseworker,
        case=run.case,
        vault=run.vault,
    )
    ours = {v.recipient_platform: v for v in planned.notices if v.recipient_platform in demo_hosts}
    console.print(
        _(
            "notify plan: {n} notices drafted (to the hosts by e-mail, and delisting requests "
            "and a Pharos report to submit by hand).",
            n=len(planned.notices),
        )
    )
    check(set(ours) == demo_hosts, _("a notice to each demo host was expected"))
    if set(ours) != demo_hosts:
        return problems
    picdrop, mirror = ours["demo-picdrop"], ours["demo-forumvault"]
    for view in (picdrop, mirror):
        approved, checks = drafting.approve(
            db, view.id, identity=identity, operator=identity.caseworker
        )
        check(approved.status == "approved", _("notice {id} was not approved", id=view.id))
        console.print(
            _(
                "Notice {id} to {name}: every element checked ({n}); approved by the demo "
                "standing in for the caseworker.",
                id=view.id,
                name=view.recipient_name,
                n=len(checks),
            ),
            markup=False,
        )

    transport = SmtpTransport(SmtpUrl.parse(run.desks.smtp_url), timeout=10.0)
    sent = send_notices(
        db,
        transport,
        ids=[picdrop.id, mirror.id],
        identity=identity,
        sender=identity.email,
        actor=identity.caseworker,
        stamper=run.stamp,
    )
    check(
        [o.status for o in sent] == ["sent", "sent"],
        _("both notices should have been sent"),
    )
    arrived = run.desks.wait_for(2)
    check(arrived, _("the demo hosts' mailboxes did not receive both notices"))
    stamped = all(o.sealed for o in sent)
    check(stamped, _("each message sent should carry a time-stamp"))
    removed = [r for r in run.desks.received if r.removed]
    taken = sum(len(r.removed) for r in removed)
    console.print(
        _(
            "Sent through the SMTP server on loopback ({url}): {n} notices arrived in the hosts' "
            "abuse mailboxes.",
            url=run.desks.smtp_url,
            n=len(run.desks.received),
        )
        + " "
        + ngettext(
            "PicDrop took down {m} upload; ForumVault did nothing.",
            "PicDrop took down {m} uploads; ForumVault did nothing.",
            taken,
            m=taken,
        ),
        markup=False,
    )
    sent_at = drafting.notice(db, picdrop.id).sent_at or utc_now()
    _recheck(console, run, picdrop.id, sent_at, check)
    _deadline(console, run, mirror.id, sent_at, check)
    _reupload(console, run, check)
    _reports(console, t, run, sent_at, check)
    return problems


def _recheck(
    console: Console,
    run: Takedown,
    notice: int,
    sent_at: datetime,
    check: Callable[[bool, str], None],
) -> int:
    moment = sent_at + _RECHECK_AFTER
    policy = FetchPolicy(allow_networks=run.loopback, any_port=True)
    seal = rc.removal_sealer(
        run.db,
        run.vault,
        lambda: run.sealer,
        lambda: run.browser,
        policy=lambda _tracked: policy,
        operator=DEMO_IDENTITY.caseworker,
    )
    tracked = rc.tracked_findings(
        run.db, rc.Selection.FINDINGS, ids=(run.on_host.id, run.on_mirror.id)
    )
    outcomes = rc.recheck(
        run.db,
        run.matcher,
        tracked,
        policy=policy,
        allow_networks=run.loopback,
        seal=seal,
        clock=lambda: moment,
    )
    by_finding = {o.finding: o for o in outcomes}
    host, mirror = by_finding.get(run.on_host.id), by_finding.get(run.on_mirror.id)
    console.print(
        _(
            "Re-check, 30 hours later on the demo's clock: the copy on PicDrop is {host}, the "
            "one on ForumVault {mirror}.",
            host=_(host.finding_status.value) if host else "?",
            mirror=_(mirror.finding_status.value) if mirror else "?",
        )
    )
    gone = host is not None and host.finding_status.value == "removed"
    check(gone, _("the copy on PicDrop should be found removed"))
    check(
        mirror is not None and mirror.finding_status.value == "online",
        _("the copy on ForumVault should still be online"),
    )
    sealed = [o for o in outcomes if o.capture is not None and o.capture_status == "sealed"]
    check(bool(sealed), _("the removed state should have been sealed"))
    if gone and sealed:
        console.print(
            _(
                "Removal proven: sealed capture {capture} shows the removed state. Recorded as "
                "removed on notice {notice}.",
                capture=sealed[0].capture,
                notice=notice,
            )
        )
        drafting.reply(
            run.db,
            notice,
            status=NoticeStatus.REMOVED,
            operator=DEMO_IDENTITY.caseworker,
            note="demo: removal proven by a re-check and its sealed capture",
            clock=lambda: moment,
        )
    return 0


def _deadline(
    console: Console,
    run: Takedown,
    notice: int,
    sent_at: datetime,
    check: Callable[[bool, str], None],
) -> int:
    moment = sent_at + _DEADLINE_CHECK_AFTER
    overdue = drafting.list_notices(run.db, overdue_at=moment)
    late = [v for v in overdue if v.id == notice]
    check(bool(late), _("the notice to ForumVault should be overdue"))
    if late:
        console.print(
            _(
                "4 days later on the demo's clock: notice {id} to {name} is overdue (due "
                "{due}), with no answer.",
                id=notice,
                name=late[0].recipient_name,
                due=(late[0].due_at or moment).strftime("%Y-%m-%d %H:%M"),
            ),
            markup=False,
        )
    from rempart.takedown.followup import escalate

    drafted = escalate(
        run.db,
        identity=DEMO_IDENTITY,
        operator=DEMO_IDENTITY.caseworker,
        case=run.case,
        clock=lambda: moment,
    )
    next_steps = [v for v in drafted_views(run.db, drafted) if v.status == "drafted"]
    check(bool(next_steps), _("an escalation should be drafted for the ignored notice"))
    for view in next_steps:
        console.print(
            _(
                "   escalation drafted for approval: notice {id} to {name} ({role}), citing "
                "notice {earlier}",
                id=view.id,
                name=view.recipient_name,
                role=view.recipient_role,
                earlier=notice,
            ),
            markup=False,
        )
    return 0


def drafted_views(db: Database, ids: list[int]) -> list[drafting.NoticeView]:
    return [drafting.notice(db, i) for i in ids]


def _reupload(console: Console, run: Takedown, check: Callable[[bool, str], None]) -> int:
    host_id = next((r.removed[0] for r in run.desks.received if r.removed), None)
    check(host_id is not None, _("PicDrop should have removed an upload"))
    if host_id is None:
        return 0
    url = run.desks.reupload(host_id)
    before = {v.id for v in list_findings(run.db, case=run.case)}
    run_scan(run.db, run.matcher, "mirror", vault=run.vault)
    new = [
        v
        for v in list_findings(run.db, case=run.case)
        if v.id not in before and v.item == run.on_host.item
    ]
    check(bool(new), _("the re-upload should have been found"))
    if new:
        console.print(
            _(
                "Re-upload caught: {url} is item #{item} again, already taken down from "
                "PicDrop (finding {finding}); the new finding {new} awaits review.",
                url=url,
                item=run.on_host.item,
                finding=run.on_host.id,
                new=new[0].id,
            ),
            markup=False,
        )
    return 0


def _reports(
    console: Console,
    t: Messages,
    run: Takedown,
    sent_at: datetime,
    check: Callable[[bool, str], None],
) -> int:
    moment = sent_at + _DEADLINE_CHECK_AFTER
    copies = load_notified(run.db)
    stats = removal_stats(copies, reuploads=reuploads_by_provider(run.db))
    folder = run.home / "reports"
    written = write_removals(stats, folder, t, as_of=moment)
    flagger = write_flagger(
        flagger_report(copies, year=sent_at.year, as_of=moment),
        folder,
        t,
        organisation=DEMO_IDENTITY.name,
    )
    rows = {r.provider: r for r in stats.rows}
    picdrop = rows.get("PicDrop (DEMO)")
    check(
        picdrop is not None and picdrop.removed == 1 and picdrop.median_hours == 30,
        _("the removal report should show PicDrop's removal after 30 hours"),
    )
    console.print(
        _(
            "Removal report written in {folder} ({n} files: CSV, charts and PDF), with the "
            "trusted flagger's yearly report.",
            folder=folder,
            n=len(written.paths) + len(flagger.paths),
        ),
        markup=False,
    )
    return 0
