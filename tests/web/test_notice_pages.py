"""The notice pages with real accounts: a person reads and approves each notice before it
leaves; approval and sending are recorded under her account; nobody acts on a case she is not
assigned; auditors read only; every form needs its CSRF token; outside text is escaped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from notices_made import RecordingSmtp, drafted, notices_web
from webapp import Web, csrf_of

from rempart.accounts import access_log
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


@pytest.fixture
def web(db: Database, tmp_path: Path, smtp: RecordingSmtp) -> Web:
    return notices_web(db, tmp_path, smtp.url)


def _signed_in(web: Web, name: str, role: Role, *cases: str) -> object:
    web.user(name, role, *cases)
    client = web.client()
    web.sign_in(client, name)
    return client


def _post(client: object, path: str, **data: str) -> object:
    page = client.get("/notices")  # type: ignore[attr-defined]
    return client.post(path, data={"csrf": csrf_of(page.text), **data}, follow_redirects=False)  # type: ignore[attr-defined]


def _custody(web: Web, case: str) -> list[tuple[str, str]]:
    chain = chain_of(case_info(web.db, case).id)
    return [(e.action.value, e.actor) for e in chain_events(web.db, chain)]


def test_a_caseworker_reads_approves_and_sends_a_notice_under_her_own_name(
    web: Web, tmp_path: Path, smtp: RecordingSmtp
) -> None:
    ids = drafted(web, tmp_path)
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    drafts = client.get("/notices").text  # type: ignore[attr-defined]
    assert f'href="/notices/{ids["dsa"]}"' in drafts and "Demo Forum" in drafts
    page = client.get(f"/notices/{ids['dsa']}").text  # type: ignore[attr-defined]
    assert "16(2)(a)" in page and "PASS" in page and "abuse@forum.example" in page
    assert "https://forum.example/case-a/1.jpg" in page
    assert smtp.messages() == []  # nothing leaves before approval
    assert _post(client, f"/notices/{ids['dsa']}/send").status_code == 400  # type: ignore[attr-defined]
    assert smtp.messages() == []

    approved = _post(client, f"/notices/{ids['dsa']}/approve")
    assert approved.status_code == 303  # type: ignore[attr-defined]
    view = notice(web.db, ids["dsa"])
    assert view.status == "approved" and view.approved_by == "claire"
    assert (CustodyAction.NOTICE_APPROVE.value, "claire") in _custody(web, "case-a")

    sent = _post(client, f"/notices/{ids['dsa']}/send")
    assert sent.status_code == 303  # type: ignore[attr-defined]
    (message,) = smtp.messages()
    assert message["To"] == "abuse@forum.example"
    assert "claire" in message.get_payload(decode=True).decode()  # signed by who approved it
    view = notice(web.db, ids["dsa"])
    assert view.status == "sent" and view.history[-1].actor == "claire"
    assert (CustodyAction.NOTICE_SEND.value, "claire") in _custody(web, "case-a")
    assert all(actor != "server-user" for _action, actor in _custody(web, "case-a"))
    # sending twice sends nothing more
    _post(client, f"/notices/{ids['dsa']}/send")
    assert len(smtp.messages()) == 1


def test_a_web_form_notice_gets_its_ticket_then_an_answer_and_falls_overdue(
    web: Web, tmp_path: Path
) -> None:
    ids = drafted(web, tmp_path)
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    dsa = ids["dsa"]
    _post(client, f"/notices/{dsa}/approve")
    _post(client, f"/notices/{dsa}/send")
    assert notice(web.db, dsa).due_at is not None
    web.clock.advance(days=4)  # past the 72 hours
    web.sign_in(client, "claire")  # type: ignore[arg-type]
    overdue = client.get("/notices?view=overdue").text  # type: ignore[attr-defined]
    assert f'href="/notices/{dsa}"' in overdue and "overdue" in overdue
    hostile = '<script>alert("x")</script>'
    answered = _post(client, f"/notices/{dsa}/reply", status="removed", note=hostile)
    assert answered.status_code == 303  # type: ignore[attr-defined]
    page = client.get(f"/notices/{dsa}").text  # type: ignore[attr-defined]
    assert hostile not in page and "&lt;script&gt;" in page
    assert notice(web.db, dsa).status == "removed"
    bad = _post(client, f"/notices/{dsa}/reply", status="deleted-by-magic")
    assert bad.status_code == 400  # type: ignore[attr-defined]

    pharos = ids["pharos"]
    page = client.get(f"/notices/{pharos}").text  # type: ignore[attr-defined]
    assert "For the web form" in page
    _post(client, f"/notices/{pharos}/approve")
    done = _post(client, f"/notices/{pharos}/submitted", reference="PH-2026-0042")
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert notice(web.db, pharos).reference == "PH-2026-0042"


def test_a_case_not_assigned_is_refused_on_every_notice_route_and_logged(
    web: Web, tmp_path: Path
) -> None:
    ids = drafted(web, tmp_path)
    client = _signed_in(web, "bob", Role.CASEWORKER)  # no case
    assert f'href="/notices/{ids["dsa"]}"' not in client.get("/notices?view=all").text  # type: ignore[attr-defined]
    for path in (f"/notices/{ids['dsa']}", "/notices/999999", "/notices?case=case-a"):
        assert client.get(path).status_code == 403, path  # type: ignore[attr-defined]
    for action in ("approve", "send", "resend", "submitted", "reply"):
        assert _post(client, f"/notices/{ids['dsa']}/{action}").status_code == 403  # type: ignore[attr-defined]
    assert _post(client, "/notices/escalate", case="case-a").status_code == 403  # type: ignore[attr-defined]
    assert notice(web.db, ids["dsa"]).status == "drafted"
    denied = [e for e in access_log.recent(web.db, outcome="denied") if e.actor == "bob"]
    assert len(denied) >= 9 and {e.detail for e in denied} == {"case not assigned"}


def test_an_auditor_reads_every_notice_and_acts_on_none(web: Web, tmp_path: Path) -> None:
    ids = drafted(web, tmp_path)
    client = _signed_in(web, "aude", Role.AUDITOR)
    page = client.get(f"/notices/{ids['dsa']}")  # type: ignore[attr-defined]
    assert page.status_code == 200 and 'action="/notices/' not in page.text
    assert _post(client, f"/notices/{ids['dsa']}/approve").status_code == 403  # type: ignore[attr-defined]
    assert _post(client, "/notices/plan").status_code == 403  # type: ignore[attr-defined]
    assert client.get("/notices?case=no-such-case").status_code == 404  # type: ignore[attr-defined]
    assert notice(web.db, ids["dsa"]).status == "drafted"
    reasons = {e.detail for e in access_log.recent(web.db, outcome="denied") if e.actor == "aude"}
    assert reasons == {"read only"}


def test_every_notice_form_is_refused_without_its_csrf_token(web: Web, tmp_path: Path) -> None:
    ids = drafted(web, tmp_path)
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    for path in (f"/notices/{ids['dsa']}/approve", "/notices/plan", "/notices/escalate"):
        for data in ({}, {"csrf": "forged"}):
            answer = client.post(path, data=data, follow_redirects=False)  # type: ignore[attr-defined]
            assert answer.status_code == 403, (path, data)
    assert notice(web.db, ids["dsa"]).status == "drafted"
    assert any(e.detail == "bad CSRF token" for e in access_log.recent(web.db, outcome="denied"))


def test_a_notice_missing_what_the_law_requires_cannot_be_approved(
    db: Database, tmp_path: Path
) -> None:
    from webapp import make_web

    ids = drafted(notices_web(db, tmp_path), tmp_path)
    web = make_web(db, tmp_path)  # no organisation set
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    refused = _post(client, f"/notices/{ids['dsa']}/approve")
    assert refused.status_code == 400 and "organisation.name" in refused.text  # type: ignore[attr-defined]
    assert notice(db, ids["dsa"]).status == "drafted"


def test_notice_pages_speak_french(web: Web, tmp_path: Path) -> None:
    ids = drafted(web, tmp_path)
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    client.get("/lang/fr")  # type: ignore[attr-defined]
    listing = client.get("/notices").text  # type: ignore[attr-defined]
    assert "Avis" in listing or "Notifications" in listing
    page = client.get(f"/notices/{ids['dsa']}").text  # type: ignore[attr-defined]
    assert "Approuver cette notification" in page


def test_a_lapsed_deadline_with_the_copy_still_online_is_escalated_to_a_new_draft(
    web: Web, tmp_path: Path
) -> None:
    from datetime import timedelta

    from rempart.store.models import RecheckSchedule
    from rempart.takedown.drafting import list_notices

    ids = drafted(web, tmp_path)
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    _post(client, f"/notices/{ids['dsa']}/approve")
    _post(client, f"/notices/{ids['dsa']}/send")
    sent = notice(web.db, ids["dsa"])
    with web.db.session() as session:
        for copy in sent.copies:
            session.add(
                RecheckSchedule(
                    finding_id=copy.finding,
                    status="online",
                    last_checked_at=web.clock() + timedelta(days=4),
                    next_check_at=web.clock() + timedelta(days=5),
                    interval_s=86400,
                    last_online_at=web.clock() + timedelta(days=4),
                )
            )
    before = {n.id for n in list_notices(web.db)}
    web.clock.advance(days=4, hours=1)
    web.sign_in(client, "claire")  # type: ignore[arg-type]
    answer = _post(client, "/notices/escalate", case="case-a")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert "done=escalated" in answer.headers["location"]  # type: ignore[attr-defined]
    (new,) = [n for n in list_notices(web.db) if n.id not in before]
    assert new.status == "drafted" and new.created_at == web.clock()
    listing = client.get("/notices").text  # type: ignore[attr-defined]
    assert f'href="/notices/{new.id}"' in listing
    page = client.get(f"/notices/{new.id}").text  # type: ignore[attr-defined]
    assert f'href="/notices/{ids["dsa"]}"' in page  # it escalates the lapsed notice


def test_drafting_from_the_page_plans_the_confirmed_copies_of_her_case(
    web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notices_made import PLATFORM, NoLookups

    from findings_made import make_finding
    from rempart.jobs.review import decide
    from rempart.store.models import FindingStatus
    from rempart.takedown.drafting import list_notices
    from rempart.web import notice_pages

    monkeypatch.setattr(notice_pages, "lookups_for", lambda svc: NoLookups())
    home = web.settings.core.home
    home.mkdir(parents=True, exist_ok=True)
    (home / "platforms.toml").write_text(PLATFORM, encoding="utf-8")
    made = make_finding(web.db, None, tmp_path, case="case-a")
    decide(web.db, made.finding, FindingStatus.CONFIRMED, actor="reviewer")
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    answer = _post(client, "/notices/plan", case="case-a")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert "done=planned" in answer.headers["location"]  # type: ignore[attr-defined]
    drafts = list_notices(web.db, case="case-a", status="drafted")
    assert any(n.recipient_address == "abuse@forum.example" for n in drafts)
    assert {h.actor for n in drafts for h in n.history} == {"claire"}
    again = _post(client, "/notices/plan", case="case-a")
    assert "done=nothing-planned" in again.headers["location"]  # type: ignore[attr-defined]


class _BrokenConnection:
    """A mail server that drops the line after the message was handed over."""

    def send(self, message: bytes, *, sender: str, recipients: object, before_data) -> str:  # type: ignore[no-untyped-def]
        from rempart.takedown.smtp import UncertainDelivery

        before_data()
        raise UncertainDelivery("the connection broke")


def test_an_uncertain_notice_is_queued_again_at_her_word_and_sent_with_the_same_message_id(
    web: Web, tmp_path: Path, smtp: RecordingSmtp
) -> None:
    from notices_made import IDENTITY

    from rempart.takedown.sending import send_notices

    ids = drafted(web, tmp_path)
    client = _signed_in(web, "claire", Role.CASEWORKER, "case-a")
    dsa = ids["dsa"]
    _post(client, f"/notices/{dsa}/approve")
    (outcome,) = send_notices(
        web.db,
        _BrokenConnection(),
        ids=[dsa],
        identity=IDENTITY,
        sender="n@asso.example",
        actor="claire",
        clock=web.clock,
    )
    assert outcome.status == "uncertain"
    first_id = notice(web.db, dsa).message_id
    page = client.get(f"/notices/{dsa}").text  # type: ignore[attr-defined]
    assert f'action="/notices/{dsa}/resend"' in page

    again = _post(client, f"/notices/{dsa}/resend")
    assert again.status_code == 303  # type: ignore[attr-defined]
    view = notice(web.db, dsa)
    assert view.status == "approved" and view.history[-1].actor == "claire"
    assert f'action="/notices/{dsa}/resend"' not in client.get(f"/notices/{dsa}").text  # type: ignore[attr-defined]
    assert _post(client, f"/notices/{dsa}/send").status_code == 303  # type: ignore[attr-defined]
    (message,) = smtp.messages()
    assert message["Message-ID"] == first_id
    assert notice(web.db, dsa).status == "sent"
    refused = _post(client, f"/notices/{dsa}/resend")  # a sent notice is not queued again
    assert refused.status_code != 303 and len(smtp.messages()) == 1  # type: ignore[attr-defined]
