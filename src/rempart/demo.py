"""`rempart demo`: Rempart's flow on neutral generated images, checked as it runs.

Registers a victim's images by hash, matches altered copies among unrelated images, shows an
allow bank at work and a withdrawal taking effect at once; then watches the demo site (a
forum, its image host, a mirror, a Telegram export, served on loopback) and reports where
her copies were seen. Uses its own temporary data folder.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from PIL import Image, ImageEnhance, ImageOps
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn
from rich.table import Table

from rempart.demo_site import DemoSite
from rempart.demo_site.abuse import serve_abuse_desks
from rempart.demo_site.tsa import DemoTimestampAuthority
from rempart.demo_takedown import DEMO_IDENTITY, Takedown, run_takedown
from rempart.evidence.browser import Browser, open_browser
from rempart.evidence.dossier import render_dossier
from rempart.evidence.keys import Keyring
from rempart.evidence.timestamps import (
    TimestampAuthority,
    make_timestamper,
    request_timestamps,
)
from rempart.evidence.vault import Vault
from rempart.evidence.verify import verify_bundle
from rempart.fetch import FetchPolicy
from rempart.hashing import REGISTRATION_EXTRAS, hash_image_bytes
from rempart.i18n import N_, Messages, _, ngettext
from rempart.intake import banks as bank_cases
from rempart.intake.cases import create_case
from rempart.intake.hashlists import ListFormat
from rempart.jobs import review
from rempart.jobs.dossier import build_dossier
from rempart.jobs.evidence import Sealer, capture_confirmed
from rempart.jobs.findings import FindingView, describe_how, list_findings
from rempart.jobs.runner import run_scan
from rempart.jobs.scan import ScanProgress
from rempart.jobs.watchlist import add_source
from rempart.matching.service import Matcher, Query, QueryResult
from rempart.matching.wording import describe_match
from rempart.samples import neutral_image
from rempart.store.database import Database
from rempart.store.models import BankKind, FindingStatus
from rempart.takedown.sending import Stamp, Stamper

__all__ = ["ALTERATIONS", "run_demo"]


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _crop(img: Image.Image, share: float) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * share), int(h * share)
    return img.crop((dx, dy, w - dx, h - dy))


# What re-uploaders do to an image, each as a function of the image.
ALTERATIONS: dict[str, Callable[[Image.Image], Image.Image]] = {
    N_("resized to 40%"): lambda im: im.resize((im.width * 2 // 5, im.height * 2 // 5)),
    N_("JPEG quality 25"): lambda im: Image.open(io.BytesIO(_jpeg(im, 25))),
    N_("mirrored"): ImageOps.mirror,
    N_("rotated 90°"): lambda im: im.transpose(Image.Transpose.ROTATE_90),
    N_("cropped 1% per side"): lambda im: _crop(im, 0.01),
    N_("brighter, more contrast"): lambda im: ImageEnhance.Contrast(
        ImageEnhance.Brightness(im).enhance(1.2)
    ).enhance(1.3),
}


@dataclass(frozen=True, slots=True)
class _Copy:
    name: str
    alteration: str
    data: bytes = field(repr=False)
    expected_item: int | None  # None: must not match (or, for the allowed image, is allowed)


def run_demo(
    console: Console,
    *,
    keep: bool = False,
    messages: Messages | None = None,
    home: Path | None = None,
) -> bool:
    """Run the demonstration; True when every check held. In `home` when given (an empty
    folder the caller owns and removes), else in a temporary folder removed unless `keep`."""
    t = messages or Messages.for_env()
    if home is not None:
        return _run(console, t, home)
    home = Path(tempfile.mkdtemp(prefix="rempart-demo-"))
    try:
        return _run(console, t, home)
    finally:
        if keep:
            console.print(t("demo.kept", home=home))
        else:
            shutil.rmtree(home, ignore_errors=True)


def _run(console: Console, t: Messages, home: Path) -> bool:
    console.rule(f"[bold]{t('demo.title')}")
    db = Database.open(f"sqlite:///{home / 'rempart.db'}")
    problems = 0
    device = home / "victim-device"  # stands for the victim's phone: images never leave it
    device.mkdir()
    originals = [neutral_image(seed, 800, 600) for seed in range(101, 106)]
    paths = []
    for i, img in enumerate(originals):
        path = device / f"photo-{i + 1}.jpg"
        path.write_bytes(_jpeg(img))
        paths.append(path)

    console.print(t("demo.step.register", n=len(paths)))
    bank_cases.create_bank(db, "demo-victim")
    item_ids: list[int] = []
    for outcome in bank_cases.add_images(db, "demo-victim", paths, label="demo"):
        if outcome.item_id is None:
            console.print(
                _("✗ {name}: {error}", name=outcome.path.name, error=outcome.error),
                style="red",
                markup=False,
            )
            return False
        item_ids.append(outcome.item_id)
        console.print(
            "   " + _("{name} → item {item}", name=outcome.path.name, item=outcome.item_id),
            markup=False,
        )
    allowed_img = neutral_image(201, 800, 600)
    allowed_path = device / "published-with-consent.jpg"
    allowed_path.write_bytes(_jpeg(allowed_img))
    bank_cases.create_bank(db, "demo-allow", kind=BankKind.ALLOW)
    (allowed,) = bank_cases.add_images(db, "demo-allow", [allowed_path])
    console.print(t("demo.step.allow"))

    copies = [
        _Copy(f"copy-{i + 1}-{n + 1}.jpg", name, _jpeg(alter(img), 85), item_ids[i])
        for i, img in enumerate(originals)
        for n, (name, alter) in enumerate(ALTERATIONS.items())
        if (i + n) % 2 == 0  # a varied sample, not every combination
    ]
    copies.append(
        _Copy(
            "consented.jpg",
            "resized to 40%",
            _jpeg(ALTERATIONS["resized to 40%"](allowed_img), 85),
            None,
        )
    )
    distractors = [_jpeg(neutral_image(1000 + s, 640, 480)) for s in range(40)]

    matcher = Matcher(db)
    console.print(t("demo.step.match", d=len(distractors)))
    results = _match(matcher, [c.data for c in copies])
    table = Table(
        t("demo.col.copy"), t("demo.col.alteration"), t("demo.col.result"), t("demo.col.expected")
    )
    for copy, result in zip(copies, results, strict=True):
        text, got = _describe(t, result)
        ok = got == copy.expected_item and (copy.expected_item is not None or not result.matches)
        problems += not ok
        expected = (
            _("item {item}", item=copy.expected_item) if copy.expected_item else t("demo.nomatch")
        )
        table.add_row(copy.name, _(copy.alteration), text if ok else f"[red]{text}[/]", expected)
    console.print(table)
    false_matches = sum(bool(r.matches) for r in _match(matcher, distractors))
    problems += false_matches
    console.print("   " + t("demo.distractors", n=len(distractors), m=false_matches))

    gone = item_ids[0]
    console.print(t("demo.step.withdraw", item=gone))
    bank_cases.withdraw_item(db, "demo-victim", gone)
    for copy, result in zip(copies, _match(matcher, [c.data for c in copies]), strict=True):
        if copy.expected_item == gone:
            text, got = _describe(t, result)
            problems += got is not None
            console.print(
                "   " + _("{name} ({alteration}): {result}", name=copy.name,
                          alteration=_(copy.alteration), result=text),
                markup=False,
            )  # fmt: skip

    console.print(t("demo.step.export"))
    exported = bank_cases.export_bank(db, "demo-victim", ListFormat.PDQ)
    console.print(exported.text.rstrip(), markup=False, highlight=False)
    problems += len(exported.text.splitlines()) != len(item_ids) - 1 or allowed.item_id is None
    problems += len(exported.left_out) != 0
    problems += _watch(console, t, db, home)
    db.dispose()
    if problems:
        console.print(
            t("demo.failed", n=ngettext("{n} problem", "{n} problems", problems)),
            style="bold red",
        )
        return False
    console.print(t("demo.ok"), style="bold green")
    return True


DEMO_CASE = "demo-case"
_CASEWORKER = "demo caseworker"
_DEMO_NETWORK = "127.0.0.1/32"  # the demo site's hosts: one address, each on its own port
_LOOPBACK = {"allow_networks": [_DEMO_NETWORK], "any_port": True, "per_host_interval_s": 0.0}


def _watch(console: Console, t: Messages, db: Database, home: Path) -> int:
    """The main job: watch a forum, its image host, a mirror and a Telegram channel (all
    served here on loopback), and report where the victim's copies were seen."""
    console.rule(f"[bold]{t('demo.watch.title')}")
    site = DemoSite(seed=1, images=60)
    with ExitStack() as running:
        served = running.enter_context(site.serve())
        desks = running.enter_context(serve_abuse_desks(site.content, served.urls))
        console.print(
            t(
                "demo.watch.site",
                forum=served.forum_url,
                host=served.imagehost_url,
                mirror=served.mirror_url,
            )
        )
        device = home / "victim-device-2"
        device.mkdir()
        paths = []
        for i, data in enumerate(served.victim_images()):
            paths.append(device / f"photo-{i + 1}.jpg")
            paths[-1].write_bytes(data)
        create_case(db, DEMO_CASE)
        bank_cases.create_bank(db, "demo-watch", case=DEMO_CASE)
        added = list(
            bank_cases.add_images(
                db,
                "demo-watch",
                paths,
                label="demo",
                extras=REGISTRATION_EXTRAS,
            )
        )
        console.print(t("demo.watch.register", n=len(added)))
        export = home / "telegram-export"
        expected = [*served.expected_sightings(), *site.write_telegram_export(export)]
        recipes = served.recipes()
        sources: dict[str, tuple[str, dict[str, object]]] = {
            "forum": ("web", {**_LOOPBACK, "recipe": recipes["forum"]}),
            "mirror": ("web", {**_LOOPBACK, "recipe": recipes["mirror"]}),
            "telegram": ("telegram", {"path": str(export)}),
        }
        matcher = Matcher(db)
        vault = Vault.open(home, env={})
        for name, (kind, settings) in sources.items():
            add_source(db, name, kind, settings)
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task(t("demo.watch.scanning", source=name))

                def show(counts: ScanProgress, task: TaskID = task, name: str = name) -> None:
                    progress.update(
                        task,
                        description=t(
                            "demo.watch.progress",
                            source=name,
                            n=counts.candidates,
                            m=counts.matched,
                        ),
                    )

                report = run_scan(db, matcher, name, progress=show, vault=vault)
            console.print(
                t(
                    "demo.watch.scanned",
                    source=name,
                    n=report.candidates,
                    m=report.matched,
                    p=ngettext("{n} problem reported", "{n} problems reported", report.problems),
                )
            )
        found = list_findings(db)
        table = Table(
            t("demo.col.source"), t("demo.col.item"), t("demo.col.where"), t("demo.col.how")
        )
        for v in found:
            table.add_row(v.source, f"#{v.item}", v.page_url or v.media_url or "", describe_how(v))
        console.print(table)
        # a copy seen by several sources is one finding; each later sighting counts as found
        places = [(v.source, v.page_url, v.media_url, v.post_id) for v in found] + [
            (a.source, a.page_url, a.media_url, a.post_id) for v in found for a in v.also_seen
        ]
        web = {(page, media) for _source, page, media, _post in places}
        posts = {post for source, _page, _media, post in places if source == "telegram"}
        missed = [
            s
            for s in expected
            if (
                s.post_id not in posts
                if s.where == "telegram"
                else (s.page_url, s.media_url) not in web
            )
        ]
        console.print(t("demo.watch.summary", n=len(expected) - len(missed), total=len(expected)))
        for s in missed:
            where = s.page_url or s.media_url
            console.print(
                "   " + t("demo.watch.missed", where=where, alteration=_(s.alteration)),
                style="red",
                markup=False,
            )
        problems = len(missed)
        on_web = [v for v in found if (v.page_url or "").startswith("http")]
        on_host = next((v for v in on_web if _on(v, served.imagehost_url)), None)
        on_mirror = next((v for v in on_web if _on(v, served.mirror_url)), None)
        if on_host is None or on_mirror is None:
            console.print(_("✗ no copy found on the image host and the mirror"), style="red")
            return problems + 1
        ready = _evidence(console, t, db, home, vault, running, [on_host, on_mirror])
        problems += ready.problems
        return problems + run_takedown(
            console,
            t,
            Takedown(
                db=db,
                home=home,
                vault=vault,
                desks=desks,
                matcher=matcher,
                sealer=ready.sealer,
                browser=ready.browser,
                stamp=ready.stamp,
                case=DEMO_CASE,
                on_host=on_host,
                on_mirror=on_mirror,
                loopback=(_DEMO_NETWORK,),
            ),
        )


def _on(view: FindingView, base: str) -> bool:
    return (view.media_url or "").startswith(base.rstrip("/") + "/")


@dataclass(frozen=True, slots=True)
class _Ready:
    """What the evidence part leaves open for the takedown part (closed with the site)."""

    problems: int
    sealer: Sealer
    browser: Browser
    stamp: Stamper  # time-stamps what a notice sent, with the same DEMO authority


def _evidence(
    console: Console,
    t: Messages,
    db: Database,
    home: Path,
    vault: Vault,
    running: ExitStack,
    chosen: list[FindingView],
) -> _Ready:
    """Review, capture, seal, verify and the dossier, on the copies the watch found. The demo
    confirms the matches itself and time-stamps with a DEMO authority; both say so."""
    console.rule(f"[bold]{t('demo.evidence.title')}")
    for view in chosen:
        review.decide(
            db,
            view.id,
            FindingStatus.CONFIRMED,
            actor=_CASEWORKER,
            note="demo: confirmed by the demonstration itself",
        )
    console.print(t("demo.evidence.review", n=len(chosen)))
    keyring = Keyring(home / "keys")
    keyring.generate()
    key = keyring.signing_key()
    console.print(t("demo.evidence.key", fingerprint=key.fingerprint))
    problems = 0
    policy = FetchPolicy(allow_networks=(_DEMO_NETWORK,), any_port=True)
    tsa = running.enter_context(DemoTimestampAuthority.start())
    http = running.enter_context(httpx.Client(timeout=30.0, trust_env=False))
    browser = running.enter_context(open_browser())
    authority = TimestampAuthority("demo-tsa", tsa.url, (tsa.root_pem,))
    sealer = Sealer(
        key=key,
        timestamper=make_timestamper([authority], http=http),
        operator=_CASEWORKER,
        organisation="Rempart demo",
    )
    outcomes = capture_confirmed(db, vault, browser, sealer, policy=policy)
    roots = [tsa.root]
    for outcome in outcomes:
        if outcome.status != "sealed" or outcome.bundle is None:
            console.print(
                t("demo.evidence.failed", url=outcome.url, error=outcome.error),
                style="red",
                markup=False,
            )
            problems += 1
            continue
        report = verify_bundle(
            vault.get(outcome.bundle), trusted_keys=[key.fingerprint], tsa_roots=roots
        )
        problems += not report.ok
        verdict = _("every check passed") if report.ok else _("a check failed")
        console.print(
            t(
                "demo.evidence.sealed",
                url=outcome.url,
                size=f"{outcome.bundle_size:,}",
                sha=(outcome.bundle_sha256 or "")[:16],
                verdict=verdict,
            ),
            markup=False,
        )
    problems += len(outcomes) != len(chosen)
    (dossier,), _bundles = build_dossier(
        db,
        vault,
        DEMO_CASE,
        languages=[t.lang],
        identity=dataclasses.replace(DEMO_IDENTITY, caseworker=_CASEWORKER),
    )
    pdf = render_dossier(dossier)
    path = home / f"dossier-{DEMO_CASE}-{t.lang}.pdf"
    path.write_bytes(pdf)
    console.print(t("demo.evidence.dossier", path=path, pages=pdf.count(b"/Type /Page\n")))

    def stamp(data: bytes) -> list[Stamp]:
        answers = request_timestamps(data, [authority], http=http)
        return [Stamp(a.authority, a.gen_time, a.response, a.request, a.chain) for a in answers]

    return _Ready(problems, sealer, browser, stamp)


def _match(matcher: Matcher, images: list[bytes]) -> list[QueryResult]:
    wanted = matcher.query_windows()
    return matcher.match(
        [Query.from_image(hash_image_bytes(d, dihedral=True, windows=wanted)) for d in images]
    )


def _describe(t: Messages, result: QueryResult) -> tuple[str, int | None]:
    if result.matches:
        m = result.matches[0]
        how = describe_match(
            m.method,
            m.distance,
            m.threshold,
            window=m.window,
            variant=m.variant.value if m.variant else None,
            reference=m.reference,
            lang=t.lang,
        )
        return t("demo.match", item=m.item, how=how), m.item
    if result.allowed_by:
        return t("demo.allowed", item=result.allowed_by[0].item), None
    return t("demo.nomatch"), None
