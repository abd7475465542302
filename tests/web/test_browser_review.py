"""End to end in a real browser: Debian's Chromium, driven by Playwright, against `rempart
serve` running on 127.0.0.1 in its own process. A caseworker signs in, takes the next match
from the shared queue (another reviewer no longer sees it offered), looks at it blurred, in
greyscale, zooms, reveals it after confirming (each look recorded with her account), confirms
it; she is refused a case she is not assigned and a form with a forged CSRF token; she signs
out; the pages speak French and English.

With REMPART_SCREENSHOTS=FOLDER set, the pages are also photographed into FOLDER (the
screenshots of docs/web.md: `REMPART_SCREENSHOTS=docs/img pytest tests/web/test_browser_review.py`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from altered import as_altered_pdq_match
from sealed import seal
from webapp import PASSWORD

from findings_made import make_finding
from rempart.accounts import users
from rempart.accounts.policy import Role
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import chain_events
from rempart.evidence.vault import Vault
from rempart.intake.cases import case_info, chain_of
from rempart.jobs import review
from rempart.store.database import Database

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("REMPART_SCREENSHOTS", "")


@dataclass
class Served:
    url: str
    db: Database
    findings: dict[str, int]
    capture: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(process: subprocess.Popen[bytes], url: str) -> None:
    """Poll the health check until the server answers (or stops): progress, not a guess."""
    deadline = time.monotonic() + 120  # a bound on a broken start, never a wait for one
    while True:
        assert process.poll() is None, "rempart serve stopped before it answered"
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "rempart serve never answered"
        time.sleep(0.05)  # between polls of a condition, not a guessed duration


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("served")
    home = folder / "home"
    url_db = f"sqlite:///{folder / 'rempart.db'}"
    db = Database.open(url_db)
    vault = Vault.open(home, env={})
    findings = {
        "a1": make_finding(db, vault, folder, case="case-a", seed=1).finding,
        "a2": make_finding(db, vault, folder, case="case-a", seed=2).finding,
        "a3": make_finding(db, vault, folder, case="case-a", seed=6).finding,
        "b1": make_finding(db, vault, folder, case="case-b", seed=3).finding,
    }
    capture = seal(db, vault, folder, findings["a3"], case="case-a", seed=6).id
    as_altered_pdq_match(db, findings["a1"])
    for name, role in (("claire", Role.CASEWORKER), ("bruno", Role.REVIEWER)):
        users.add_user(db, name, role, cases=("case-a",), password=PASSWORD, actor="test")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMPART_") or k == "PYTHONPATH"}
    env.update(
        REMPART_HOME=str(home),
        REMPART_DATABASE_URL=url_db,
        REMPART_LANG="en",
        REMPART_WEB_RATE="0",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "rempart", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, url)
        yield Served(url, db, findings, capture)
    finally:
        process.terminate()
        process.wait(timeout=60)
        db.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian's chromium package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-proxy-server"]
        )
        yield browser
        browser.close()


def _page(chromium, served: Served, locale: str = "en-GB"):  # type: ignore[no-untyped-def]
    context = chromium.new_context(base_url=served.url, locale=locale)
    return context.new_page()


def _sign_in(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"web-{name}.png"), full_page=True)


def _looks(served: Served) -> list[tuple[str, bool]]:
    events = chain_events(served.db, chain_of(case_info(served.db, "case-a").id))
    return [
        (e.actor, bool(e.detail["clear"])) for e in events if e.action is CustodyAction.REVIEW_LOOK
    ]


def test_review_blurred_then_revealed_then_confirmed_with_the_account(
    chromium, served: Served
) -> None:  # type: ignore[no-untyped-def]
    page = _page(chromium, served)
    if SHOTS:
        page.goto("/login")
        _shot(page, "login")
    _sign_in(page, "claire")
    page.click("nav >> text=Review")
    page.wait_for_url("**/review")
    _shot(page, "review-queue")
    page.click("#review-next")
    first = served.findings["a1"]
    page.wait_for_url(f"**/findings/{first}")
    # another reviewer is no longer offered it
    other = _page(chromium, served)
    _sign_in(other, "bruno")
    other.goto("/review")
    assert "being reviewed by claire" in other.inner_text(f"#finding-{first}")
    other.context.close()
    # blurred, small, in greyscale, until she asks
    copy = page.locator("#copy")
    assert "blurred" in (copy.get_attribute("class") or "")
    assert "clear=" not in (copy.get_attribute("src") or "")
    page.wait_for_function("() => { const i = document.getElementById('copy');"
                           " return i.complete && i.naturalWidth > 0; }")  # fmt: skip
    assert page.evaluate("document.getElementById('copy').naturalWidth") <= 256
    assert "grayscale" in page.evaluate("getComputedStyle(document.getElementById('copy')).filter")
    _shot(page, "finding-blurred")
    page.click("button[data-action=colour]")
    assert page.evaluate("getComputedStyle(document.getElementById('copy')).filter") == "none"
    page.click("button[data-action=zoom-in]")
    assert "z2" in (copy.get_attribute("class") or "")
    page.click("button[data-action=fit]")
    # the reveal asks first: without the box ticked, the form cannot be sent
    assert page.evaluate("document.querySelector('form.reveal').checkValidity()") is False
    page.check("input[name=confirm]")
    page.click("#reveal")
    page.wait_for_url("**shown=*")
    assert "clear=" in (page.locator("#copy").get_attribute("src") or "")
    page.wait_for_function("document.getElementById('copy').naturalWidth === 320")
    assert _looks(served)[-2:] == [("claire", False), ("claire", True)]
    page.fill("#confirm-note", "same landscape")
    page.click("#confirm")
    page.wait_for_url(f"**/review?decided={first}")
    assert f"Your decision on finding {first} is recorded" in page.inner_text("main")
    view = review.finding(served.db, first)
    assert (view.status, view.reviewed_by, view.review_note) == (
        "confirmed",
        "claire",
        "same landscape",
    )
    page.context.close()


def test_a_case_not_assigned_and_a_forged_csrf_token_are_refused(chromium, served: Served) -> None:  # type: ignore[no-untyped-def]
    page = _page(chromium, served)
    _sign_in(page, "claire")
    answer = page.goto(f"/findings/{served.findings['b1']}")
    assert answer is not None and answer.status == 403
    assert "You are not allowed to see this page" in page.inner_text("main")
    second = served.findings["a2"]
    page.goto(f"/findings/{second}")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged')")
    with page.expect_navigation() as refused:
        page.click("#claim")
    assert refused.value is not None and refused.value.status == 403
    assert review.finding(served.db, second).status == "pending"
    page.context.close()


def test_evidence_is_verified_and_downloaded_in_the_browser(chromium, served: Served) -> None:  # type: ignore[no-untyped-def]
    page = _page(chromium, served)
    _sign_in(page, "claire")
    page.click("nav >> text=Evidence")
    page.wait_for_url("**/evidence")
    _shot(page, "evidence")
    page.goto(f"/captures/{served.capture}")
    page.click("#verify")
    page.wait_for_selector("#verdict")
    assert "intact" in page.inner_text("#verdict")
    _shot(page, "verification")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename.endswith(".wacz")
    page.context.close()


def test_sign_out_and_the_pages_in_french_and_english(chromium, served: Served) -> None:  # type: ignore[no-untyped-def]
    page = _page(chromium, served, locale="fr-FR")
    page.goto("/login")
    assert "Se connecter" in page.inner_text("h1")
    _sign_in(page, "bruno")
    page.goto("/review")
    assert "Revoir la correspondance suivante" in page.inner_text("main")
    page.click("text=English")
    page.wait_for_url("**/review")
    assert "Review the next match" in page.inner_text("main")
    page.click("text=Sign out")
    page.wait_for_url("**/login")
    page.goto("/review")
    assert page.url.endswith("/login")
    page.context.close()
