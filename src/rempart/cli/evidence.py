"""`rempart keys …`, `capture`, `evidence …`, `verify` and `dossier`: sealing evidence of each
confirmed copy, checking it offline, and handing it over with a complaint.

Thin: parse, call rempart.jobs.evidence / rempart.evidence, render. Registered by rempart.cli.
Heavy parts (the browser, sealing, the store) load inside the commands that use them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from rempart.cli import _emit, _fail, _open_db, _open_vault, _reported, app, err, out
from rempart.cli.text import json_text, safe, safe_lines, shown
from rempart.config import Settings
from rempart.errors import InputError
from rempart.i18n import N_, Messages, _, ngettext

if TYPE_CHECKING:  # the browser, PDF and sealing stacks load only for the commands using them
    import httpx

    from rempart.evidence.browser import Browser
    from rempart.evidence.keys import Keyring
    from rempart.evidence.vault import Vault
    from rempart.fetch import FetchPolicy
    from rempart.jobs import evidence
    from rempart.jobs.findings import FindingView
    from rempart.store.database import Database

keys_app = typer.Typer(
    help=(
        "The organisation's Ed25519 signing keys, kept in $REMPART_HOME/keys. Every bundle is "
        "signed with the active key; publish its fingerprint so anyone can check bundles. "
        "Set REMPART_KEY_PASSPHRASE to keep the private key encrypted."
    ),
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
evidence_app = typer.Typer(
    help="Sealed captures kept (encrypted) in the evidence vault: list them, export a bundle.",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")

_PASSPHRASE_ENV = "REMPART_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, no secret
_CHROMIUM_ENV = "REMPART_CHROMIUM"
_STATES = {"sealed": N_("sealed"), "failed": N_("failed"), "sealing": N_("sealing")}


def _keyring() -> Keyring:
    from rempart.evidence.keys import Keyring

    return Keyring(Settings.from_env().home / "keys")


def _passphrase() -> bytes | None:
    value = os.environ.get(_PASSPHRASE_ENV)
    return value.encode() if value else None


def _unencrypted_warning() -> None:
    if _passphrase() is None:
        err.print(
            _(
                "[yellow]Note:[/] the private key is stored [bold]unencrypted[/] in "
                "{folder} (readable by this user only). To encrypt it, set "
                "REMPART_KEY_PASSPHRASE before creating the key, and whenever you seal.",
                folder=escape(str(Settings.from_env().home / "keys")),
            ),
            markup=True,
        )


@keys_app.command("init")
def keys_init() -> None:
    """Create the organisation's first signing key. With REMPART_KEY_PASSPHRASE set, the
    private key is encrypted with it (and sealing then needs it); without, it is stored
    unencrypted, readable by this user only."""
    with _reported():
        info = _keyring().generate(passphrase=_passphrase())
    out.print(_("Signing key created. Fingerprint (publish it):"))
    out.print(info.fingerprint, soft_wrap=True, markup=False, highlight=False)
    _unencrypted_warning()


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new active key; the old one is retired but kept to check older bundles.
    REMPART_KEY_PASSPHRASE, when set, encrypts the new private key."""
    with _reported():
        info = _keyring().rotate(passphrase=_passphrase())
    out.print(_("New active key (publish its fingerprint; keep the old one listed):"))
    out.print(info.fingerprint, soft_wrap=True, markup=False, highlight=False)
    _unencrypted_warning()


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the keys, active and retired, with their full fingerprints."""
    with _reported():
        infos = _keyring().public_keys()
    if as_json:
        for info in infos:
            _emit(
                {
                    "fingerprint": info.fingerprint,
                    "active": info.active,
                    "created_at": info.created.isoformat(),
                    "retired_at": info.retired.isoformat() if info.retired else None,
                    "compromised_since": (
                        info.compromised.isoformat() if info.compromised else None
                    ),
                }
            )
        return
    if not infos:
        out.print(_("No signing key yet: `rempart keys init`."))
        return
    # One key per paragraph, its fingerprint whole on a line of its own: it is what the
    # organisation publishes, so it must never be cut or wrapped by a table.
    for info in infos:
        if info.retired:
            line = _(
                "retired key, created {created}, retired {retired}:",
                created=f"{info.created:%Y-%m-%d}",
                retired=f"{info.retired:%Y-%m-%d}",
            )
        else:
            line = _("active key, created {created}:", created=f"{info.created:%Y-%m-%d}")
        out.print(line, markup=False)
        if info.compromised:
            out.print(
                _(
                    "  COMPROMISED since {since}: bundles it sealed are trusted only with a "
                    "time-stamp from before then",
                    since=f"{info.compromised:%Y-%m-%d %H:%M:%S}Z",
                ),
                markup=False,
            )
        out.print(f"  {info.fingerprint}", soft_wrap=True, markup=False, highlight=False)


@keys_app.command("export")
def keys_export(
    fingerprint: Annotated[str | None, typer.Argument(help="Default: the active key.")] = None,
    as_list: Annotated[
        bool,
        typer.Option(
            "--list",
            help="Print the signed key list instead: every key with its life (created, "
            "retired, compromised), signed by the active key. Publish it; verifiers give it "
            "to `rempart verify --trust-list`.",
        ),
    ] = False,
) -> None:
    """Print a public key (PEM), to publish beside its fingerprint, or the signed key list."""
    if as_list:
        from rempart.clock import utc_now
        from rempart.evidence.keys import signed_key_list

        with _reported():
            keyring = _keyring()
            document = signed_key_list(
                keyring.public_keys(),
                keyring.signing_key(passphrase=_passphrase()),
                issued=utc_now(),
                organisation=Settings.from_env().organisation or "",
            )
        typer.echo(document.decode("utf-8"), nl=False)
        return
    with _reported():
        keyring = _keyring()
        info = keyring.find(fingerprint) if fingerprint else keyring.active()
    typer.echo(info.public_pem().decode(), nl=False)


@keys_app.command("revoke")
def keys_revoke(
    fingerprint: Annotated[str, typer.Argument(help="The full fingerprint of the key.")],
    compromised: Annotated[
        bool,
        typer.Option(
            "--compromised",
            help="Required: say that someone else may hold the private key.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            help="When the key may have been stolen (YYYY-MM-DD or an ISO time, UTC; default: "
            "now). When unsure, give the earliest possible date."
        ),
    ] = None,
) -> None:
    """Mark a retired key compromised: `rempart verify` then fails every bundle it sealed
    unless a trusted time-stamp proves the bundle existed before the compromise. Rotate the
    key first when it is the active one. Publish the key list again afterwards
    (`rempart keys export --list`)."""
    if not compromised:
        _fail(_("say why the key is revoked: --compromised"))
    moment = _parse_since(since) if since is not None else None
    with _reported():
        info = _keyring().revoke(fingerprint.strip().lower(), since=moment)
    assert info.compromised is not None
    out.print(
        _(
            "Key {fingerprint} is marked compromised since {since}. Bundles it sealed fail "
            "verification unless a trusted time-stamp predates that time. Publish the key list "
            "again: `rempart keys export --list`.",
            fingerprint=info.fingerprint,
            since=info.compromised.isoformat(),
        ),
        soft_wrap=True,
        markup=False,
    )


def _parse_since(text: str) -> datetime:
    from datetime import UTC

    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        _fail(_("--since: not a date or time: {text}", text=text[:40]))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _sealer(http: httpx.Client) -> evidence.Sealer:
    from rempart.evidence.authorities import authorities_file, load_authorities
    from rempart.evidence.keys import Keyring
    from rempart.evidence.timestamps import make_timestamper
    from rempart.jobs import evidence

    settings = Settings.from_env()
    keyring = Keyring(settings.home / "keys")
    if not keyring.exists:
        raise InputError("no signing key yet: create one with `rempart keys init`")
    authorities = load_authorities(authorities_file(settings.home, os.environ))
    if not authorities:
        raise InputError(
            "no time-stamping authority is configured: list one in {path} (see docs/evidence.md)",
            path=str(authorities_file(settings.home, os.environ)),
        )
    return evidence.Sealer(
        key=keyring.signing_key(passphrase=_passphrase()),
        timestamper=make_timestamper(authorities, http=http),
        operator=settings.operator,
        organisation=settings.organisation or "—",
    )


@contextmanager
def _sealing() -> Iterator[tuple[evidence.Sealer, Callable[[], Browser]]]:
    """The sealer, and a function that opens Chromium the first time a web page is to be
    captured: copies found in files and exports are sealed without a browser."""
    import httpx

    with _reported(), httpx.Client(timeout=30.0) as http, ExitStack() as stack:
        sealer = _sealer(http)
        opened: list[Browser] = []

        def browser() -> Browser:
            from rempart.evidence.browser import DEFAULT_CHROMIUM, open_browser

            if not opened:
                chromium = os.environ.get(_CHROMIUM_ENV) or DEFAULT_CHROMIUM
                opened.append(stack.enter_context(open_browser(chromium)))
            return opened[0]

        yield sealer, browser


def _policy(allow_network: list[str] | None) -> FetchPolicy:
    from rempart.fetch import FetchPolicy

    try:
        networks = tuple(allow_network or ())
        return FetchPolicy(allow_networks=networks, any_port=bool(networks))
    except ValueError as exc:
        _fail(_("--allow-network: {reason}", reason=str(exc)))


def capture_after_review(
    finding_ids: list[int], allow_network: list[str] | None
) -> list[evidence.CaptureOutcome]:
    """Seal what a caseworker just confirmed (a web page in the browser, a copy in a file or
    an export from its source), when sealing is set up; otherwise say what to run. Each
    failed capture is reported with what to do; the caller exits 1 when one failed."""
    from rempart.evidence.authorities import authorities_file, load_authorities
    from rempart.evidence.keys import Keyring
    from rempart.jobs import evidence

    if not finding_ids:
        return []
    settings = Settings.from_env()
    configured = Keyring(settings.home / "keys").exists and load_authorities(
        authorities_file(settings.home, os.environ)
    )
    if not configured:
        out.print(
            _(
                "Not captured yet: set up sealing (`rempart keys init` and a time-stamping "
                "authority, docs/evidence.md), then run `rempart capture --confirmed`."
            )
        )
        return []
    db, vault, policy = _open_db(), _open_vault(), _policy(allow_network)
    with _sealing() as (sealer, browser):
        outcomes = evidence.capture_confirmed(
            db, vault, browser, sealer, policy=policy, ids=tuple(finding_ids)
        )
    for outcome in outcomes:
        _show(outcome, as_json=False)
    return outcomes


def _what_to_do(error: str) -> str:
    """What a caseworker can do about a failed capture, from its (English) reason."""
    lowered = error.lower()
    if "not allowed" in lowered or "refused" in lowered or "private" in lowered:
        return _(
            "The address is refused by the network guard. If it is on your own machine or "
            "network (a rehearsal with the demo site), allow it with `--allow-network "
            "127.0.0.1/32` (or its network); otherwise check the address. Then run "
            "`rempart capture --confirmed` again."
        )
    if "no longer holds" in lowered or "changed since" in lowered or "cannot be read" in lowered:
        return _(
            "Put the export, folder or file back where it was scanned (see `rempart source "
            "list`), then run `rempart capture --confirmed` again."
        )
    if "time-stamp" in lowered:
        return _(
            "Check the time-stamping authorities (docs/evidence.md) and the network, then run "
            "`rempart capture --confirmed` again."
        )
    return _(
        "Fix the cause above, then run `rempart capture --confirmed` again: failed captures "
        "are tried again, sealed ones are not redone."
    )


def _show(outcome: evidence.CaptureOutcome, as_json: bool) -> None:
    if as_json:
        _emit(outcome.to_json())
        return
    if outcome.status != "sealed":
        err.print(
            _(
                "[red]✗[/] capture {id} of {url} failed: {reason}",
                id=outcome.id,
                url=(shown(outcome.url)),
                reason=(shown(outcome.error or "?")),
            ),
            markup=True,
        )
        err.print(_("  What to do: {advice}", advice=escape(_what_to_do(outcome.error or ""))))
        if outcome.finding is not None:
            err.print(
                _(
                    "  To try this copy alone: `rempart capture --finding {id}` (with the same "
                    "`--allow-network` if needed).",
                    id=outcome.finding,
                )
            )
        return
    stamps = ", ".join(f"{a} {t:%Y-%m-%d %H:%M:%S}Z" for a, t in outcome.stamps)
    message = _(
        "[green]✓[/] capture {id}: {url} sealed ({size} bytes, SHA-256 {sha256}, "
        "time-stamped by {stamps})",
        id=outcome.id,
        url=(shown(outcome.url)),
        size=f"{outcome.bundle_size or 0:,}",
        sha256=outcome.bundle_sha256,
        stamps=(shown(stamps)),
    )
    if outcome.no_media:
        message += _(" — minor's case: no picture kept")
    out.print(message)


@app.command("capture")
def capture_command(
    url: Annotated[str | None, typer.Argument(help="The page to capture.")] = None,
    confirmed: Annotated[
        bool,
        typer.Option("--confirmed", help="Capture every confirmed finding not sealed yet."),
    ] = False,
    finding: Annotated[
        int | None, typer.Option(help="Capture this finding's page (or one finding's).")
    ] = None,
    case: Annotated[str | None, typer.Option(help="The case a URL capture belongs to.")] = None,
    allow_network: Annotated[
        list[str] | None,
        typer.Option(
            help="A private network the browser may reach (e.g. 127.0.0.1/32 for the demo "
            "site). Private addresses are refused otherwise."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per capture.")] = False,
) -> None:
    """Capture a page as a fresh browser sees it (screenshot, rendered HTML, WARC, media,
    DNS, server address, TLS chain), log it, seal it (signature + RFC 3161 time-stamps) and
    keep the bundle encrypted. A copy found in a Telegram export, a folder or an archive, or
    a WARC file is sealed from that source (the message or record as found, the media as
    stored, the export's digests). Exit 1 when a capture failed, with its reason. Examples:
    `rempart capture https://site/thread/12 --case case-0142`; `rempart capture --confirmed`
    after `rempart review`."""
    if sum((url is not None, confirmed, finding is not None and url is None)) != 1:
        _fail(_("give a URL, --finding N, or --confirmed"))
    from rempart.jobs import evidence
    from rempart.jobs.review import finding as finding_view

    db, vault, policy = _open_db(), _open_vault(), _policy(allow_network)
    with _sealing() as (sealer, browser):
        if confirmed or (finding is not None and url is None):
            ids = (finding,) if finding is not None else None

            def show(view: FindingView) -> None:
                if not as_json:
                    err.print(_("sealing finding {id}…", id=view.id))

            outcomes = evidence.capture_confirmed(
                db,
                vault,
                browser,
                sealer,
                policy=policy,
                ids=ids,
                progress=show,
            )
            if not outcomes and not as_json:
                out.print(_("Nothing to capture: every confirmed finding is sealed."))
        else:
            assert url is not None
            view = finding_view(db, finding) if finding is not None else None
            outcomes = [
                evidence.capture_url(
                    db,
                    vault,
                    browser(),
                    sealer,
                    url,
                    policy=policy,
                    case=case,
                    finding=view,
                )
            ]
    for outcome in outcomes:
        _show(outcome, as_json)
    failed = sum(o.status != "sealed" for o in outcomes)
    if failed:
        if not as_json:
            err.print(ngettext("{n} capture failed.", "{n} captures failed.", failed))
        raise typer.Exit(1)


@evidence_app.command("list")
def evidence_list(
    case: Annotated[str | None, typer.Option(help="Only this case.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List captures: sealed bundles, and failed attempts with their reason."""
    from rempart.jobs import evidence

    with _reported():
        outcomes = evidence.list_captures(_open_db(), case=case)
    if as_json:
        for outcome in outcomes:
            _emit(outcome.to_json())
        return
    if not outcomes:
        out.print(_("No capture yet: `rempart capture --confirmed` after `rempart review`."))
        return
    table = Table(
        _("#"), _("case"), _("copy"), _("address"), _("status"), _("bundle SHA-256"), _("problem")
    )
    for o in outcomes:
        table.add_row(
            str(o.id),
            (shown(o.case or "", 16)),
            str(o.finding or ""),
            (shown(o.url, 32)),
            _(_STATES.get(o.status, o.status)),
            (o.bundle_sha256[:12] + "…") if o.bundle_sha256 else "",
            (shown(o.error or "", 60)),
        )
    out.print(table)
    if any(o.status == "failed" for o in outcomes):
        out.print(
            _(
                "Failed captures are tried again by `rempart capture --confirmed`; "
                "`--json` gives full digests and reasons."
            )
        )


@evidence_app.command("export")
def evidence_export(
    capture_id: Annotated[int, typer.Argument(help="The capture's number.")],
    to: Annotated[Path, typer.Option("--to", help="A file name or an existing folder.")],
) -> None:
    """Write a sealed bundle out of the vault (logged in the custody log)."""
    from rempart.jobs import evidence

    with _reported():
        target = evidence.export_bundle(
            _open_db(), _open_vault(), capture_id, to, actor=Settings.from_env().operator
        )
    from rempart.cli.custody import anchor_after
    from rempart.evidence.anchors import AnchorReason

    anchor_after(AnchorReason.EXPORT)
    out.print(
        _(
            "Wrote {path}. Check it with `rempart verify {path}`.",
            path=(shown(str(target))),
        )
    )


@app.command("verify")
def verify_command(
    bundle: Annotated[Path, typer.Argument(help="A sealed bundle (.wacz).")],
    trust_key: Annotated[
        list[str] | None,
        typer.Option(help="An Ed25519 fingerprint you trust (the organisation publishes it)."),
    ] = None,
    trust_list: Annotated[
        list[Path] | None,
        typer.Option(
            help="A key list the organisation published (`rempart keys export --list`): its "
            "keys are trusted within their life (created, retired, compromised)."
        ),
    ] = None,
    tsa_root: Annotated[
        list[Path] | None, typer.Option(help="A time-stamping root certificate you trust (PEM).")
    ] = None,
    crl: Annotated[
        list[Path] | None, typer.Option(help="A revocation list obtained since (DER or PEM).")
    ] = None,
    own_keys: Annotated[
        bool, typer.Option(help="Also trust this installation's own keys and authorities.")
    ] = True,
    lang: Annotated[str | None, typer.Option(help="fr or en (default: from REMPART_LANG).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Check a bundle offline: digests, manifest, signature, key validity, time-stamps,
    custody chain. PASS/FAIL per check, and what it proves and does not. By default the keys
    (with their validity) and time-stamping roots of this installation ($REMPART_HOME) are
    trusted, and the report says so; `--no-own-keys` trusts only what you give. Exit 0: PASS
    (intact and trusted); 1: FAIL; 3: UNTRUSTED (intact, but no key or root you trust
    vouches for it)."""
    from cryptography import x509

    from rempart.evidence.bundle import MAX_BUNDLE
    from rempart.evidence.keys import PublicKeyInfo, parse_key_list
    from rempart.evidence.timestamps import load_certificates
    from rempart.evidence.verify import (
        GIVEN_KEY,
        LIST_KEY,
        render_report,
        report_json_text,
        verify_bundle,
    )
    from rempart.inputs import MiB, read_capped

    try:
        data = read_capped(bundle, MAX_BUNDLE)
    except OSError as exc:
        _fail(_("cannot read {path}: {reason}", path=safe(bundle), reason=exc.strerror))
    except InputError as exc:
        _fail(exc)
    origins = {k.strip().lower(): GIVEN_KEY for k in trust_key or []}
    lives: dict[str, PublicKeyInfo] = {}
    roots: list[x509.Certificate] = []
    with _reported():
        for path in trust_list or []:
            for info in parse_key_list(read_capped(path, MiB)):  # a key list is small
                origins.setdefault(info.fingerprint, LIST_KEY)
                lives.setdefault(info.fingerprint, info)
        for path in tsa_root or []:
            roots.extend(load_certificates([read_capped(path, 16 * MiB)]))
        crls = [_der_crl(read_capped(path, 64 * MiB)) for path in crl or []]
        if own_keys:
            from rempart.evidence.trust import own_trust

            own = own_trust(Settings.from_env().home, os.environ)
            for fingerprint, origin in own.keys.items():
                origins.setdefault(fingerprint, origin)
            for info in own.lives:
                lives.setdefault(info.fingerprint, info)
            roots.extend(own.roots)
    report = verify_bundle(
        data, trusted_keys=origins, tsa_roots=roots, crls=crls, key_lives=lives.values()
    )
    messages = Messages(lang) if lang in ("fr", "en") else Messages.for_env()
    if as_json:
        typer.echo(json_text(report_json_text(report, messages)))
    else:
        typer.echo(safe_lines(render_report(report, messages)))  # the bundle's text is outside text
    raise typer.Exit(report.exit_status)


def _case_anchors(db: Database, vault: Vault, case: str) -> bytes:
    """The case's custody anchor file as the vault holds it (empty when none yet)."""
    from rempart.jobs.custody import anchor_file, chain_of_case

    path = anchor_file(vault, chain_of_case(db, case))
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise InputError(
            "cannot read {path}: {reason}", path=str(path), reason=exc.strerror
        ) from None


def _der_crl(data: bytes) -> bytes:
    from cryptography import x509

    if data.lstrip().startswith(b"-----BEGIN"):
        from cryptography.hazmat.primitives.serialization import Encoding

        return x509.load_pem_x509_crl(data).public_bytes(Encoding.DER)
    return data


@app.command("dossier")
def dossier_command(
    case: Annotated[str, typer.Argument(help="The case (pseudonym).")],
    to: Annotated[
        Path, typer.Option("--to", help="The folder to write the dossier and its bundles in.")
    ] = Path("."),
    lang: Annotated[list[str] | None, typer.Option(help="fr, en (default: both).")] = None,
    include_pending: Annotated[
        bool,
        typer.Option(
            "--include-pending",
            help="Also list matches not reviewed yet, apart, in a labelled annex (never "
            "counted as copies).",
        ),
    ] = False,
) -> None:
    """Write the complaint dossier of a case: a PDF per language (timeline chart, each
    confirmed copy with when and by whom it was posted, a blurred thumbnail, digests, seals,
    notices) and the sealed bundles, with a SHA256SUMS file. Written in the organisation's
    name (`rempart config`). A minor's case carries no picture at all."""
    from rempart.evidence.dossier import render_dossier
    from rempart.i18n import _, ngettext
    from rempart.jobs.dossier import build_dossier, require_identity

    languages = lang or ["fr", "en"]
    if not set(languages) <= {"fr", "en"}:
        _fail(_("--lang is fr or en"))
    with _reported():
        settings = Settings.from_env()
        require_identity(settings.identity)
    db, vault = _open_db(), _open_vault()
    folder = to / f"dossier-{case}"
    if folder.exists():
        _fail(_("{folder} exists already; choose another --to", folder=str(folder)))
    with _reported():
        dossiers, bundles = build_dossier(
            db,
            vault,
            case,
            languages=languages,
            identity=settings.identity,
            include_pending=include_pending,
        )
        written = {f"dossier-{case}-{d.language}.pdf": render_dossier(d) for d in dossiers}
    written.update({f"bundles/{name}": data for name, data in bundles.items()})
    with _reported():
        anchors = _case_anchors(db, vault, case)
    if anchors:  # the custody log's anchors, for the lawyer to check it later
        written["custody-anchors.jsonl"] = anchors
    written["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(written.items())
    ).encode()
    # Written in a folder aside, then renamed: a failure leaves no half-written dossier.
    partial = folder.with_name(f".{folder.name}.{secrets.token_hex(6)}.part")
    from rempart.private import private_folder, write_private

    try:
        private_folder(partial / "bundles")
        for name, data in written.items():
            write_private(partial / name, data)
        partial.rename(folder)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        _fail(_("cannot write {folder}: {problem}", folder=str(folder), problem=exc.strerror))
    confirmed = sum(f.status == "confirmed" for f in dossiers[0].findings)
    pending = len(dossiers[0].findings) - confirmed
    out.print(_("Wrote {folder}:", folder=escape(str(folder))))
    for name in sorted(written):
        out.print(f"  {escape(name)}")
    out.print(
        _(
            "{copies} confirmed; {pending} pending in a separate annex.",
            copies=ngettext("{n} copy", "{n} copies", confirmed),
            pending=pending,
        )
        if include_pending
        else _("{copies} confirmed.", copies=ngettext("{n} copy", "{n} copies", confirmed))
    )
    origin = dossiers[0].provenance_counts()
    if origin.total:
        out.print(
            _(
                "Origin of the confirmed copies: AI declared {declared}, AI suspected "
                "{suspected}, edited {edited}, camera {camera}, no signal {none} ({share} of "
                "those read), not read {unread}.",
                declared=origin.ai_declared,
                suspected=origin.ai_suspected,
                edited=origin.edited,
                camera=origin.camera,
                none=origin.no_signal,
                share=f"{origin.no_signal_share:.0%}",
                unread=origin.not_read,
            )
        )
    if not include_pending:
        from rempart.jobs.findings import list_findings

        waiting = len(list_findings(db, case=case, status="pending"))
        if waiting:
            out.print(
                ngettext(
                    "{n} match not reviewed yet is left out: review it (`rempart review "
                    "--case {case}`), or list it apart with --include-pending.",
                    "{n} matches not reviewed yet are left out: review them (`rempart review "
                    "--case {case}`), or list them apart with --include-pending.",
                    waiting,
                    case=escape(case),
                )
            )
