"""A web app served by a real uvicorn on 127.0.0.1 (the options `rempart serve` uses), and
Debian's Chromium driven by Playwright, launched as Rempart launches it (unprivileged, in its
sandbox): what the browser tests of the web app share."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from webapp import Web

from rempart.web.app import server_options

__all__ = ["chromium_page", "served"]


@contextmanager
def served(web: Web) -> Iterator[str]:
    """The app on a free port; its base URL, once it is listening."""
    config = uvicorn.Config(
        web.app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=0,
        log_level="warning",
        **server_options(web.settings),  # type: ignore[arg-type]
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not (server.started and server.servers):
        assert thread.is_alive(), "uvicorn stopped before it started"
        assert time.monotonic() < deadline, "uvicorn never started"
        time.sleep(0.01)  # polling a condition, not guessing a duration
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
    assert not thread.is_alive(), "uvicorn did not stop"


@contextmanager
def chromium_page(language: str = "en-GB") -> Iterator[object]:
    """A fresh page in Debian's Chromium."""
    from playwright.sync_api import sync_playwright

    from rempart.evidence.browser import DEFAULT_CHROMIUM, launch_plan

    folder = Path(tempfile.mkdtemp(prefix="rempart-web-browser-"))
    try:
        plan = launch_plan(DEFAULT_CHROMIUM, folder, headless=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=plan.executable,
                headless=True,
                args=list(plan.args),
                env=dict(plan.env),
                handle_sigint=False,
            )
            try:
                context = browser.new_context(locale=language)
                yield context.new_page()
            finally:
                browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
