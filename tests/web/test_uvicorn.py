"""The application under a real uvicorn server on 127.0.0.1: what a browser and a platform get
over the network, headers and all."""

from __future__ import annotations

from pathlib import Path

import httpx
from served import served
from webapp import make_web

from rempart.accounts.policy import Role
from rempart.hashing.signals import PdqHash
from rempart.intake.banks import create_bank, import_records
from rempart.intake.hashlists import HashRecord
from rempart.store.database import Database

SIGNAL = "f8f8f0cee0f4a84f06370a32038f67f0b36e2ed596623e1d33e3b80d2a1d7c6f"


def test_a_real_server_signs_in_matches_and_sends_its_headers(
    sqlite_db: Database, tmp_path: Path
) -> None:
    web = make_web(sqlite_db, tmp_path)
    web.user("claire", Role.CASEWORKER)
    create_bank(web.db, "shared")
    (item,) = import_records(web.db, "shared", [HashRecord(pdq=PdqHash.from_hex(SIGNAL))]).added
    token = web.token("platform", all_banks=True)
    with served(web) as url, httpx.Client(base_url=url) as client:
        login = client.get("/login")
        assert login.status_code == 200
        assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
        assert "strict-transport-security" not in login.headers  # plain HTTP here
        signed = web.sign_in(client, "claire")  # type: ignore[arg-type]
        assert signed.status_code == 303  # type: ignore[attr-defined]
        assert client.get("/").status_code == 200
        lookup = client.get(
            "/m/raw_lookup",
            params={"signal_type": "pdq", "signal": SIGNAL},
            headers={"authorization": f"Bearer {token}"},
        )
        assert lookup.json() == {"matches": [item]}
        assert lookup.headers["cache-control"] == "no-store"
        assert client.get("/m/raw_lookup", params={"signal_type": "pdq"}).status_code == 401


def test_behind_a_trusted_tls_proxy_cookies_are_secure_and_hsts_is_sent(
    sqlite_db: Database, tmp_path: Path
) -> None:
    proxied = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"}
    for trusted, secure in (("127.0.0.1", True), ("192.0.2.1", False)):
        web = make_web(sqlite_db, tmp_path, trusted_proxies=trusted)
        with served(web) as url, httpx.Client(base_url=url, headers=proxied) as client:
            page = client.get("/login")
        assert ("strict-transport-security" in page.headers) is secure, trusted
        assert ("secure" in page.headers["set-cookie"].lower()) is secure, trusted
