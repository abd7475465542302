"""The capture browser renders hostile pages: it must not sit next to Rempart's keys. Every
Chromium process (browser, zygotes, renderers, GPU and utility processes) runs with a
scrubbed environment (no REMPART_* variable), in Chromium's sandbox, and, when Rempart runs
as root, as an unprivileged account; capturing as root without the sandbox takes an explicit,
logged override."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rempart.errors import CaptureError
from rempart.evidence.browser import (
    AS_ROOT_ENV,
    CAPTURE_USER_ENV,
    Browser,
    Viewport,
    _descendants,
    launch_plan,
    open_browser,
)
from rempart.evidence.relay import GuardedRelay
from rempart.fetch import FetchPolicy

ROOT = os.geteuid() == 0
SECRETS = {"REMPART_VAULT_KEY": "dmF1bHQta2V5LWJ5dGVz", "REMPART_KEY_PASSPHRASE": "passphrase"}


def _processes(browser: Browser) -> dict[int, tuple[int, list[bytes], bytes]]:
    """pid -> (uid, environment, command line) of Chromium and every process under it."""
    assert browser.pid is not None
    found = {}
    for pid in [browser.pid, *_descendants(browser.pid)]:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue  # gone meanwhile
        found[pid] = (uid, environ, command)
    return found


@pytest.fixture
def rendering(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """A browser with Rempart's secrets in this process's environment, rendering a page."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(AS_ROOT_ENV, raising=False)
    blocker = GuardedRelay(FetchPolicy(), refuse_all=True)
    blocker.start()
    try:
        with open_browser() as browser:
            context = browser.new_context(
                proxy_server=blocker.proxy_server, viewport=Viewport(), user_agent="test"
            )
            try:
                page = context.new_page()
                page.set_content("<p>a page, rendered</p>")
                assert page.inner_text("p") == "a page, rendered"
                yield browser
            finally:
                context.close()
    finally:
        blocker.close()


@pytest.mark.browser
def test_no_browser_process_sees_rempart_secrets(rendering: Browser) -> None:
    processes = _processes(rendering)

    assert any(b"--type=renderer" in command for _, _, command in processes.values())
    for pid, (_, environ, _) in processes.items():
        leaked = [v for v in environ if v.startswith(b"REMPART_") or b"passphrase" in v]
        assert leaked == [], pid
    # Children may overwrite their environment's memory with their title; the browser's is
    # the one it was given.
    _, environ, _ = processes[rendering.pid or 0]
    assert b"HOME=" + str(rendering.plan.folder / "home").encode() in environ


@pytest.mark.browser
def test_chromium_keeps_its_sandbox_and_drops_root(rendering: Browser) -> None:
    processes = _processes(rendering)

    for pid, (uid, _, command) in processes.items():
        assert b"--no-sandbox" not in command, pid
        if ROOT:
            assert uid != 0, f"process {pid} runs as root"


@pytest.mark.skipif(not ROOT, reason="the root-only choices need root")
def test_as_root_an_unknown_account_is_refused_with_what_to_do(tmp_path: Path) -> None:
    env = {CAPTURE_USER_ENV: "no-such-account-here"}
    with pytest.raises(CaptureError, match=f"{CAPTURE_USER_ENV}.*{AS_ROOT_ENV}=1"):
        launch_plan("/usr/bin/chromium", tmp_path, headless=True, env=env)


@pytest.mark.skipif(not ROOT, reason="the root-only choices need root")
def test_the_root_override_drops_the_sandbox_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        plan = launch_plan("/usr/bin/chromium", tmp_path, headless=True, env={AS_ROOT_ENV: "1"})
    assert plan.args == ("--no-sandbox",) and plan.user == "root"
    assert "WITHOUT its sandbox" in caplog.text


def test_the_environment_is_an_allow_list(tmp_path: Path) -> None:
    env = {
        **SECRETS,
        "PATH": "/usr/bin",
        "LANG": "fr_FR.UTF-8",
        "LC_TIME": "fr_FR.UTF-8",
        "AWS_SECRET_ACCESS_KEY": "x",
        "DISPLAY": ":0",
    }
    plan = launch_plan("/usr/bin/chromium", tmp_path, headless=True, env=env)
    assert set(plan.env) == {
        "PATH",
        "LANG",
        "LC_TIME",
        "HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
        "TMPDIR",
    }
    assert "env=" not in repr(plan)
