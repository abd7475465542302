"""The evidence pages with real accounts: a case's captures, a capture's verification (the
checks of `rempart verify`), the sealed bundle's download, each logged in the custody log
with the signed-in account; other cases' evidence refused and the refusal logged."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sealed import seal
from webapp import Web, csrf_of

from findings_made import make_finding
from rempart.accounts import access_log
from rempart.accounts.policy import Role
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info, chain_of
from rempart.jobs.evidence import CaptureOutcome
from rempart.store.database import Database


@pytest.fixture
def sealed(db: Database, tmp_path: Path) -> tuple[Web, CaptureOutcome, int]:
    from webapp import make_web

    web = make_web(db, tmp_path)
    vault = Vault.open(web.settings.core.home)
    made = make_finding(web.db, vault, tmp_path, case="case-a", seed=4)
    other = make_finding(web.db, vault, tmp_path, case="case-b", seed=5)
    outcome = seal(web.db, vault, tmp_path, made.finding, case="case-a", seed=4)
    web.user("claire", Role.CASEWORKER, "case-a")
    web.user("bruno", Role.CASEWORKER, "case-b")
    return web, outcome, other.finding


def _events(web: Web, action: CustodyAction) -> list[tuple[str, str, dict[str, object]]]:
    events = chain_events(web.db, chain_of(case_info(web.db, "case-a").id))
    return [(e.actor, e.subject, dict(e.detail)) for e in events if e.action is action]


def test_a_case_lists_its_captures_with_their_seal(sealed) -> None:  # type: ignore[no-untyped-def]
    web, outcome, _ = sealed
    claire = web.client()
    web.sign_in(claire, "claire")
    for path in ("/evidence", "/cases/case-a/evidence"):
        page = claire.get(path)
        assert page.status_code == 200 and f'id="capture-{outcome.id}"' in page.text
        assert "demo" in page.text and f"/captures/{outcome.id}/bundle" in page.text
    detail = claire.get(f"/captures/{outcome.id}").text
    assert outcome.bundle_sha256 is not None and outcome.bundle_sha256 in detail


def test_verifying_shows_each_check_and_is_logged_with_the_account(sealed) -> None:  # type: ignore[no-untyped-def]
    web, outcome, _ = sealed
    claire = web.client()
    web.sign_in(claire, "claire")
    page = claire.get(f"/captures/{outcome.id}")
    checked = claire.post(f"/captures/{outcome.id}/verify", data={"csrf": csrf_of(page.text)})
    assert checked.status_code == 200
    # intact, but sealed by a key this installation does not hold: nothing it trusts vouches
    assert 'id="verdict"' in checked.text and "UNTRUSTED: intact" in checked.text
    assert "What it cannot prove" in checked.text
    assert _events(web, CustodyAction.VERIFY) == [
        ("claire", f"capture:{outcome.id}", {"bundle_sha256": outcome.bundle_sha256,
                                             "verdict": "untrusted"}),
    ]  # fmt: skip
    without = claire.post(f"/captures/{outcome.id}/verify", data={})
    assert without.status_code == 403


def test_a_download_is_the_sealed_bundle_and_is_logged_with_the_account(sealed) -> None:  # type: ignore[no-untyped-def]
    web, outcome, _ = sealed
    claire = web.client()
    web.sign_in(claire, "claire")
    answer = claire.get(f"/captures/{outcome.id}/bundle")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    assert hashlib.sha256(answer.content).hexdigest() == outcome.bundle_sha256
    assert _events(web, CustodyAction.EXPORT) == [
        ("claire", f"capture:{outcome.id}", {"bundle_sha256": outcome.bundle_sha256,
                                             "to": "download"}),
    ]  # fmt: skip


def test_another_cases_evidence_is_refused_and_logged(sealed) -> None:  # type: ignore[no-untyped-def]
    web, outcome, _ = sealed
    bruno = web.client()
    web.sign_in(bruno, "bruno")
    assert f'id="capture-{outcome.id}"' not in bruno.get("/evidence").text
    answers = [
        bruno.get("/cases/case-a/evidence"),
        bruno.get(f"/captures/{outcome.id}"),
        bruno.get(f"/captures/{outcome.id}/bundle"),
        bruno.get("/captures/99999"),
    ]
    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert _events(web, CustodyAction.EXPORT) == []
    denied = [e for e in access_log.recent(web.db, outcome="denied") if e.actor == "bruno"]
    assert len(denied) == 4


def test_the_verification_speaks_french(sealed) -> None:  # type: ignore[no-untyped-def]
    web, outcome, _ = sealed
    claire = web.client()
    web.sign_in(claire, "claire")
    claire.cookies.set("rempart_lang", "fr")
    page = claire.get(f"/captures/{outcome.id}")
    assert "Vérifier le paquet maintenant" in page.text
    checked = claire.post(f"/captures/{outcome.id}/verify", data={"csrf": csrf_of(page.text)})
    assert (
        "NON FIABLE : intact" in checked.text and "Ce qu&#39;il ne peut pas prouver" in checked.text
    )
    assert "UNTRUSTED" not in checked.text and "What it proves" not in checked.text
