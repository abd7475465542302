"""The complaint dossier: a PDF that parses, says everything in French or English, prints
outside text literally, shows pictures only blurred and never for a minor, and holds up with an
empty case, a bad picture, hostile values and 200 copies."""

from __future__ import annotations

import hashlib
import io
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from rempart.evidence.blur import blurred
from rempart.evidence.dossier import (
    ComplaintKind,
    Dossier,
    DossierBundle,
    DossierCapture,
    DossierCase,
    DossierEvent,
    DossierFinding,
    DossierMatch,
    DossierNotice,
    EventKind,
    FindingStatus,
    SealTimestamp,
    events_from_findings,
    render_dossier,
)
from rempart.evidence.dossier_pdf import THUMBNAIL_SIDE, render_pdf
from rempart.evidence.timeline import CHART_DPI, CHART_SIZE_IN
from rempart.samples import web_jpeg

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
GENERATED = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
CHART_PIXELS = (round(CHART_SIZE_IN[0] * CHART_DPI), round(CHART_SIZE_IN[1] * CHART_DPI))
PICTURES = (web_jpeg(21, 640, 480), web_jpeg(22, 640, 480))  # one for each default copy


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def capture(i: int, at: datetime) -> DossierCapture:
    return DossierCapture(
        bundle=f"capture-{i:04d}.wacz",
        bundle_sha256=_sha(f"bundle {i}"),
        captured_at=at,
        operator="Camille (StopFisha)",
        signer="ed25519:" + _sha("key")[:32],
        timestamps=(SealTimestamp("FreeTSA", at + timedelta(seconds=3)),),
        url=f"https://forum.example/t/{i}",
        bundle_size=120_000 + i,
    )


def finding(i: int, **changes: object) -> DossierFinding:
    seen = T0 + timedelta(days=2 * i)
    base = DossierFinding(
        id=100 + i,
        status=FindingStatus.CONFIRMED,
        first_seen_at=seen,
        last_seen_at=seen + timedelta(days=1),
        source="forum-demo",
        bank="victime-a",
        item=f"photo {i}",
        match=DossierMatch("pdq", 12, 31, window="crop", variant=None),
        sha256=_sha(f"media {i}"),
        md5=hashlib.md5(f"media {i}".encode()).hexdigest(),
        page_url=f"https://forum{i % 2}.example/thread/{i}",
        media_url=f"https://img.example/{i}.jpg",
        post_id=f"post-{i}",
        pdq="a5" * 32,
        quality=88,
        reviewed_by="Camille",
        reviewed_at=seen + timedelta(hours=3),
        thumbnail=PICTURES[i % 2],
        captures=(capture(i, seen + timedelta(hours=1)),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def case(**changes: object) -> DossierCase:
    base = DossierCase(
        reference="cas-2026-017",
        organisation="StopFisha",
        caseworker="Camille Martin",
        opened_at=T0 - timedelta(days=3),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def dossier(
    findings: tuple[DossierFinding, ...] | None = None, language: str = "fr", **case_changes: object
) -> Dossier:
    found = (finding(0), finding(1)) if findings is None else findings
    return Dossier(case(**case_changes), found, events_from_findings(found), GENERATED, language)


def pdf_text(pdf: bytes) -> list[str]:
    """Each page's text on one line, every run of spaces (no-break ones too) as one space."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [re.sub(r"\s+", " ", page.extract_text()) for page in pages]


def all_text(pdf: bytes) -> str:
    return " ".join(pdf_text(pdf))


def embedded_images(pdf: bytes) -> list[Image.Image]:
    return [image.image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]


@pytest.fixture(scope="module")
def french() -> bytes:
    return render_dossier(dossier())


# ------------------------------------------------------------------------------ languages


def test_french_dossier_parses_and_has_every_section_with_its_accents(french: bytes) -> None:
    text = all_text(french)
    for expected in (
        "Dossier de plainte",
        "Référence du dossier cas-2026-017",
        "Synthèse",
        "Méthode : comment lire ce dossier",
        "Ce que prouve un scellé, et ce qu'il ne prouve pas",
        "annexe distincte",
        "Constat et scellé",
        "Chronologie",
        "Copie n° 100",
        "Constats scellés",
        "Annexe : scellés",
        "Vérifier sans connexion",
        "rempart verify",
        "docs/verify.md",
        "RFC 3161",
        "Ed25519",
    ):
        assert expected in text, expected


def test_english_dossier_says_the_same_in_english() -> None:
    text = all_text(render_dossier(dossier(language="en")))
    for expected in (
        "Complaint dossier",
        "Case reference cas-2026-017",
        "Summary",
        "Method: how to read this dossier",
        "What a seal proves, and what it does not",
        "not prove by itself what the server sent",
        "Timeline",
        "Copy #100",
        "Annex: sealed bundles",
    ):
        assert expected in text, expected
    assert "Synthèse" not in text


def test_summary_counts_only_confirmed_copies_and_pending_ones_go_to_a_labelled_annex() -> None:
    found = (
        finding(0),
        finding(1, status=FindingStatus.PENDING, reviewed_by=None, reviewed_at=None),
        finding(2, removed_at=T0 + timedelta(days=9)),
    )
    pages = pdf_text(render_dossier(dossier(found, language="en")))
    text = " ".join(pages)
    assert "Copies found, confirmed by the organisation 2" in text
    assert "not counted: unverified matches, in a separate annex 1" in text
    assert "Sites 1 Copies removed 1 Copies still online 1 Sealed captures 2" in text
    annex = [i for i, page in enumerate(pages) if "Separate annex: unverified matches" in page]
    assert annex and "Not confirmed." in pages[annex[0]]
    before = " ".join(pages[: annex[0]])
    assert "Copy #101" not in before and "Copy #101" in pages[annex[0]]


def test_without_pending_matches_there_is_no_annex_of_them() -> None:
    text = all_text(render_dossier(dossier(language="en")))
    assert "unverified matches" not in text and "awaiting confirmation" not in text


def test_posting_date_and_author_are_shown_and_make_the_period_covered() -> None:
    posted = datetime(2023, 5, 4, 21, 30, tzinfo=UTC)
    found = (
        finding(0, posted_at=posted, author="user123"),
        finding(1, posted_at=datetime(2024, 2, 12, 8, 0, tzinfo=UTC), place="Leaks FR"),
        finding(2),
    )
    text = all_text(render_dossier(dossier(found)))
    assert "Période couverte (dates de publication) du 04/05/2023 au 12/02/2024" in text
    assert "(date de publication inconnue pour 1 copie)" in text
    assert "Date de publication 04/05/2023 23:30:00" in text and "Publiée par user123" in text
    assert "Canal ou groupe Leaks FR" in text
    assert "inconnue (non indiquée par le site)" in text  # the third copy's date
    assert "inconnu (non indiqué par le site)" in text  # and author


def test_french_pdf_says_how_it_matched_in_words_and_leaks_no_internal_names() -> None:
    found = (
        finding(0, match=DossierMatch("pdq", 14, 31, window="grid", variant="flipy")),
        finding(1, match=DossierMatch("pdq", 20, 46, window="smooth", reference="crop_smooth")),
        finding(2, match=DossierMatch("pdq", 3, 31, window="uncaptioned", variant="original")),
        finding(3, match=DossierMatch("sha256", 0, 0)),
    )
    text = all_text(render_dossier(dossier(found)))
    for leak in ("grid", "uncaptioned", "smooth", "original", "variante", "partie de l'image"):
        assert leak not in text, leak
    assert "en miroir" in text and "recadrée" in text and "légendée" in text
    assert "14 bits sur 256 diffèrent (correspondance jusqu'à 31)" in text
    assert "fichier identique" in text


def test_the_cover_shows_the_organisations_identity_and_designation() -> None:
    text = all_text(
        render_dossier(
            dossier(
                contact="1 rue de l'Exemple, Paris · contact@asso.example",
                trusted_flagger=True,
                designation="TF-2025-04",
                designated_by="Arcom",
            )
        )
    )
    assert "Coordonnées 1 rue de l'Exemple, Paris · contact@asso.example" in text
    assert "Signaleur de confiance (DSA, art. 22) oui, désignation TF-2025-04 par Arcom" in text


def test_a_dossier_without_organisation_or_caseworker_is_refused() -> None:
    with pytest.raises(ValueError, match="organisation and the caseworker"):
        case(organisation=" ")
    with pytest.raises(ValueError, match="organisation and the caseworker"):
        case(caseworker="")


def test_every_page_has_its_number_the_case_reference_and_the_generation_time(
    french: bytes,
) -> None:
    pages = pdf_text(french)
    for number, text in enumerate(pages, start=1):
        footer = f"Réf. cas-2026-017 · établi le 01/04/2026 12:00:00 UTC+02:00 · page {number}"
        assert f"{footer} sur {len(pages)}" in text


def test_times_are_shown_in_the_dossiers_zone_with_their_offset() -> None:
    text = all_text(render_dossier(replace(dossier(language="en"), zone="UTC")))
    assert "2026-03-02 09:15:00 UTC" in text
    assert "UTC+01:00" not in text


def test_pdf_metadata_carry_the_reference_and_generation_time_not_the_victims_name() -> None:
    reader = PdfReader(io.BytesIO(render_dossier(dossier(victim_name="Jeanne Exemple"))))
    info = reader.metadata
    assert info is not None
    assert info.title == "Dossier de plainte cas-2026-017"
    assert info.creation_date == GENERATED
    assert "Jeanne" not in str(dict(info))


def test_victims_name_appears_only_when_given_and_never_in_footers() -> None:
    assert "Victime" not in pdf_text(render_dossier(dossier()))[0]
    pages = pdf_text(render_dossier(dossier(victim_name="Jeanne Exemple")))
    assert "Victime Jeanne Exemple" in pages[0]
    assert sum("Jeanne" in page for page in pages) == 1


def test_collective_complaint_says_for_how_many_victims() -> None:
    pdf = render_dossier(dossier(kind=ComplaintKind.COLLECTIVE, victims=12))
    assert "Plainte collective, pour 12 victimes" in all_text(pdf)
    pdf = render_dossier(dossier(kind=ComplaintKind.COLLECTIVE, victims=1))
    assert "Plainte collective, pour 1 victime " in all_text(pdf)


def test_cover_says_what_to_attach_in_the_right_number() -> None:
    assert "ce document et les 2 scellés énumérés en annexe" in all_text(render_dossier(dossier()))
    one = render_dossier(dossier((finding(0),)))
    assert "ce document et le scellé indiqué en annexe" in all_text(one)


def test_outline_lists_the_sections_and_every_copy(french: bytes) -> None:
    reader = PdfReader(io.BytesIO(french))

    def titles(entries: list[object]) -> list[str]:
        out: list[str] = []
        for entry in entries:
            out += titles(entry) if isinstance(entry, list) else [entry.title]  # type: ignore[attr-defined]
        return out

    found = titles(reader.outline)
    for title in ("Dossier de plainte", "Chronologie", "Copie n° 100", "Copie n° 101"):
        assert title in found


def test_the_same_dossier_gives_the_same_bytes(french: bytes) -> None:
    assert render_dossier(dossier()) == french


# ------------------------------------------------------------------------------- pictures


def test_embedded_thumbnails_are_exactly_what_blur_produced(french: bytes) -> None:
    thumbnails = [im for im in embedded_images(french) if im.size != CHART_PIXELS]
    assert len(thumbnails) == 2
    for image, picture in zip(thumbnails, PICTURES, strict=True):
        expected = np.asarray(blurred(picture, max_side=THUMBNAIL_SIDE))
        assert np.array_equal(np.asarray(image.convert("RGB")), expected)


def test_embedded_thumbnail_has_little_of_the_originals_fine_detail(french: bytes) -> None:
    def energy(image: Image.Image) -> float:
        a = np.asarray(image.convert("L"), dtype=np.float64)
        lap = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
        return float((lap**2).mean())

    thumbnail = next(im for im in embedded_images(french) if im.size != CHART_PIXELS)
    original = Image.open(io.BytesIO(PICTURES[0]))
    original = original.resize(thumbnail.size, Image.Resampling.LANCZOS)
    assert energy(thumbnail) < 0.05 * energy(original)


def test_only_the_chart_and_blurred_thumbnails_are_embedded(french: bytes) -> None:
    sizes = sorted(im.size for im in embedded_images(french))
    thumb = blurred(PICTURES[0], max_side=THUMBNAIL_SIDE).size
    assert sizes == sorted([CHART_PIXELS, thumb, thumb])


def test_unreadable_thumbnail_bytes_render_as_image_unreadable() -> None:
    found = (
        finding(0, thumbnail=b"\xff\xd8\xff garbage"),
        finding(1, thumbnail=PICTURES[1][:900]),
    )
    pdf = render_dossier(dossier(found, language="en"))
    assert all_text(pdf).count("Image unreadable") == 2
    assert [im.size for im in embedded_images(pdf)] == [CHART_PIXELS]


def test_copy_without_a_kept_picture_says_so() -> None:
    pdf = render_dossier(dossier((finding(0, thumbnail=None),)))
    assert "Aucune image conservée" in all_text(pdf)


# --------------------------------------------------------------------------------- minors


def test_minors_dossier_has_no_image_derived_from_media() -> None:
    pdf = render_dossier(dossier(minor=True))  # the findings still carry thumbnail bytes
    images = embedded_images(pdf)
    assert [im.size for im in images] == [CHART_PIXELS]  # the timeline chart, nothing else
    text = all_text(pdf)
    assert "Victime mineure" in text
    assert "Pharos" in text and "internet-signalement.gouv.fr" in text
    assert "Point de Contact" in text
    assert "Floutée" not in text and "Image illisible" not in text


def test_minors_dossier_without_events_has_no_image_at_all() -> None:
    minor = replace(dossier(minor=True), events=())
    assert embedded_images(render_dossier(minor)) == []


# ------------------------------------------------------------------------- hostile values


HOSTILE = "<font size=80>BIG</font> & <b>bold</b> &amp; <br/> ]]> \x00"


def test_hostile_text_prints_literally_and_changes_no_formatting() -> None:
    found = (
        finding(
            0,
            item=HOSTILE,
            post_id=HOSTILE,
            page_url="https://evil.example/?a=<b>&b=</para>",
            source="<img src='x'/>",
            notices=(DossierNotice(T0, "<i>abuse</i>@evil", "e&mail", HOSTILE, "<weird status>"),),
        ),
    )
    pdf = render_dossier(dossier(found, language="en", organisation="<b>Org</b> & co"))
    text = all_text(pdf)
    assert "<font size=80>BIG</font> & <b>bold</b> &amp; <br/> ]]>" in text
    assert "https://evil.example/?a=<b>&b=</para>" in text
    assert "<img src='x'/>" in text
    assert "<i>abuse</i>@evil" in text and "e&mail" in text and "<weird status>" in text
    assert "<b>Org</b> & co" in text
    streams = b"".join(page.get_contents().get_data() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert b" 80 Tf" not in streams


def test_direction_overrides_and_invisible_characters_are_shown_as_code_points() -> None:
    found = (finding(0, post_id="photo\u202egpj.exe", item="a\u200bb"),)
    text = all_text(render_dossier(dossier(found, language="en")))
    assert "photo<U+202E>gpj.exe" in text
    assert "a<U+200B>b" in text


def test_very_long_hostile_values_are_cut_and_never_break_the_layout() -> None:
    long = "W" * 5000
    worst = finding(
        0,
        page_url="https://x.example/" + long,
        media_url="https://y.example/" + long,
        post_id=long,
        source=long,
        item=long,
        bank=long,
        victim=long,
        reviewed_by=long,
        match=DossierMatch("pdq", 3, 31, window=long, variant=long),
        sha256=long,
        md5=long,
        pdq=long,
        captures=(
            replace(
                capture(0, T0),
                bundle=long,
                operator=long,
                signer=long,
                url=long,
                timestamps=tuple(SealTimestamp(long, T0) for _ in range(6)),
            ),
        ),
        notices=(DossierNotice(T0, long, long, long, long),) * 3,
    )
    pdf = render_dossier(
        dossier((worst, finding(1)), reference="R" * 100, organisation=long, caseworker=long)
    )
    text = all_text(pdf)
    assert "[…+" in text  # says how much was left out
    assert "W" * 5000 not in text.replace(" ", "")


# ----------------------------------------------------------------------- empty and missing


def test_copy_without_notices_says_no_notice_sent_yet() -> None:
    text = all_text(render_dossier(dossier(language="en")))
    assert text.count("No notice sent yet.") == 2
    text = all_text(render_dossier(dossier()))
    assert text.count("Aucune notification envoyée à ce jour.") == 2


def test_notices_render_with_their_outcome() -> None:
    notice = DossierNotice(
        sent_at=T0 + timedelta(days=1),
        recipient="abuse@host.example",
        channel="email",
        legal_basis="DSA art. 16",
        status="removed",
        status_at=T0 + timedelta(days=2),
    )
    pdf = render_dossier(dossier((finding(0, notices=(notice,)),), language="en"))
    assert "abuse@host.example email DSA art. 16 content removed" in all_text(pdf)


def test_empty_case_renders() -> None:
    empty = Dossier(case(), (), (), GENERATED, "fr")
    text = all_text(render_dossier(empty))
    assert "Aucun événement daté." in text
    assert "Aucune copie n'est enregistrée dans ce dossier." in text
    assert "Aucun scellé." in text
    assert embedded_images(render_dossier(empty)) == []


def test_copy_without_captures_says_so() -> None:
    pdf = render_dossier(dossier((finding(0, captures=()),), language="en"))
    assert "No sealed capture of this copy yet." in all_text(pdf)


def test_base_fonts_are_used_when_dejavu_is_missing(tmp_path: Path) -> None:
    pdf = render_pdf(dossier(), font_dir=tmp_path)
    text = all_text(pdf)
    assert "Synthèse" in text and "Méthode" in text


# -------------------------------------------------------------------------------- annex


def test_annex_lists_every_bundle_with_its_sha256_and_its_copies(french: bytes) -> None:
    annex = pdf_text(french)[-1]
    for i in (0, 1):
        assert f"capture-{i:04d}.wacz" in annex
        assert _sha(f"bundle {i}") in annex.replace(" ", "")
    assert "120 000 octets" in annex


def test_bundles_given_besides_the_captures_are_listed_too() -> None:
    extra = DossierBundle("custody-log.json", _sha("log"), 512)
    pdf = render_dossier(replace(dossier(language="en"), bundles=(extra,)))
    annex = pdf_text(pdf)[-1]
    assert "custody-log.json" in annex and "capture-0000.wacz" in annex


# ------------------------------------------------------------------------------ big cases


@pytest.mark.slow
def test_two_hundred_copies_render_in_reasonable_time() -> None:
    picture = web_jpeg(3, 320, 240)
    found = tuple(
        finding(
            i,
            thumbnail=picture,
            removed_at=T0 + timedelta(days=2 * i + 3) if i % 3 == 0 else None,
            notices=(DossierNotice(T0 + timedelta(days=2 * i), "abuse@h", "email", "DSA", "sent"),)
            if i % 2
            else (),
        )
        for i in range(200)
    )
    started = time.process_time()  # CPU time: processes running beside do not count
    pdf = render_dossier(dossier(found))
    elapsed = time.process_time() - started
    assert elapsed < 30, f"{elapsed:.1f} s"
    reader = PdfReader(io.BytesIO(pdf))
    outline = reader.outline
    section = [getattr(e, "title", None) for e in outline].index("Copies trouvées")
    copies = [entry.title for entry in outline[section + 1]]  # type: ignore[union-attr]
    assert copies == [f"Copie n° {100 + i}" for i in range(200)]
    sizes = {
        (int(x["/Width"]), int(x["/Height"]))
        for page in reader.pages
        for x in page["/Resources"].get("/XObject", {}).values()
    }
    assert sizes == {CHART_PIXELS, blurred(picture, max_side=THUMBNAIL_SIDE).size}


# --------------------------------------------------------------------------------- values


def test_rejected_findings_do_not_belong_in_a_dossier() -> None:
    with pytest.raises(ValueError, match="rejected"):
        finding(0, status="rejected")


def test_finding_status_is_parsed_from_its_stored_name() -> None:
    assert finding(0, status="pending").status is FindingStatus.PENDING


def test_individual_complaint_has_one_victim_and_collective_at_least_one() -> None:
    with pytest.raises(ValueError, match="individual"):
        case(victims=3)
    with pytest.raises(ValueError, match="at least one"):
        case(kind="collective", victims=0)
    assert case(kind="collective", victims=4).kind is ComplaintKind.COLLECTIVE


def test_dossier_refuses_inconsistent_values() -> None:
    one = (finding(0),)
    with pytest.raises(ValueError, match="unique"):
        Dossier(case(), (finding(0), finding(0)), (), GENERATED)
    with pytest.raises(ValueError, match="not in the dossier"):
        Dossier(case(), one, (DossierEvent(T0, EventKind.REMOVED, 999),), GENERATED)
    with pytest.raises(ValueError, match="language"):
        Dossier(case(), one, (), GENERATED, "de")
    with pytest.raises(ValueError, match="time zone"):
        Dossier(case(), one, (), GENERATED, zone="Mars/Olympus")
    clash = DossierBundle("capture-0000.wacz", _sha("something else"))
    with pytest.raises(ValueError, match="two different SHA-256"):
        Dossier(case(), one, (), GENERATED, bundles=(clash,))


def test_naive_times_are_taken_as_utc() -> None:
    naive = finding(0, first_seen_at=datetime(2026, 3, 2, 9, 15))
    assert naive.first_seen_at == T0


def test_events_from_findings_records_what_the_findings_know() -> None:
    notice = DossierNotice(T0 + timedelta(days=1), "abuse@h", "email", "DSA", "sent")
    f = finding(0, notices=(notice,), removed_at=T0 + timedelta(days=4))
    kinds = [(e.kind, e.at) for e in events_from_findings((f,))]
    assert kinds == [
        (EventKind.FIRST_SEEN, T0),
        (EventKind.CAPTURED, T0 + timedelta(hours=1)),
        (EventKind.CONFIRMED, T0 + timedelta(hours=3)),
        (EventKind.NOTICE, T0 + timedelta(days=1)),
        (EventKind.REMOVED, T0 + timedelta(days=4)),
    ]


def test_repr_never_shows_the_victims_name_or_picture_bytes() -> None:
    assert "Jeanne" not in repr(case(victim_name="Jeanne"))
    assert "\\xff" not in repr(finding(0))


def test_the_timeline_starts_at_the_posting_and_leaves_pending_matches_out() -> None:
    posted = datetime(2023, 5, 4, 21, 30, tzinfo=UTC)
    found = (
        finding(0, posted_at=posted),
        finding(1, status=FindingStatus.PENDING, reviewed_by=None, reviewed_at=None),
    )
    events = events_from_findings(found)
    assert events[0] == DossierEvent(posted, EventKind.POSTED, 100)
    assert {e.finding_id for e in events} == {100}
    text = all_text(render_dossier(dossier(found)))
    assert "Publication 1 04/05/2023" in text


# ------------------------------------------------------------------------------ provenance


def _provenance_copies() -> tuple[DossierFinding, ...]:
    return (
        finding(0, provenance="ai-declared", declared_by=("ComfyUI",)),
        finding(1, provenance="ai-suspected"),
        finding(2, provenance="no-signal"),
        finding(3, provenance="no-signal", first_seen_at=T0 + timedelta(days=40)),
        finding(4, provenance="camera", first_seen_at=T0 + timedelta(days=41)),
        finding(5, provenance=None),
        finding(6, provenance="no-signal", status=FindingStatus.PENDING),
    )


def test_dossier_counts_confirmed_copies_by_verdict_per_site_and_month() -> None:
    d = dossier(_provenance_copies())
    counts = d.provenance_counts()
    assert (counts.ai_declared, counts.ai_suspected) == (1, 1)
    assert (counts.no_signal, counts.camera) == (2, 1)
    assert (counts.not_read, counts.total) == (1, 6)  # the pending match is no copy
    assert counts.no_signal_share == 2 / 5
    assert {site: c.total for site, c in d.provenance_by_site().items()} == {
        "forum0.example": 3,
        "forum1.example": 3,
    }
    assert {month: c.total for month, c in d.provenance_by_month().items()} == {
        "2026-03": 4,
        "2026-04": 2,
    }
    assert d.provenance_by_victim() == {}


def test_french_dossier_gives_the_verdicts_the_no_signal_share_and_both_qualifications() -> None:
    text = all_text(render_dossier(dossier(_provenance_copies())))
    assert "Origine des copies : signaux d'IA" in text
    assert "Copies sans aucun signal : 40 % des copies lues (2 sur 5)" in text
    assert "Copies indiquant l'IA : 2 sur 6 (IA déclarée : 1, soupçonnée : 1)" in text
    assert "l'article 226-8-1 du Code pénal" in text
    assert "Copies sans signe d'IA connu : 4 sur 6" in text
    assert "l'article 226-2-1 du Code pénal" in text
    assert "La qualification relève du parquet et de la juridiction." in text
    assert "Par site" in text and "Par mois de première détection" in text
    assert "IA déclarée — déclarée par ComfyUI" in text  # on the copy itself
    assert "Non lue" in text


def test_english_dossier_words_the_qualification_as_a_presumption() -> None:
    text = all_text(render_dossier(dossier(_provenance_copies(), language="en")))
    assert "Copies with no signal: 40% of the copies read (2 of 5)" in text
    assert "may fall under article 226-8-1 of the Code pénal" in text
    assert "may fall under article 226-2-1 of the Code pénal" in text
    assert "elements for the investigators, not proof" in text
    assert "Origine" not in text


def test_without_any_sign_of_ai_only_226_2_1_is_suggested_and_no_signal_is_still_shown() -> None:
    plain = (finding(0, provenance="no-signal"), finding(1, provenance="no-signal"))
    text = all_text(render_dossier(dossier(plain, language="en")))
    assert "Copies with no signal: 100% of the copies read (2 of 2)" in text
    assert "226-8-1" not in text
    assert "Copies with no known sign of AI: 2 of 2" in text


def test_copies_recorded_before_provenance_are_not_read_not_no_signal() -> None:
    old = (finding(0), finding(1))
    text = all_text(render_dossier(dossier(old, language="en")))
    assert "no copy's provenance was read" in text
    assert "Not read 2" in text


def test_an_edited_copy_is_left_to_the_investigators_not_called_a_montage() -> None:
    edited = (finding(0, provenance="edited"),)
    text = all_text(render_dossier(dossier(edited, language="en")))
    assert "copies carrying an editing program's mark: 1" in text
    assert "226-2-1" in text and "is for the investigators to examine" in text


def test_collective_dossier_counts_per_victim_and_prints_names_read_from_files_literally() -> None:
    copies = (
        finding(0, provenance="ai-declared", victim="V-1", declared_by=("<b>Evil</b>",)),
        finding(1, provenance="no-signal", victim="V-2"),
    )
    d = dossier(copies, language="en", kind=ComplaintKind.COLLECTIVE, victims=2)
    assert {v: c.total for v, c in d.provenance_by_victim().items()} == {"V-1": 1, "V-2": 1}
    text = all_text(render_dossier(d))
    assert "By victim" in text
    assert "declared by <b>Evil</b>" in text
