"""The reports page (yearly trusted-flagger report, removal statistics, the dossier download)
and the settings page (organisation, platform registry, accounts), with real accounts: reports
over every case for those who see every case, a dossier for those who see its case, settings
for administrators only; every download logged, every refusal logged."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from notices_made import IDENTITY, drafted, notices_web
from webapp import Web, csrf_of

from rempart.accounts import access_log
from rempart.accounts.policy import Role
from rempart.accounts.users import list_users
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import chain_events
from rempart.intake.cases import case_info, chain_of
from rempart.store.database import Database
from rempart.takedown.drafting import approve, submitted


def _client(web: Web, name: str, role: Role, *cases: str, totp: bool = False) -> object:
    web.user(name, role, *cases, totp=totp)
    client = web.client()
    web.sign_in(client, name)
    if totp:
        form = client.get("/login/code")
        client.post("/login/code", data={"code": web.code(name), "csrf": csrf_of(form.text)})
    return client


def test_an_auditor_reads_and_downloads_the_yearly_report_and_removal_statistics(
    db: Database, tmp_path: Path
) -> None:
    web = notices_web(db, tmp_path)
    ids = drafted(web, tmp_path)
    approve(web.db, ids["pharos"], identity=IDENTITY, operator="x", clock=web.clock)
    submitted(web.db, ids["pharos"], reference="T-1", operator="x", clock=web.clock)
    client = _client(web, "aude", Role.AUDITOR)
    page = client.get("/reports?year=2026").text  # type: ignore[attr-defined]
    assert "Removal statistics, 2026" in page and "all platforms" in page
    answer = client.get("/reports/removals-2026.zip")  # type: ignore[attr-defined]
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert "removals-2026.csv" in names and any(n.endswith(".pdf") for n in names)
    flagger = client.get("/reports/flagger-2026.zip")  # type: ignore[attr-defined]
    assert "flagger-2026.csv" in zipfile.ZipFile(io.BytesIO(flagger.content)).namelist()
    logged = {e.subject for e in access_log.recent(web.db) if e.action == "download"}
    assert logged == {"report:removals-2026", "report:flagger-2026"}
    assert client.get("/reports?year=1066").status_code == 400  # type: ignore[attr-defined]


def test_a_caseworker_gets_her_cases_dossier_recorded_under_her_name_and_no_other(
    db: Database, tmp_path: Path
) -> None:
    web = notices_web(db, tmp_path)
    drafted(web, tmp_path, case="case-a", seed=1)
    drafted(web, tmp_path, case="case-b", seed=2)
    client = _client(web, "claire", Role.CASEWORKER, "case-a")
    page = client.get("/reports").text  # type: ignore[attr-defined]
    assert "dossier/case-a.zip" in page and "case-b" not in page
    assert "Removal statistics" not in page
    assert client.get("/reports/flagger-2026.zip").status_code == 403  # type: ignore[attr-defined]
    assert client.get("/reports/dossier/case-b.zip").status_code == 403  # type: ignore[attr-defined]
    answer = client.get("/reports/dossier/case-a.zip")  # type: ignore[attr-defined]
    assert answer.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert "dossier-case-a-en.pdf" in names and "SHA256SUMS" in names
    events = chain_events(web.db, chain_of(case_info(web.db, "case-a").id))
    export = [e for e in events if e.action is CustodyAction.EXPORT]
    assert [(e.actor, e.subject) for e in export] == [("claire", "dossier:case-a")]
    denied = {e.action for e in access_log.recent(web.db, outcome="denied")}
    assert {"report-download", "dossier-download"} <= denied


def test_an_admin_adds_an_account_whose_password_is_shown_once_then_disables_it(
    web: Web,
) -> None:
    client = _client(web, "ada", Role.ADMIN, totp=True)
    from rempart.intake.cases import create_case

    create_case(web.db, "case-a")
    page = client.get("/settings")  # type: ignore[attr-defined]
    assert page.status_code == 200 and "Platform registry" in page.text
    added = client.post(  # type: ignore[attr-defined]
        "/settings/users",
        data={"name": "nina", "role": "caseworker", "case": "case-a", "csrf": csrf_of(page.text)},
    )
    assert added.status_code == 200
    password = re.search(r'<code id="new-password">([^<]+)</code>', added.text)
    assert password is not None
    assert password.group(1) not in client.get("/settings").text  # type: ignore[attr-defined]
    nina = web.client()
    assert web.sign_in(nina, "nina", password.group(1)).status_code == 303  # type: ignore[attr-defined]
    assert "case-a" in nina.get("/cases").text
    hostile = client.post(  # type: ignore[attr-defined]
        "/settings/users",
        data={"name": "<i>x", "role": "caseworker", "csrf": csrf_of(page.text)},
    )
    assert hostile.status_code == 400 and "<i>x" not in hostile.text
    client.post(  # type: ignore[attr-defined]
        "/settings/users/nina/disable", data={"csrf": csrf_of(page.text)}
    )
    assert web.sign_in(web.client(), "nina", password.group(1)).status_code == 401  # type: ignore[attr-defined]
    assert nina.get("/", follow_redirects=False).status_code == 303


def test_settings_are_refused_to_anyone_but_an_admin_and_without_csrf(web: Web) -> None:
    client = _client(web, "aude", Role.AUDITOR)
    assert client.get("/settings").status_code == 403  # type: ignore[attr-defined]
    csrf = csrf_of(client.get("/").text)  # type: ignore[attr-defined]
    refused = client.post(  # type: ignore[attr-defined]
        "/settings/users", data={"name": "eve", "role": "admin", "csrf": csrf}
    )
    assert refused.status_code == 403
    admin = _client(web, "ada", Role.ADMIN, totp=True)
    forged = admin.post(  # type: ignore[attr-defined]
        "/settings/users", data={"name": "eve", "role": "admin", "csrf": "forged"}
    )
    assert forged.status_code == 403
    assert "eve" not in {u.name for u in list_users(web.db)}
    reasons = {e.detail for e in access_log.recent(web.db, outcome="denied")}
    assert {"admin only", "bad CSRF token"} <= reasons


def test_the_new_pages_carry_no_inline_script_or_style(db: Database, tmp_path: Path) -> None:
    web = notices_web(db, tmp_path)
    ids = drafted(web, tmp_path)
    admin = _client(web, "ada", Role.ADMIN, totp=True)
    paths = [
        "/",
        "/notices",
        "/notices?view=all",
        f"/notices/{ids['dsa']}",
        f"/notices/{ids['pharos']}",
        "/sources",
        "/scans",
        "/reports",
        "/settings",
    ]
    for path in paths:
        answer = admin.get(path)  # type: ignore[attr-defined]
        assert answer.status_code == 200, path
        html = answer.text
        assert "<script" not in html and "<style" not in html and " style=" not in html, path
        assert "unsafe-inline" not in answer.headers["content-security-policy"]
