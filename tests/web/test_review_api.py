"""The review queue as JSON, with real API tokens: a token sees the pending matches of its
cases, decides through jobs.review as itself (its name in the custody log), is refused other
cases, a conflicting decision, and a role that sees no case."""

from __future__ import annotations

from pathlib import Path

import pytest
from webapp import Web

from findings_made import make_finding
from rempart.accounts import access_log
from rempart.accounts.policy import Role
from rempart.evidence.custody import CustodyAction
from rempart.evidence.ledger import chain_events
from rempart.intake.cases import case_info, chain_of
from rempart.jobs import review, review_queue


@pytest.fixture
def made(web: Web, tmp_path: Path) -> dict[str, object]:
    found: dict[str, object] = {
        "a1": make_finding(web.db, None, tmp_path, case="case-a", seed=1).finding,
        "a2": make_finding(web.db, None, tmp_path, case="case-a", seed=2).finding,
        "b1": make_finding(web.db, None, tmp_path, case="case-b", seed=3).finding,
    }
    found["token"] = web.token("triage-bot", Role.REVIEWER, cases=("case-a",))
    return found


def _auth(token: object) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_token_lists_the_pending_matches_of_its_cases_with_who_reviews_them(
    web: Web, made: dict[str, object]
) -> None:
    review_queue.claim(web.db, made["a2"], actor="claire", clock=web.clock)  # type: ignore[arg-type]
    answer = web.client().get("/api/v1/review", headers=_auth(made["token"]))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    found = {f["finding"]: f for f in answer.json()["findings"]}
    assert set(found) == {made["a1"], made["a2"]}
    assert found[made["a1"]]["reviewing"] is None
    assert found[made["a2"]]["reviewing"]["by"] == "claire"
    assert found[made["a1"]]["how"] == "identical file (same SHA-256 digest)"


def test_a_decision_is_made_by_the_review_use_case_in_the_tokens_name(
    web: Web, made: dict[str, object]
) -> None:
    answer = web.client().post(
        f"/api/v1/findings/{made['a1']}/decision",
        json={"verdict": "reject", "note": "another landscape"},
        headers=_auth(made["token"]),
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["reviewed_by"]) == ("rejected", "triage-bot")
    events = chain_events(web.db, chain_of(case_info(web.db, "case-a").id))
    decisions = [e for e in events if e.action is CustodyAction.REVIEW_DECISION]
    assert [(e.actor, e.detail["verdict"]) for e in decisions] == [("triage-bot", "rejected")]


def test_conflicts_bad_input_and_other_cases_are_refused(web: Web, made: dict[str, object]) -> None:
    client = web.client()
    review_queue.claim(web.db, made["a2"], actor="claire", clock=web.clock)  # type: ignore[arg-type]
    taken = client.post(
        f"/api/v1/findings/{made['a2']}/decision",
        json={"verdict": "confirm"},
        headers=_auth(made["token"]),
    )
    assert taken.status_code == 409 and "being reviewed by claire" in taken.json()["message"]
    no_reason = client.post(
        f"/api/v1/findings/{made['a1']}/decision",
        json={"verdict": "reject"},
        headers=_auth(made["token"]),
    )
    assert no_reason.status_code == 400 and "reason is required" in no_reason.json()["message"]
    nonsense = client.post(
        f"/api/v1/findings/{made['a1']}/decision",
        json={"verdict": "maybe"},
        headers=_auth(made["token"]),
    )
    assert nonsense.status_code == 422
    other = client.post(
        f"/api/v1/findings/{made['b1']}/decision",
        json={"verdict": "confirm"},
        headers=_auth(made["token"]),
    )
    assert other.status_code == 403
    assert {review.finding(web.db, f).status for f in (made["a1"], made["a2"], made["b1"])} == {  # type: ignore[arg-type]
        "pending"
    }
    denied = [e for e in access_log.recent(web.db, outcome="denied") if e.actor == "triage-bot"]
    assert [e.detail for e in denied] == ["case not assigned"]


def test_the_review_api_needs_a_token_whose_role_sees_cases(
    web: Web, made: dict[str, object]
) -> None:
    client = web.client()
    assert client.get("/api/v1/review").status_code == 401
    matcher = web.token("platform", all_banks=True)
    assert client.get("/api/v1/review", headers=_auth(matcher)).status_code == 403
    auditor = web.token("audit", Role.AUDITOR)
    assert client.get("/api/v1/review", headers=_auth(auditor)).status_code == 200
    refused = client.post(
        f"/api/v1/findings/{made['a1']}/decision",
        json={"verdict": "confirm"},
        headers=_auth(auditor),
    )
    assert refused.status_code == 403
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/review" in paths and "/api/v1/findings/{finding_id}/decision" in paths
