"""Who sees which case, and what every response carries: security headers, no-store, no
stack trace, size and rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from webapp import Web, make_web

from rempart.accounts import access_log
from rempart.accounts.policy import Role
from rempart.intake.cases import create_case
from rempart.store.database import Database


@pytest.fixture
def two_cases(web: Web) -> Web:
    create_case(web.db, "case-a")
    create_case(web.db, "case-b", description="<script>alert(1)</script>")
    return web


def test_a_caseworker_sees_only_her_cases_and_is_refused_the_others(two_cases: Web) -> None:
    web = two_cases
    web.user("claire", Role.CASEWORKER, "case-a")
    client = web.client()
    web.sign_in(client, "claire")
    listing = client.get("/cases").text
    assert "case-a" in listing and "case-b" not in listing
    assert "case-b" not in client.get("/").text
    assert client.get("/cases/case-a").status_code == 200
    refused = client.get("/cases/case-b")
    assert refused.status_code == 403 and "<h1>403</h1>" in refused.text
    assert "<h1>case-b" not in refused.text
    # a name that does not exist is refused the same way: names cannot be probed
    assert client.get("/cases/no-such-case").status_code == 403
    denials = [e for e in access_log.recent(web.db, outcome="denied") if e.action == "case-view"]
    assert {e.subject for e in denials} == {"/cases/case-b", "/cases/no-such-case"}
    assert all(e.actor == "claire" for e in denials)


def test_an_auditor_sees_every_case_read_only_and_an_admin_gets_404_for_unknown(
    two_cases: Web,
) -> None:
    web = two_cases
    web.user("alice", Role.AUDITOR)
    client = web.client()
    web.sign_in(client, "alice")
    listing = client.get("/cases").text
    assert "case-a" in listing and "case-b" in listing
    page = client.get("/cases/case-b").text
    assert "Read only" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    web.user("ada", Role.ADMIN, totp=True)
    admin = web.client()
    web.sign_in(admin, "ada")
    from webapp import csrf_of

    admin.post(
        "/login/code",
        data={"code": web.code("ada"), "csrf": csrf_of(admin.get("/login/code").text)},
    )
    assert admin.get("/cases/no-such-case").status_code == 404


def test_pages_need_a_signed_in_account_and_each_refusal_is_logged(web: Web) -> None:
    client = web.client()
    for path in ("/", "/cases", "/cases/x"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
    refused = [e.subject for e in access_log.recent(web.db) if e.detail == "not signed in"]
    assert sorted(refused) == ["/", "/cases", "/cases/x"]


_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def _secure_headers(headers: object, *, tls: bool) -> None:
    csp = headers["content-security-policy"]  # type: ignore[index]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    for name, value in _HEADERS.items():
        assert headers[name] == value, name  # type: ignore[index]
    assert ("strict-transport-security" in headers) is tls  # type: ignore[operator]


def test_every_response_carries_the_security_headers(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    for answer in (
        client.get("/"),
        client.get("/login"),
        client.get("/no-such-page"),
        client.post("/api/v1/match", json={}),
        client.get("/api/openapi.json"),
    ):
        _secure_headers(answer.headers, tls=True)
    _secure_headers(web.client(https=False).get("/login").headers, tls=False)
    static = client.get("/static/rempart.css")
    assert static.status_code == 200 and "no-store" not in static.headers["cache-control"]


def test_pages_have_no_inline_script_or_style(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    for html in (
        client.get("/login").text,
        (web.sign_in(client, "claire"), client.get("/"))[1].text,
    ):
        assert "<script" not in html and "<style" not in html and " style=" not in html


def test_a_crash_shows_a_generic_page_without_any_trace(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rempart.intake.cases

    def broken(db: Database) -> list[object]:
        raise RuntimeError("secret internals /srv/rempart/db.py line 42")

    monkeypatch.setattr(rempart.intake.cases, "list_cases", broken)
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    client.raise_server_exceptions = False
    web.sign_in(client, "claire")
    answer = client.get("/cases")
    assert answer.status_code == 500
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
    _secure_headers(answer.headers, tls=True)


def test_a_body_over_the_size_limit_is_refused(db: Database, tmp_path: Path) -> None:
    web = make_web(db, tmp_path, max_body=2048)
    client = web.client()
    big = {"inputs": [{"pdq": "0" * 64, "id": "x" * 100}] * 40}
    answer = client.post("/api/v1/match", json=big)
    assert answer.status_code == 413 and answer.json()["message"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"x" * 1024

    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = client.post("/login", content=chunks(), headers=form)
    assert answer.status_code == 413


def test_a_client_over_its_rate_is_refused_with_retry_after(db: Database, tmp_path: Path) -> None:
    web = make_web(db, tmp_path, rate=0.0001, burst=3)  # no refill while the test runs
    client = web.client()
    answers = [client.get("/login").status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    assert int(client.get("/login").headers["retry-after"]) >= 1


def test_the_health_check_answers_without_sign_in_and_tells_nothing(web: Web) -> None:
    answer = web.client().get("/healthz")
    assert answer.status_code == 200 and answer.text == "ok"
    assert "set-cookie" not in answer.headers  # no session, no sign-in form's token
    assert access_log.recent(web.db) == []  # a load balancer's probes fill no log
