"""`rempart serve` serves the victim's offline page at /intake under its own strict policy."""

from __future__ import annotations

import json
import re

from webapp import Web

from rempart.intake import sealing


def _config(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="rempart-config">(.*?)</script>', html)
    assert found is not None
    loaded: dict[str, object] = json.loads(found.group(1))
    return loaded


def test_intake_page_is_served_without_sign_in_under_a_policy_that_connects_nowhere(
    web: Web,
) -> None:
    response = web.client().get("/intake")
    assert response.status_code == 200
    (policy,) = response.headers.get_list("content-security-policy")
    assert "connect-src 'none'" in policy and "default-src 'none'" in policy
    assert "'wasm-unsafe-eval'" in policy and "'unsafe-inline'" not in policy
    assert policy in response.text  # the same policy in the page's own meta element
    assert _config(response.text)["key"] is None


def test_other_pages_keep_the_apps_policy(web: Web) -> None:
    policy = web.client().get("/login").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "wasm" not in policy


def test_intake_page_seals_to_the_associations_key_once_made(web: Web) -> None:
    made = sealing.make_key_pair(web.settings.core.home / "intake")
    key = _config(web.client().get("/intake").text)["key"]
    assert isinstance(key, dict) and key["id"] == made.key_id
