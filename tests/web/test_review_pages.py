"""The shared review queue and a finding's page, through the pages with real accounts: who
sees which match, one reviewer at a time, decisions through jobs.review with the signed-in
account as the actor, the picture blurred until a confirmed reveal, every look logged."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from webapp import Web, csrf_of

from findings_made import make_finding
from rempart.accounts import access_log
from rempart.accounts.policy import Role
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info, chain_of
from rempart.jobs import review, review_queue


@pytest.fixture
def made(web: Web, tmp_path: Path) -> dict[str, int]:
    """Two findings of case-a (copies held in the vault), one of case-b; claire works on
    case-a, bruno too, alice audits."""
    vault = Vault.open(web.settings.core.home)
    found = {
        "a1": make_finding(web.db, vault, tmp_path, case="case-a", seed=1).finding,
        "a2": make_finding(web.db, vault, tmp_path, case="case-a", seed=2).finding,
        "b1": make_finding(web.db, vault, tmp_path, case="case-b", seed=3).finding,
    }
    web.user("claire", Role.CASEWORKER, "case-a")
    web.user("bruno", Role.REVIEWER, "case-a")
    web.user("alice", Role.AUDITOR)
    return found


def _signed_in(web: Web, name: str):  # type: ignore[no-untyped-def]
    client = web.client()
    assert web.sign_in(client, name).status_code == 303  # type: ignore[attr-defined]
    client.follow_redirects = False
    return client


def _looks(web: Web, case: str = "case-a") -> list[tuple[str, str, bool]]:
    events = chain_events(web.db, chain_of(case_info(web.db, case).id))
    return [
        (e.actor, e.subject, bool(e.detail["clear"]))
        for e in events
        if e.action is CustodyAction.REVIEW_LOOK
    ]


def test_the_queue_shows_only_the_pending_matches_of_ones_cases(
    web: Web, made: dict[str, int]
) -> None:
    page = _signed_in(web, "claire").get("/review")
    assert page.status_code == 200
    assert f'id="finding-{made["a1"]}"' in page.text and f'id="finding-{made["a2"]}"' in page.text
    assert f'id="finding-{made["b1"]}"' not in page.text
    audit = _signed_in(web, "alice").get("/review").text
    assert f'id="finding-{made["b1"]}"' in audit and "Review the next match" not in audit


def test_a_match_claimed_by_one_reviewer_is_not_offered_to_another(
    web: Web, made: dict[str, int]
) -> None:
    claire, bruno = _signed_in(web, "claire"), _signed_in(web, "bruno")
    taken = claire.post("/review/next", data={"csrf": csrf_of(claire.get("/review").text)})
    assert taken.status_code == 303 and taken.headers["location"] == f"/findings/{made['a1']}"
    queue = bruno.get("/review").text
    assert "being reviewed by claire" in queue
    offered = bruno.post("/review/next", data={"csrf": csrf_of(queue)})
    assert offered.headers["location"] == f"/findings/{made['a2']}"
    refused = bruno.post(f"/findings/{made['a1']}/claim", data={"csrf": csrf_of(queue)})
    assert refused.status_code == 409 and "being reviewed by claire" in refused.text


def test_confirming_goes_through_the_review_use_case_with_the_signed_in_account(
    web: Web, made: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "root")
    monkeypatch.setenv("REMPART_OPERATOR", "someone-else")
    claire = _signed_in(web, "claire")
    page = claire.get(f"/findings/{made['a1']}")
    claire.post(f"/findings/{made['a1']}/claim", data={"csrf": csrf_of(page.text)})
    page = claire.get(f"/findings/{made['a1']}")
    assert 'id="confirm"' in page.text
    done = claire.post(
        f"/findings/{made['a1']}/decision",
        data={"verdict": "confirm", "note": "same photo", "csrf": csrf_of(page.text)},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/review?decided={made['a1']}"
    view = review.finding(web.db, made["a1"])
    assert (view.status, view.reviewed_by, view.review_note) == (
        "confirmed",
        "claire",
        "same photo",
    )
    events = chain_events(web.db, chain_of(case_info(web.db, "case-a").id))
    decision = [e for e in events if e.action is CustodyAction.REVIEW_DECISION]
    assert [(e.actor, e.detail["verdict"]) for e in decision] == [("claire", "confirmed")]
    assert review_queue.claims(web.db, [made["a1"]], clock=web.clock) == {}


def test_a_conflicting_decision_is_refused_and_shown(web: Web, made: dict[str, int]) -> None:
    claire, bruno = _signed_in(web, "claire"), _signed_in(web, "bruno")
    page = claire.get(f"/findings/{made['a1']}")
    claire.post(f"/findings/{made['a1']}/claim", data={"csrf": csrf_of(page.text)})
    stale = bruno.get(f"/findings/{made['a1']}").text  # opened before claire decides
    claire.post(
        f"/findings/{made['a1']}/decision",
        data={"verdict": "reject", "note": "another person", "csrf": csrf_of(page.text)},
    )
    answer = bruno.post(
        f"/findings/{made['a1']}/decision", data={"verdict": "confirm", "csrf": csrf_of(stale)}
    )
    assert answer.status_code == 409
    assert "already rejected by claire" in answer.text and 'role="alert"' in answer.text
    assert review.finding(web.db, made["a1"]).status == "rejected"


def test_rejecting_without_a_reason_is_refused_with_the_use_cases_message(
    web: Web, made: dict[str, int]
) -> None:
    claire = _signed_in(web, "claire")
    page = claire.get(f"/findings/{made['a2']}")
    claire.post(f"/findings/{made['a2']}/claim", data={"csrf": csrf_of(page.text)})
    answer = claire.post(
        f"/findings/{made['a2']}/decision",
        data={"verdict": "reject", "note": " ", "csrf": csrf_of(page.text)},
    )
    assert answer.status_code == 400 and "a reason is required" in answer.text
    answer = claire.post(
        f"/findings/{made['a2']}/decision",
        data={"verdict": "maybe", "csrf": csrf_of(page.text)},
    )
    assert answer.status_code == 400 and "choose confirm or reject" in answer.text
    assert review.finding(web.db, made["a2"]).status == "pending"


def test_the_picture_is_blurred_until_a_confirmed_reveal_and_every_look_is_logged(
    web: Web, made: dict[str, int]
) -> None:
    claire = _signed_in(web, "claire")
    page = claire.get(f"/findings/{made['a1']}")
    assert f'src="/findings/{made["a1"]}/media"' in page.text and "?clear=" not in page.text
    blurred = claire.get(f"/findings/{made['a1']}/media")
    assert blurred.status_code == 200 and blurred.headers["content-type"] == "image/png"
    assert blurred.headers["cache-control"] == "no-store"
    assert max(Image.open(io.BytesIO(blurred.content)).size) <= 256
    # a reveal without the confirmation box is refused; a forged grant too
    unconfirmed = claire.post(f"/findings/{made['a1']}/reveal", data={"csrf": csrf_of(page.text)})
    assert unconfirmed.status_code == 400 and "?clear=" not in unconfirmed.text
    assert claire.get(f"/findings/{made['a1']}/media?clear=9999999999.00").status_code == 403
    shown = claire.post(
        f"/findings/{made['a1']}/reveal",
        data={"csrf": csrf_of(page.text), "confirm": "yes"},
        follow_redirects=True,
    )
    found = shown.text.split(f'src="/findings/{made["a1"]}/media?clear=', 1)
    assert len(found) == 2, "the revealed page shows the copy"
    clear = claire.get(f"/findings/{made['a1']}/media?clear=" + found[1].split('"', 1)[0])
    assert clear.status_code == 200 and clear.headers["cache-control"] == "no-store"
    assert Image.open(io.BytesIO(clear.content)).size == (320, 240)
    assert _looks(web) == [
        ("claire", f"finding:{made['a1']}", False),
        ("claire", f"finding:{made['a1']}", True),
    ]
    # the grant is the session's: another account cannot use it
    bruno = _signed_in(web, "bruno")
    stolen = bruno.get(f"/findings/{made['a1']}/media?clear=" + found[1].split('"', 1)[0])
    assert stolen.status_code == 403


def test_another_cases_finding_and_its_picture_are_refused_and_logged(
    web: Web, made: dict[str, int]
) -> None:
    claire = _signed_in(web, "claire")
    csrf = csrf_of(claire.get("/review").text)
    answers = [
        claire.get(f"/findings/{made['b1']}"),
        claire.get(f"/findings/{made['b1']}/media"),
        claire.get("/findings/999999"),
        claire.post(f"/findings/{made['b1']}/claim", data={"csrf": csrf}),
        claire.post(f"/findings/{made['b1']}/decision", data={"verdict": "confirm", "csrf": csrf}),
    ]
    assert [a.status_code for a in answers] == [403] * 5
    assert review.finding(web.db, made["b1"]).status == "pending"
    assert _looks(web, "case-b") == []
    denied = [e for e in access_log.recent(web.db, outcome="denied") if e.actor == "claire"]
    assert len(denied) == 5 and all(e.detail == "case not assigned" for e in denied)


def test_an_auditor_reads_but_cannot_claim_or_decide(web: Web, made: dict[str, int]) -> None:
    alice = _signed_in(web, "alice")
    page = alice.get(f"/findings/{made['a1']}")
    assert page.status_code == 200 and "Read only" in page.text and 'id="confirm"' not in page.text
    csrf = csrf_of(page.text)
    assert alice.post(f"/findings/{made['a1']}/claim", data={"csrf": csrf}).status_code == 403
    decided = alice.post(
        f"/findings/{made['a1']}/decision", data={"verdict": "confirm", "csrf": csrf}
    )
    assert decided.status_code == 403
    assert review.finding(web.db, made["a1"]).status == "pending"
    denied = [e.detail for e in access_log.recent(web.db, outcome="denied") if e.actor == "alice"]
    assert denied == ["read-only role", "read-only role"]  # the two POSTs; reading is no denial


def test_a_post_without_the_sessions_csrf_token_is_refused(web: Web, made: dict[str, int]) -> None:
    claire = _signed_in(web, "claire")
    for path, data in (
        (f"/findings/{made['a1']}/claim", {}),
        (f"/findings/{made['a1']}/decision", {"verdict": "confirm", "csrf": "forged"}),
        (f"/findings/{made['a1']}/reveal", {"confirm": "yes"}),
        ("/review/next", {"csrf": "x"}),
    ):
        assert claire.post(path, data=data).status_code == 403, path
    assert review.finding(web.db, made["a1"]).status == "pending"
    assert review_queue.claims(web.db, [made["a1"]], clock=web.clock) == {}


def test_a_reminder_to_pause_after_a_long_stretch_of_reviewing(
    web: Web, made: dict[str, int]
) -> None:
    claire = _signed_in(web, "claire")
    assert "without a break" not in claire.get("/review").text
    for _ in range(6):
        assert claire.get(f"/findings/{made['a1']}/media").status_code == 200
        web.clock.advance(minutes=9)
    page = claire.get("/review").text
    assert "You have been reviewing for 54 minutes without a break" in page


def test_the_pages_speak_french(web: Web, made: dict[str, int]) -> None:
    claire = _signed_in(web, "claire")
    claire.cookies.set("rempart_lang", "fr")
    assert "Revoir la correspondance suivante" in claire.get("/review").text
    page = claire.get(f"/findings/{made['a1']}").text
    assert "Comment la correspondance a été établie" in page and "How the match" not in page


def test_a_video_is_not_shown_blurred_and_never_plays_by_itself(
    web: Web, made: dict[str, int]
) -> None:
    from rempart.evidence.held import held_name
    from rempart.store.models import Finding, Sighting

    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
    with web.db.session() as session:
        finding = session.get(Finding, made["a2"])
        assert finding is not None
        sighting = session.get(Sighting, finding.sighting_id)
        assert sighting is not None
        sighting.media = "video"
        Vault.open(web.settings.core.home).put(held_name(sighting.sha256), video)
    claire = _signed_in(web, "claire")
    page = claire.get(f"/findings/{made['a2']}").text
    assert "<video" not in page and "never plays by itself" in page
    assert claire.get(f"/findings/{made['a2']}/media").status_code == 404
    shown = claire.post(
        f"/findings/{made['a2']}/reveal",
        data={"csrf": csrf_of(page), "confirm": "yes"},
        follow_redirects=True,
    ).text
    tag = shown.split("<video", 1)[1].split(">", 1)[0]
    assert "controls" in tag and 'preload="none"' in tag and "autoplay" not in tag
    src = tag.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    played = claire.get(src)
    assert played.status_code == 200 and played.headers["content-type"] == "video/mp4"
    assert played.content == video and played.headers["cache-control"] == "no-store"
    assert _looks(web) == [("claire", f"finding:{made['a2']}", True)]


def test_hostile_text_from_a_page_is_escaped_and_pages_carry_no_inline_code(
    web: Web, made: dict[str, int]
) -> None:
    import re

    from rempart.store.models import Finding, Sighting

    hostile = 'https://x.example/"><script>alert(1)</script><img src=x onerror=alert(2)>'
    with web.db.session() as session:
        finding = session.get(Finding, made["a1"])
        assert finding is not None
        sighting = session.get(Sighting, finding.sighting_id)
        assert sighting is not None
        sighting.page_url = hostile
    claire = _signed_in(web, "claire")
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|<[^>]*\s(?:style|on[a-z]+)=")
    for path in ("/review", f"/findings/{made['a1']}", "/evidence", "/cases/case-a/evidence"):
        html = claire.get(path).text
        assert "<script>alert(1)" not in html and not inline.search(html), path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in claire.get("/review").text


def test_the_page_says_in_words_how_an_altered_copy_matched(web: Web, made: dict[str, int]) -> None:
    from altered import as_altered_pdq_match

    as_altered_pdq_match(web.db, made["a1"])
    claire = _signed_in(web, "claire")
    page = claire.get(f"/findings/{made['a1']}").text
    assert "the picture&#39;s PDQ perceptual hash" in page
    assert "borders or black bars removed, mirrored" in page
    assert "14 bits of 256 differ (a match is 31 or fewer)" in page
    assert "by local features: 52 points of the picture agree" in page
    claire.cookies.set("rempart_lang", "fr")
    page = claire.get(f"/findings/{made['a1']}").text
    assert "14 bits sur 256" in page and "How the match" not in page


def test_a_number_that_cannot_be_a_finding_is_a_clear_refusal_not_a_crash(
    web: Web, made: dict[str, int]
) -> None:
    claire = _signed_in(web, "claire")
    claire.raise_server_exceptions = False  # type: ignore[attr-defined]
    for path in (
        "/findings/99999999999999999999",
        "/findings/0/media",
        "/findings/abc",
        "/captures/-1",
        "/captures/4294967296/bundle",
    ):
        answer = claire.get(path)
        assert answer.status_code == 400, path
        assert "Traceback" not in answer.text


def test_a_reviewer_who_lets_go_of_a_match_offers_it_to_the_others(
    web: Web, made: dict[str, int]
) -> None:
    claire, bruno = _signed_in(web, "claire"), _signed_in(web, "bruno")
    a1 = made["a1"]
    claire.post("/review/next", data={"csrf": csrf_of(claire.get("/review").text)})
    page = claire.get(f"/findings/{a1}").text
    assert f'action="/findings/{a1}/release"' in page
    # bruno cannot let go of claire's claim for her
    queue = bruno.get("/review").text
    assert bruno.post(f"/findings/{a1}/release", data={"csrf": csrf_of(queue)}).status_code == 303
    assert review_queue.claims(web.db, [a1], clock=web.clock)[a1].holder == "claire"
    let_go = claire.post(f"/findings/{a1}/release", data={"csrf": csrf_of(page)})
    assert let_go.status_code == 303 and let_go.headers["location"] == "/review"
    assert review_queue.claims(web.db, [a1], clock=web.clock) == {}
    offered = bruno.post("/review/next", data={"csrf": csrf_of(bruno.get("/review").text)})
    assert offered.headers["location"] == f"/findings/{a1}"
    forged = claire.post(f"/findings/{a1}/release", data={"csrf": "forged"})
    assert forged.status_code == 403
    alice = _signed_in(web, "alice")  # an auditor reads only
    refused = alice.post(
        f"/findings/{a1}/release", data={"csrf": csrf_of(alice.get("/review").text)}
    )
    assert refused.status_code == 403
    assert review_queue.claims(web.db, [a1], clock=web.clock)[a1].holder == "bruno"
