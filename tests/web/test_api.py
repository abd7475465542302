"""The match API and the HMA-compatible lookups: bearer tokens refused on every operation when
missing, wrong, expired or revoked; answers limited to the token's banks; the same Matcher as
the CLI, following the change log."""

from __future__ import annotations

import random
import time

import pytest
from webapp import Web

from rempart.accounts import access_log, tokens
from rempart.accounts.policy import Role
from rempart.hashing.signals import PdqHash
from rempart.intake.banks import create_bank, import_records, withdraw_item
from rempart.intake.cases import create_case
from rempart.intake.hashlists import HashRecord
from rempart.store.models import BankKind


def _hash(seed: int) -> str:
    return random.Random(seed).getrandbits(256).to_bytes(32, "big").hex()


def _near(hex_hash: str, bits: int) -> str:
    value = int(hex_hash, 16)
    for bit in random.Random(bits).sample(range(256), bits):
        value ^= 1 << bit
    return value.to_bytes(32, "big").hex()


def _add(web: Web, bank: str, hex_hash: str, **digests: str) -> int:
    report = import_records(web.db, bank, [HashRecord(pdq=PdqHash.from_hex(hex_hash), **digests)])
    return report.added[0]


@pytest.fixture
def banks(web: Web) -> Web:
    create_case(web.db, "case-a")
    create_bank(web.db, "bank-a", case="case-a")
    create_bank(web.db, "bank-b")
    web.items = {  # type: ignore[attr-defined]
        "a": _add(web, "bank-a", _hash(1), sha256="ab" * 32, md5="cd" * 16),
        "b": _add(web, "bank-b", _hash(2)),
    }
    return web


def _operations(client: object, tags: set[str] | None = None) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document (of these tags only, when given)."""
    spec = client.get("/api/openapi.json").json()  # type: ignore[attr-defined]
    return [
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if tags is None or tags & set(op.get("tags", ()))
    ]


def _call(client: object, method: str, path: str, token: str | None) -> object:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    params = {"signal_type": "pdq", "signal": _hash(1)}
    body = {"inputs": [{"pdq": _hash(1)}]}
    if method == "POST":
        return client.post(path, json=body, headers=headers)  # type: ignore[attr-defined]
    return client.get(path, params=params, headers=headers)  # type: ignore[attr-defined]


def test_every_operation_refuses_a_missing_wrong_expired_or_revoked_token(banks: Web) -> None:
    web = banks
    from datetime import timedelta

    expired = web.token("old", all_banks=True, expires_in=timedelta(hours=1))
    revoked = web.token("gone", all_banks=True)
    tokens.revoke_token(web.db, "gone", actor="test")
    web.clock.advance(hours=2)
    client = web.client()
    operations = _operations(client)
    assert {p for _, p in operations} >= {"/api/v1/match", "/m/raw_lookup", "/m/lookup"}
    for method, path in operations:
        for token in (None, "rmp_" + "x" * 43, "not-even-a-token", expired, revoked):
            answer = _call(client, method, path, token)
            assert answer.status_code == 401, (method, path, token)  # type: ignore[attr-defined]
            assert answer.headers["www-authenticate"] == "Bearer"  # type: ignore[attr-defined]
            assert "message" in answer.json()  # type: ignore[attr-defined]
    reasons = {e.detail for e in access_log.recent(web.db, limit=1000, outcome="denied")}
    assert reasons >= {
        "no token",
        "unknown token",
        "malformed token",
        "expired token",
        "revoked token",
    }


def test_a_token_whose_role_may_not_match_is_refused_every_operation(banks: Web) -> None:
    web = banks
    auditor = web.token("audit", Role.AUDITOR)
    client = web.client()
    matching = _operations(client, {"matching", "hma-compatible"})
    assert {p for _, p in matching} >= {"/api/v1/match", "/m/raw_lookup", "/m/lookup"}
    for method, path in matching:
        assert _call(client, method, path, auditor).status_code == 403, (method, path)


def test_match_answers_each_input_from_the_tokens_banks_only(banks: Web) -> None:
    web = banks
    only_a = web.token("partner-a", banks=["bank-a"])
    client = web.client()
    body = {
        "inputs": [
            {"id": "near-a", "pdq": _near(_hash(1), 6)},
            {"id": "b", "pdq": _hash(2)},
            {"id": "digest", "sha256": "ab" * 32, "md5": "cd" * 16},
            {"id": "bad", "pdq": "xyz"},
            {"id": "bad-md5", "md5": "xyz"},
        ]
    }
    answer = client.post("/api/v1/match", json=body, headers={"authorization": f"Bearer {only_a}"})
    assert answer.status_code == 200
    near, b, digest, bad, bad_md5 = answer.json()["results"]
    assert near["id"] == "near-a"
    assert [(m["bank"], m["item"], m["distance"], m["method"]) for m in near["matches"]] == [
        ("bank-a", web.items["a"], 6, "pdq")  # type: ignore[attr-defined]
    ]
    assert b["matches"] == []  # bank-b exists and matches, but this token does not see it
    assert [m["method"] for m in digest["matches"]] == ["sha256"]
    assert bad["matches"] == [] and bad["error"]
    assert bad_md5["matches"] == [] and "MD5" in bad_md5["error"]


def test_a_lone_sha256_or_a_lone_md5_matches_on_what_is_given(banks: Web) -> None:
    web = banks
    token = web.token("partner-a", banks=["bank-a"])
    inputs = [
        {"id": "sha", "sha256": "AB" * 32},  # either case
        {"id": "md5", "md5": "cd" * 16},
        {"id": "other-sha", "sha256": "ef" * 32},
        {"id": "other-md5", "md5": "ef" * 16},
        {"id": "sha-and-pdq", "sha256": "ab" * 32, "pdq": _hash(9)},
        {"id": "md5-not-sha", "sha256": "ef" * 32, "md5": "cd" * 16},
    ]
    answer = web.client().post(
        "/api/v1/match", json={"inputs": inputs}, headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    found = {
        r["id"]: [(m["item"], m["method"]) for m in r["matches"]] for r in answer.json()["results"]
    }
    item = web.items["a"]  # type: ignore[attr-defined]
    assert found == {
        "sha": [(item, "sha256")],
        "md5": [(item, "md5")],
        "other-sha": [],
        "other-md5": [],
        "sha-and-pdq": [(item, "sha256")],
        "md5-not-sha": [(item, "md5")],
    }
    assert all(r["error"] is None for r in answer.json()["results"])


def test_each_input_of_a_batch_gets_its_digest_match_even_when_repeated(banks: Web) -> None:
    """Regression: two inputs with the same digests used to leave all but the last unmatched,
    and an MD5 match was lost when another input's SHA-256 named the same item."""
    web = banks
    token = web.token("partner-a", banks=["bank-a"])
    both = {"sha256": "ab" * 32, "md5": "cd" * 16}
    inputs = [both, both, {"sha256": "ab" * 32, "md5": "ef" * 16}, {"md5": "cd" * 16}]
    answer = web.client().post(
        "/api/v1/match", json={"inputs": inputs}, headers={"authorization": f"Bearer {token}"}
    )
    methods = [[m["method"] for m in r["matches"]] for r in answer.json()["results"]]
    assert methods == [["sha256"], ["sha256"], ["sha256"], ["md5"]]


def test_a_videos_frames_and_digests_as_rempart_hash_json_writes_them_are_matched(
    banks: Web,
) -> None:
    web = banks
    token = web.token("partner-a", banks=["bank-a"])
    frames = [{"at_s": float(t), "pdq": _hash(200 + t), "quality": 90} for t in range(4)]
    clip = {"id": "clip", "sha256": "ab" * 32, "md5": "cd" * 16, "frames": frames}
    both = {"id": "both", "pdq": _hash(1), "frames": frames}
    answer = web.client().post(
        "/api/v1/match",
        json={"inputs": [clip, both]},
        headers={"authorization": f"Bearer {token}"},
    )
    clip_result, both_result = answer.json()["results"]
    assert [(m["item"], m["method"]) for m in clip_result["matches"]] == [
        (web.items["a"], "sha256")  # type: ignore[attr-defined]
    ]
    assert both_result["matches"] == [] and "not both" in both_result["error"]


def test_video_frames_are_matched_and_say_where_on_the_timeline(banks: Web) -> None:
    web = banks
    token = web.token("partner-a", banks=["bank-a"])
    frames = [{"t": float(t), "pdq": _hash(100 + t)} for t in range(6)]
    frames[3] = {"t": 3.0, "pdq": _near(_hash(1), 2)}  # the protected picture, shown at 3 s
    answer = web.client().post(
        "/api/v1/match",
        json={"inputs": [{"id": "clip", "frames": frames}]},
        headers={"authorization": f"Bearer {token}"},
    )
    (result,) = answer.json()["results"]
    (match,) = result["matches"]
    assert match["item"] == web.items["a"] and match["distance"] == 2  # type: ignore[attr-defined]
    assert match["video"]["query_ranges"] == [[3.0, 4.0]]


def test_a_case_scoped_token_sees_that_cases_banks_and_an_admin_token_sees_all(banks: Web) -> None:
    web = banks
    by_case = web.token("by-case", cases=["case-a"])
    admin = web.token("root", Role.ADMIN)
    client = web.client()
    for token, expected in ((by_case, ["bank-a"]), (admin, ["bank-a", "bank-b"])):
        answer = client.get("/api/v1/banks", headers={"authorization": f"Bearer {token}"})
        assert answer.json() == {"banks": expected}


def test_an_allow_bank_cancels_a_match_even_when_the_token_cannot_see_it(banks: Web) -> None:
    web = banks
    create_bank(web.db, "fine", kind=BankKind.ALLOW)
    _add(web, "fine", _hash(1))
    token = web.token("partner-a", banks=["bank-a"])
    answer = web.client().post(
        "/api/v1/match",
        json={"inputs": [{"pdq": _hash(1)}]},
        headers={"authorization": f"Bearer {token}"},
    )
    (result,) = answer.json()["results"]
    assert result["matches"] == [] and result["allowed"] is True


def test_hma_raw_lookup_and_lookup_answer_in_hmas_shapes(banks: Web) -> None:
    web = banks
    token = web.token("hma-client", all_banks=True)
    client = web.client()
    auth = {"authorization": f"Bearer {token}"}
    signal = _near(_hash(1), 4)
    raw = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": signal}, headers=auth)
    assert raw.json() == {"matches": [web.items["a"]]}  # type: ignore[attr-defined]
    raw = client.get(
        "/m/raw_lookup",
        params={"signal_type": "pdq", "signal": signal, "include_distance": "true"},
        headers=auth,
    )
    assert raw.json() == {"matches": [{"bank_content_id": web.items["a"], "distance": "4"}]}  # type: ignore[attr-defined]
    found = client.get("/m/lookup", params={"signal_type": "pdq", "signal": _hash(2)}, headers=auth)
    assert found.json() == {"bank-b": [{"bank_content_id": web.items["b"], "distance": "0"}]}  # type: ignore[attr-defined]
    only = client.get(
        "/m/lookup",
        params={"signal_type": "pdq", "signal": _hash(2), "banks": "bank-a"},
        headers=auth,
    )
    assert only.json() == {}
    for params in (
        {"signal_type": "pdq", "signal": "nothex"},
        {"signal_type": "tmk", "signal": _hash(1)},
        {"url": "https://example.org/a.jpg"},
        {},
    ):
        refused = client.get("/m/lookup", params=params, headers=auth)
        assert refused.status_code == 400 and refused.json()["message"], params


def _matches(client: object, token: str, hex_hash: str) -> list[int]:
    answer = client.post(  # type: ignore[attr-defined]
        "/api/v1/match",
        json={"inputs": [{"pdq": hex_hash}]},
        headers={"authorization": f"Bearer {token}"},
    )
    return [m["item"] for m in answer.json()["results"][0]["matches"]]


def _eventually(condition: object, what: str) -> None:
    """Poll until `condition()` holds; fail only after a generous stall (no timing claim)."""
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never happened: {what}"


def test_an_item_added_or_withdrawn_is_followed_by_the_running_api(banks: Web) -> None:
    web = banks
    token = web.token("partner", all_banks=True)
    client = web.client()
    fresh = _hash(3)
    assert _matches(client, token, fresh) == []  # the process has loaded its banks
    item = _add(web, "bank-b", fresh)
    _eventually(lambda: _matches(client, token, fresh) == [item], "the added item matches")
    withdraw_item(web.db, "bank-b", item)
    _eventually(lambda: _matches(client, token, fresh) == [], "the withdrawn item stops matching")


def test_a_new_bank_in_a_tokens_case_is_seen_without_a_restart(banks: Web) -> None:
    web = banks
    token = web.token("by-case", cases=["case-a"])
    client = web.client()
    assert _matches(client, token, _hash(4)) == []
    create_bank(web.db, "bank-a2", case="case-a")
    item = _add(web, "bank-a2", _hash(4))
    _eventually(lambda: _matches(client, token, _hash(4)) == [item], "the new bank is matched")


def test_a_body_that_is_not_json_is_a_documented_400_in_the_callers_language(banks: Web) -> None:
    """Regression (found by the fuzzer): FastAPI's own English detail, undocumented status."""
    web = banks
    token = web.token("partner", all_banks=True)
    answer = web.client().post(
        "/api/v1/match",
        content=b"\x56\xff{",
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "application/json",
            "accept-language": "fr",
        },
    )
    assert answer.status_code == 400
    assert answer.json() == {"message": "La requête n'est pas valide."}
    spec = web.client().get("/api/openapi.json").json()
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert {"401", "403", "413", "429"} <= set(op["responses"]), path
    assert "400" in spec["paths"]["/api/v1/match"]["post"]["responses"]
    assert "400" in spec["paths"]["/m/raw_lookup"]["get"]["responses"]


def test_the_openapi_document_is_served_and_no_docs_page_loads_outside_assets(web: Web) -> None:
    client = web.client()
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/v1/match" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
