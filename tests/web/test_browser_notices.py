"""End to end in Debian's Chromium against a real server on 127.0.0.1: a caseworker signs in,
reads a drafted notice, approves it and sends it to the loopback SMTP server; the message
arrives, and the custody log names her account. The pages run with their CSP: no script is
needed and none is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from notices_made import RecordingSmtp, drafted, notices_web
from served import chromium_page, served
from webapp import PASSWORD

from rempart.accounts.policy import Role
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import chain_events
from rempart.intake.cases import case_info, chain_of
from rempart.store.database import Database
from rempart.takedown.drafting import notice


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[RecordingSmtp]:
    server = RecordingSmtp(tmp_path / "smtp")
    yield server
    server.close()


@pytest.mark.browser
def test_a_caseworker_approves_and_sends_a_notice_in_the_browser(
    sqlite_db: Database, tmp_path: Path, smtp: RecordingSmtp
) -> None:
    web = notices_web(sqlite_db, tmp_path, smtp.url)
    ids = drafted(web, tmp_path)
    web.user("claire", Role.CASEWORKER, "case-a")
    refused: list[str] = []
    with served(web) as url, chromium_page() as page:
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        page.goto(url + "/login")  # type: ignore[attr-defined]
        page.fill("#name", "claire")  # type: ignore[attr-defined]
        page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_selector("text=Dashboard")  # type: ignore[attr-defined]
        page.click("nav >> text=Notices")  # type: ignore[attr-defined]
        page.click(f"a[href='/notices/{ids['dsa']}']")  # type: ignore[attr-defined]
        page.wait_for_selector("text=abuse@forum.example")  # type: ignore[attr-defined]
        assert smtp.messages() == []
        page.click("#approve")  # type: ignore[attr-defined]
        page.wait_for_selector("text=Notice approved")  # type: ignore[attr-defined]
        assert page.inner_text("#status") == "approved"  # type: ignore[attr-defined]
        page.click("#send")  # type: ignore[attr-defined]
        page.wait_for_selector("text=Notice sent.")  # type: ignore[attr-defined]
        assert page.inner_text("#status") == "sent"  # type: ignore[attr-defined]
        page.click("text=Français")  # type: ignore[attr-defined]
        page.wait_for_selector("text=Historique")  # type: ignore[attr-defined]
        assert page.inner_text("#status") == "envoyée"  # type: ignore[attr-defined]
        page.click("text=Se déconnecter")  # type: ignore[attr-defined]
        page.wait_for_selector("#password")  # type: ignore[attr-defined]
        page.goto(f"{url}/notices/{ids['dsa']}")  # type: ignore[attr-defined]
        assert page.url == f"{url}/login"  # type: ignore[attr-defined]
    (message,) = smtp.messages()
    assert message["To"] == "abuse@forum.example"
    assert notice(web.db, ids["dsa"]).approved_by == "claire"
    events = chain_events(web.db, chain_of(case_info(web.db, "case-a").id))
    acted = {(e.action, e.actor) for e in events}
    assert {
        (CustodyAction.NOTICE_APPROVE, "claire"),
        (CustodyAction.NOTICE_SEND, "claire"),
    } <= acted
    assert not [text for text in refused if "Content Security Policy" in text]
