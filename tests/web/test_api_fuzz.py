"""The JSON API fuzzed from its own OpenAPI document (schemathesis): every operation, with
valid and invalid inputs and a real token; never a 5xx, every answer as documented (status,
media type, schema), and every operation refuses the request again without the token and with
a wrong one (schemathesis's ignored_auth check). Bounded: a few hundred examples, no deadline.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webapp import Web

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

# Per generation mode, over all the operations; REMPART_FUZZ_EXAMPLES=5000 for a long run.
_EXAMPLES = int(os.environ.get("REMPART_FUZZ_EXAMPLES", "150"))


@pytest.fixture
def schema(web: Web) -> Any:
    from rempart.hashing.signals import PdqHash
    from rempart.intake.banks import create_bank, import_records
    from rempart.intake.hashlists import HashRecord

    create_bank(web.db, "shared")
    import_records(web.db, "shared", [HashRecord(pdq=PdqHash.from_hex("ab" * 32))])
    token = web.token("fuzz", all_banks=True)
    # A body over the size limit is refused with 413 (documented): a rejection too.
    rejections = [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": rejections}}}
    )
    loaded = schemathesis.openapi.from_asgi("/api/openapi.json", web.app, config=config)

    @loaded.auth()
    class Bearer:
        def get(self, case: Any, context: Any) -> str:
            return token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return loaded


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented_and_never_fails(
    schema: Any, mode: GenerationMode
) -> None:
    strategy = schema.as_strategy(generation_mode=mode)
    paths = set()

    @settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        paths.add(case.path)
        # HMA's /m/lookup takes `signal_type` and `signal`, or `url` (which Rempart refuses):
        # a rule OpenAPI cannot state, so a request with neither is a documented 400.
        excluded = [positive_data_acceptance] if case.path == "/m/lookup" else []
        case.call_and_validate(excluded_checks=excluded)

    run()
    assert paths == {
        "/api/v1/match",
        "/api/v1/banks",
        "/api/v1/review",
        "/api/v1/findings/{finding_id}/decision",
        "/m/raw_lookup",
        "/m/lookup",
    }
