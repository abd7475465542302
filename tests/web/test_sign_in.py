"""Signing in and out: cookie flags, a new session id at each sign-in, CSRF, lock-out with
backoff, the second factor (required for admins), expiry, and the access log."""

from __future__ import annotations

from pathlib import Path

from webapp import PASSWORD, Web, csrf_of, make_web

from rempart.accounts import access_log
from rempart.accounts.policy import Role
from rempart.store.database import Database


def _flags(set_cookie: str) -> set[str]:
    return {part.strip().lower() for part in set_cookie.split(";")[1:]}


def test_sign_in_sets_an_httponly_strict_secure_cookie_and_opens_the_dashboard(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    answer = web.sign_in(client, "claire")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "rempart_session=" in c)
    assert {"httponly", "samesite=strict", "secure", "path=/"} <= _flags(cookie)
    page = client.get("/")
    assert page.status_code == 200 and "claire" in page.text


def test_cookie_is_not_secure_over_plain_http_unless_configured(
    db: Database, tmp_path: Path
) -> None:
    plain = make_web(db, tmp_path)
    plain.user("claire", Role.CASEWORKER)
    answer = plain.sign_in(plain.client(https=False), "claire")
    session = next(c for c in answer.headers.get_list("set-cookie") if "rempart_session=" in c)
    assert "secure" not in _flags(session)
    # behind a TLS proxy that does not say so: every cookie is marked Secure all the same
    always = make_web(db, tmp_path, secure_cookies="always")
    assert "secure" in _flags(always.client(https=False).get("/login").headers["set-cookie"])


def test_each_sign_in_gets_a_new_session_id_and_the_old_one_stops_working(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    first = client.cookies["rempart_session"]
    web.sign_in(client, "claire")
    second = client.cookies["rempart_session"]
    assert first != second
    stale = web.client()
    stale.cookies.set("rempart_session", first)
    answer = stale.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_wrong_password_and_unknown_account_get_the_same_refusal_and_are_logged(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    wrong = web.sign_in(web.client(), "claire", "not the password at all")
    nobody = web.sign_in(web.client(), "nobody", PASSWORD)
    assert wrong.status_code == nobody.status_code == 401
    assert "wrong name or password" in wrong.text and "wrong name or password" in nobody.text
    french = web.client()
    french.headers["accept-language"] = "fr-FR"
    assert "nom ou mot de passe incorrect" in web.sign_in(french, "claire", "pas le bon").text  # type: ignore[attr-defined]
    denied = access_log.recent(web.db, outcome="denied")
    assert {e.detail for e in denied} >= {"wrong password", "no such account"}


def test_sign_in_without_its_csrf_token_is_refused_and_logged(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    client.get("/login")
    answer = client.post("/login", data={"name": "claire", "password": PASSWORD, "csrf": "forged"})
    assert answer.status_code == 403
    assert "rempart_session" not in client.cookies
    assert any(e.detail == "bad CSRF token" for e in access_log.recent(web.db))


def test_sign_out_needs_the_session_csrf_token_then_ends_the_session(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    cookie = client.cookies["rempart_session"]
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    token = csrf_of(client.get("/").text)
    answer = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    replay = web.client()
    replay.cookies.set("rempart_session", cookie)
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_failed_sign_ins_lock_the_account_out_even_with_the_right_password(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    for _ in range(5):
        assert web.sign_in(web.client(), "claire", "wrong password, again").status_code == 401
    locked = web.sign_in(web.client(), "claire")
    assert locked.status_code == 401 and "too many failed sign-ins" in locked.text
    web.clock.advance(minutes=2)  # the first lock-out lasts a minute
    assert web.sign_in(web.client(), "claire").status_code == 303
    assert any(e.detail == "locked out" for e in access_log.recent(web.db, outcome="denied"))


def test_lock_out_grows_with_each_further_failure(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    for _ in range(5):
        web.sign_in(web.client(), "claire", "wrong password, again")
    web.clock.advance(minutes=2)
    web.sign_in(web.client(), "claire", "wrong password, again")  # 6th: locked for 2 minutes
    web.clock.advance(minutes=1, seconds=30)
    assert web.sign_in(web.client(), "claire").status_code == 401
    web.clock.advance(minutes=1)
    assert web.sign_in(web.client(), "claire").status_code == 303


def test_an_admin_without_a_second_factor_cannot_sign_in(web: Web) -> None:
    web.user("ada", Role.ADMIN)
    answer = web.sign_in(web.client(), "ada")
    assert answer.status_code == 401 and "rempart user totp ada" in answer.text


def test_an_admin_signs_in_with_password_then_totp_code_used_once(web: Web) -> None:
    web.user("ada", Role.ADMIN, totp=True)
    client = web.client()
    answer = web.sign_in(client, "ada")
    assert answer.status_code == 303 and answer.headers["location"] == "/login/code"
    waiting = client.cookies["rempart_session"]
    assert client.get("/", follow_redirects=False).status_code == 303  # not signed in yet
    form = client.get("/login/code")
    wrong = client.post("/login/code", data={"code": "000000", "csrf": csrf_of(form.text)})
    assert wrong.status_code == 401
    code = web.code("ada")
    done = client.post(
        "/login/code", data={"code": code, "csrf": csrf_of(form.text)}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert client.cookies["rempart_session"] != waiting
    assert client.get("/").status_code == 200
    # the same code cannot open a second session
    other = web.client()
    web.sign_in(other, "ada")
    again = other.post(
        "/login/code", data={"code": code, "csrf": csrf_of(other.get("/login/code").text)}
    )
    assert again.status_code == 401


def test_a_session_lapses_after_its_idle_time_and_its_absolute_time(web: Web) -> None:
    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    web.clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    web.clock.advance(minutes=31)
    assert client.get("/", follow_redirects=False).status_code == 303
    web.sign_in(client, "claire")
    for _ in range(25):  # active all along, but 12 hours is the most a session lives
        web.clock.advance(minutes=29)
        client.get("/")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_account_loses_its_sessions_and_cannot_sign_in(web: Web) -> None:
    from rempart.accounts import users

    web.user("claire", Role.CASEWORKER)
    client = web.client()
    web.sign_in(client, "claire")
    users.disable_user(web.db, "claire", actor="test")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert web.sign_in(web.client(), "claire").status_code == 401


def test_pages_speak_french_from_the_browser_or_the_switch(web: Web) -> None:
    client = web.client()
    french = client.get("/login", headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert "Se connecter" in french.text and 'lang="fr"' in french.text
    client.get("/lang/fr?next=/login")
    assert "Se connecter" in client.get("/login").text
    for elsewhere in ("//evil.example", "/\\evil.example", "https://evil.example"):
        assert (
            client.get(f"/lang/en?next={elsewhere}", follow_redirects=False).headers["location"]
            == "/"
        )
    assert "Sign in" in client.get("/login", headers={"accept-language": "fr"}).text
