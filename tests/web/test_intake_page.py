"""`rempart serve` serves the victim's offline page at /intake under its own strict policy."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
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


@pytest.mark.browser
@pytest.mark.slow
def test_served_page_hashes_and_seals_over_http_without_another_request(
    web: Web, tmp_path: Path
) -> None:
    from served import served

    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    import intake_page

    if not Path(intake_page.CHROMIUM).exists():
        pytest.skip("no Chromium (apt-get install chromium)")
    made = sealing.make_key_pair(web.settings.core.home / "intake")
    pictures = intake_page.write_pictures(tmp_path / "pictures", 2, [(640, 480)])
    with served(web) as base, intake_page.chromium() as browser:
        run = intake_page.run_page(browser, f"{base}/intake", pictures)
    assert run.requests == [] and run.errors == []
    private = sealing.read_private_key(made.private)
    assert len(sealing.load_hash_file(run.hash_file, private).items) == 2
