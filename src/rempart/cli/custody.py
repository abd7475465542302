"""`rempart custody …`: anchor each case's custody chain outside the database (signed and
time-stamped), hand a lawyer a copy of the anchors, and check the database against every
anchor and sealed bundle.

Thin: parse, call rempart.jobs.custody, render. Registered by rempart.cli.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.cli.text import safe
from rempart.config import Settings
from rempart.i18n import _, ngettext

if TYPE_CHECKING:
    from cryptography import x509

    from rempart.evidence.anchors import AnchorReason
    from rempart.evidence.keys import PublicKeyInfo

custody_app = typer.Typer(
    help=(
        "The custody log of each case: anchor its head outside the database (signed and "
        "time-stamped), and check the database against every anchor and sealed bundle."
    ),
    no_args_is_help=True,
)
app.add_typer(custody_app, name="custody")


def _sealing_configured() -> bool:
    from rempart.evidence.authorities import authorities_file, load_authorities
    from rempart.evidence.keys import Keyring

    home = Settings.from_env().home
    return Keyring(home / "keys").exists and bool(
        load_authorities(authorities_file(home, os.environ))
    )


def _trust() -> tuple[tuple[PublicKeyInfo, ...], list[x509.Certificate]]:
    """This installation's keys (with their lives) and its authorities' roots."""
    from rempart.evidence.trust import own_trust

    own = own_trust(Settings.from_env().home, os.environ)
    return own.lives, list(own.roots)


def anchor_moved(reason: AnchorReason) -> int:
    """Anchor every chain whose head moved, when sealing is set up (a key and an authority);
    how many were anchored. Raises what anchoring raised."""
    import httpx

    from rempart.cli.evidence import _sealer
    from rempart.jobs.custody import Anchoring, anchor_chains

    if not _sealing_configured():
        return 0
    with httpx.Client(timeout=30.0) as http:
        sealer = _sealer(http)
        made = anchor_chains(
            _open_db(), _open_vault(), Anchoring(sealer.key, sealer.timestamper), reason=reason
        )
    return len(made)


def anchor_after(reason: AnchorReason) -> None:
    """Anchor every chain whose head moved, after a review, an export or a notice. The action
    is done already: a failure here is only a warning saying what to run."""
    from rempart.errors import RempartError

    try:
        anchor_moved(reason)
    except RempartError as exc:
        err.print(
            _(
                "Warning: the custody log was not anchored ({reason}); run `rempart custody "
                "anchor` when the time-stamping authority is reachable.",
                reason=safe(exc.localized()),
            ),
            markup=False,
        )


@custody_app.command("anchor")
def custody_anchor(
    case: Annotated[
        str | None, typer.Argument(help="Only this case (default: every chain that moved).")
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="Also write every anchor of the case to this file, for its lawyer to keep.",
        ),
    ] = None,
) -> None:
    """Sign and time-stamp the head of each case's custody chain into the vault's append-only
    anchor files. Run it regularly (cron, a timer): a later edit of the database then shows
    in `rempart custody verify`. With a case, it is anchored even when nothing moved."""
    import httpx

    from rempart.cli.evidence import _sealer
    from rempart.evidence.anchors import AnchorReason
    from rempart.jobs.custody import Anchoring, anchor_chains, chain_of_case, export_anchors

    if export is not None and case is None:
        _fail(_("--export needs a case"))
    db, vault = _open_db(), _open_vault()
    with _reported(), httpx.Client(timeout=30.0) as http:
        sealer = _sealer(http)
        chains = [chain_of_case(db, case)] if case is not None else None
        made = anchor_chains(
            db,
            vault,
            Anchoring(sealer.key, sealer.timestamper),
            chains=chains,
            reason=AnchorReason.MANUAL if case is not None else AnchorReason.INTERVAL,
            force=case is not None,
        )
    for anchor in made:
        out.print(
            _(
                "Anchored {case}: event {seq}, head {head}, time-stamped by {authorities}.",
                case=safe(anchor.case),
                seq=anchor.seq,
                head=anchor.head[:16],
                authorities=", ".join(safe(s.authority) for s in anchor.timestamps),
            ),
            markup=False,
        )
    if not made:
        out.print(_("Nothing to anchor: every chain's head is anchored already."))
    if export is not None and chains is not None:
        with _reported():
            count = export_anchors(vault, chains[0], export)
        out.print(
            ngettext(
                "Wrote {n} anchor to {path}: give it to the case's lawyer, to check the log "
                "later with `rempart custody verify --from FILE`.",
                "Wrote {n} anchors to {path}: give them to the case's lawyer, to check the log "
                "later with `rempart custody verify --from FILE`.",
                count,
                path=safe(str(export)),
            ),
            markup=False,
        )


@custody_app.command("verify")
def custody_verify(
    case: Annotated[str | None, typer.Argument(help="Only this case (default: all).")] = None,
    sources: Annotated[
        list[Path] | None,
        typer.Option(
            "--from",
            help="Anchor files (.jsonl) and bundles (.wacz), or folders of them, kept outside "
            "(exports, a lawyer's copy). The vault's are always read.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per chain.")] = False,
) -> None:
    """Check the custody log in the database against every anchor and every sealed bundle:
    each must agree with it event by event. Names the first event that disagrees. Exit 0
    when all agree, 1 when any record disagrees or cannot be relied on."""
    from rempart.jobs.custody import case_names, chain_of_case, verify_custody

    db, vault = _open_db(), _open_vault()
    with _reported():
        names = case_names(db)
        keys, roots = _trust()
        chains = [chain_of_case(db, case)] if case is not None else None
        reports = verify_custody(
            db, vault, keys=keys, roots=roots, chains=chains, paths=list(sources or [])
        )
    for report in reports:
        first = report.first
        if as_json:
            _emit(
                {
                    "chain": report.chain,
                    "case": names.get(report.chain),
                    "ok": report.ok,
                    "events": report.events,
                    "anchors": report.anchors,
                    "bundles": report.bundles,
                    "first_disagreement": None
                    if first is None
                    else {
                        "seq": first.seq,
                        "source": first.source,
                        "kind": first.kind,
                        "reason": str(first.reason),
                        "fields": list(first.fields),
                    },
                    "disagreements": len(report.disagreements),
                }
            )
            continue
        if first is None:
            out.print(
                _(
                    "[OK] {chain}: {events} events agree with {anchors} anchors and {bundles} "
                    "sealed bundles.",
                    chain=safe(names.get(report.chain, report.chain)),
                    events=report.events,
                    anchors=report.anchors,
                    bundles=report.bundles,
                ),
                markup=False,
            )
            continue
        out.print(
            _(
                "[DISAGREES] {chain}: the first event that disagrees is event {seq}: {reason} "
                "({source})",
                chain=safe(names.get(report.chain, report.chain)),
                seq=first.seq,
                reason=safe(_localized(first.reason)),
                source=safe(first.source),
            ),
            markup=False,
        )
        if first.fields:
            out.print(
                _("  changed: {fields}", fields=", ".join(first.fields)),
                markup=False,
            )
        others = len(report.disagreements) - 1
        if others:
            out.print(
                ngettext(
                    "  and {n} other record disagrees.", "  and {n} other records disagree.", others
                ),
                markup=False,
            )
    if not reports:
        out.print(_("No custody log yet."))
    if any(not r.ok for r in reports):
        err.print(
            _(
                "The custody log in the database does not match what was anchored or sealed "
                "earlier: it was edited. Keep the database, the vault and the anchors as they "
                "are, and report it."
            ),
            markup=False,
        )
        raise typer.Exit(1)


def _localized(text: str) -> str:
    localize = getattr(text, "localized", None)
    return str(localize()) if callable(localize) else str(text)
