"""What a capture refuses and how it ends on hostile or broken pages: addresses the guard
refuses (the page itself, a redirect, a subresource), servers that fail or never answer,
endless redirects, too many bytes or requests, endless pages and scripts that never return.
Each ends in a clear CaptureError or a recorded limit, within its time limit."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from capture_support import (
    FAST,
    LOOPBACK,
    OPERATOR,
    free_port,
    loopback_resolver,
    png_picture,
    serve,
)
from playwright.sync_api import Error

from rempart.errors import CaptureError
from rempart.evidence.browser import Browser, Viewport, open_browser
from rempart.evidence.capture import capture_page, withhold_inline_media
from rempart.evidence.checklist import checklist
from rempart.evidence.relay import GuardedRelay
from rempart.fetch import FetchPolicy

pytestmark = pytest.mark.browser

# The pages here are hostile: a call that hangs on a busy page gives up after 10 s, as it
# always did (FAST's longer screenshot limit is for pages that behave).
SHORT = replace(FAST, settle_timeout_s=2.0, screenshot_timeout_s=10.0)
TIMES_OUT = replace(SHORT, page_timeout_s=2.0)  # for the pages that must time out
PUBLIC_ONLY = FetchPolicy(any_port=True)  # the guard's defaults: loopback refused


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with open_browser() as opened:
        yield opened


def fails(call: object, *words: str) -> CaptureError:
    assert callable(call)
    with pytest.raises(CaptureError) as caught:
        call()
    for word in words:
        assert word in str(caught.value), caught.value
    return caught.value


# ---------------------------------------------------------------------- the address guard


def test_page_on_loopback_is_refused_unless_the_policy_allows_it(browser: Browser) -> None:
    with serve() as site:
        url = site.route("/", b"<p>private</p>")

        fails(
            lambda: capture_page(browser, url, operator=OPERATOR, policy=PUBLIC_ONLY),
            "refused address",
            "loopback",
        )
        named = url.replace("127.0.0.1", "forum.test")
        fails(
            lambda: capture_page(
                browser, named, operator=OPERATOR, policy=PUBLIC_ONLY, resolver=loopback_resolver
            ),
            "forum.test resolves to loopback",
        )
    assert site.seen == []


def test_redirect_to_a_refused_address_fails_the_capture(browser: Browser) -> None:
    with serve() as site:
        url = site.route("/go", b"", status=302, headers={"Location": "http://127.0.0.2:8099/x"})

        error = fails(
            lambda: capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=SHORT),
            "refused",
            "127.0.0.2",
        )
    assert "could not be loaded" in str(error)


def test_subresource_on_a_refused_address_is_recorded_as_blocked(browser: Browser) -> None:
    blocked = "http://127.0.0.2:8099/tracker.png"
    with serve() as site:
        url = site.route("/", f'<p>post</p><img src="{blocked}">'.encode())

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=SHORT)

    refused = [c for c in capture.context["network"]["connections"] if c["refused"]]
    assert [(c["url"], c["address"]) for c in refused] == [(blocked, None)]
    assert "loopback address 127.0.0.2" in refused[0]["refused"]
    (unanswered,) = capture.context["requests"]["unanswered"]
    assert unanswered["url"] == blocked
    assert unanswered["relay"].startswith("refused: loopback address 127.0.0.2")
    assert capture.media == ()


def test_url_the_guard_cannot_take_is_refused_before_any_browsing(browser: Browser) -> None:
    for url, words in (
        ("ftp://127.0.0.1/file", ("scheme",)),
        ("http://user:secret@127.0.0.1/", ("credentials",)),
        ("http://127.0.0.1:8081/", ("port 8081",)),
    ):
        fails(
            lambda u=url: capture_page(browser, u, operator=OPERATOR, policy=FetchPolicy()),
            *words,
        )


# -------------------------------------------------------------------- failing servers


def test_http_error_is_captured_with_its_status(browser: Browser) -> None:
    with serve() as site:
        url = site.route("/gone", b"<h1>Server error</h1>", status=500)

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=SHORT)

    assert (capture.context["page"]["status"], capture.final_url) == (500, url)
    assert b"Server error" in capture.artifact("capture/page.html").data


def test_unreachable_server_fails_the_capture(browser: Browser) -> None:
    url = f"http://127.0.0.1:{free_port()}/"

    fails(
        lambda: capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=SHORT),
        "server unreachable",
    )


def test_page_that_never_answers_times_out(browser: Browser) -> None:
    with serve() as site:
        url = site.never_answer("/slow")
        began = time.monotonic()

        fails(
            lambda: capture_page(
                browser, url, operator=OPERATOR, policy=LOOPBACK, limits=TIMES_OUT
            ),
            "did not load within 2 s",
        )
    assert time.monotonic() - began < 20  # well before the 30 s the server would hold on


def test_endless_redirects_fail_the_capture(browser: Browser) -> None:
    with serve() as site:
        for hop in range(30):
            site.route(f"/r{hop}", b"", status=302, headers={"Location": f"/r{hop + 1}"})

        fails(
            lambda: capture_page(
                browser, site.url("/r0"), operator=OPERATOR, policy=LOOPBACK, limits=SHORT
            ),
            "ERR_TOO_MANY_REDIRECTS",
        )


# ------------------------------------------------------------------------- hostile pages


def test_subresource_that_never_ends_is_recorded_and_the_capture_goes_on(
    browser: Browser,
) -> None:
    with serve() as site:
        hanging = site.never_answer("/forever.js")
        url = site.route("/", b'<p>almost</p><script async src="/forever.js"></script>')
        began = time.monotonic()

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=SHORT)

    assert time.monotonic() - began < 20  # well before the 30 s the server would hold on
    assert capture.context["page"]["load"]["network_idle"] is False
    assert "settle time (network not idle)" in capture.context["limits"]["reached"]
    (unfinished,) = capture.context["requests"]["unanswered"]
    assert unfinished["url"] == hanging
    assert unfinished["error"] == "unfinished when the capture ended" or unfinished[
        "relay"
    ].startswith("no answer within")


def test_too_many_bytes_stop_the_download_and_are_recorded(browser: Browser) -> None:
    limits = replace(SHORT, max_total_bytes=300_000)
    with serve() as site:
        site.route("/big.bin", b"\0" * 2_000_000, content_type="application/octet-stream")
        url = site.route("/", b'<p>big</p><script async src="/big.bin"></script>')

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=limits)

    assert "bytes" in capture.context["limits"]["reached"]
    assert capture.context["network"]["bytes_received"] <= 300_000 + 64 * 1024
    assert all(e["url"] != site.url("/big.bin") for e in capture.context["network"]["servers"])


def test_a_document_past_the_byte_limit_fails_the_capture(browser: Browser) -> None:
    limits = replace(SHORT, max_total_bytes=100_000)
    with serve() as site:
        url = site.route("/", b"<p>" + b"word " * 200_000 + b"</p>")

        fails(
            lambda: capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=limits),
            "capture limit reached: bytes",
        )


def test_too_many_requests_are_refused_and_recorded(browser: Browser) -> None:
    limits = replace(SHORT, max_requests=4)
    with serve() as site:
        for n in range(12):
            site.route(f"/p{n}.png", png_picture(n, 8, 8), content_type="image/png")
        images = "".join(f'<img src="/p{n}.png">' for n in range(12))
        url = site.route("/", f"<p>gallery</p>{images}".encode())

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=limits)

    assert "requests" in capture.context["limits"]["reached"]
    assert capture.context["requests"]["answered"] <= 4
    assert len(capture.media) <= 3


def test_a_very_long_page_is_cut_at_the_screenshot_limit(browser: Browser) -> None:
    limits = replace(SHORT, max_screenshot_height=1000)
    with serve() as site:
        url = site.route("/", b'<div style="height:5000px;background:#cde">tall</div>')

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=limits)

    shot = capture.context["screenshot"]
    assert (shot["capped"], shot["height_px"], shot["page_height_px"]) == (True, 1000, 5016)
    assert "screenshot height" in capture.context["limits"]["reached"]
    items = {item["id"]: item for item in capture.context["checklist"]}
    assert items["screenshot"]["detail"] == "full page, cut at 1000 px of 5016"


def test_a_script_that_never_returns_is_stopped_before_the_screenshot(browser: Browser) -> None:
    busy = b"<p>busy</p><script>setTimeout(() => { while (true) {} }, 200)</script>"
    with serve() as site:
        url = site.route("/", busy)
        began = time.monotonic()

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=SHORT)

    assert time.monotonic() - began < 20  # well before the 30 s the server would hold on
    assert capture.context["page"]["load"]["scripts_stopped_before_taking"] is True
    assert capture.context["screenshot"]["taken"] is True


def test_a_script_that_blocks_the_document_times_out_and_leaves_the_browser_usable(
    browser: Browser,
) -> None:
    with serve() as site:
        url = site.route("/", b"<p>busy</p><script>while (true) {}</script><p>never</p>")
        ok = site.route("/ok", b"<p>fine</p>")
        began = time.monotonic()

        fails(
            lambda: capture_page(
                browser, url, operator=OPERATOR, policy=LOOPBACK, limits=TIMES_OUT
            ),
            "did not load within 2 s",
        )
        assert time.monotonic() - began < 20  # well before the 30 s the server would hold on
        after = capture_page(browser, ok, operator=OPERATOR, policy=LOOPBACK, limits=SHORT)

    assert after.context["page"]["status"] == 200


# -------------------------------------------------------------------- pure helpers


def test_inline_pictures_are_replaced_by_their_digest() -> None:
    body = b'<img src="data:image/png;base64,iVBORw0KGgo="><a href="data:text/plain,hi">'

    withheld, count = withhold_inline_media(body)

    assert count == 1
    assert b"iVBORw0KGgo" not in withheld and b"data:text/plain,hi" in withheld
    assert withheld.startswith(b'<img src="data:image/png;withheld-sha256=')


def test_checklist_marks_what_a_bare_context_lacks() -> None:
    items = {item["id"]: item for item in checklist({}, [])}

    assert items["operator"]["status"] == "missing"
    assert items["screenshot"]["status"] == "missing"
    assert items["tls"]["status"] == "not applicable"
    assert all(item["label"]["fr"] for item in items.values())


def test_watchdog_stops_a_page_that_hangs_the_browser(browser: Browser) -> None:
    with GuardedRelay(LOOPBACK) as relay:
        context = browser.new_context(
            proxy_server=relay.proxy_server, viewport=Viewport(), user_agent="test"
        )
        try:
            page = context.new_page()
            page.set_content("<script>setTimeout(() => { while (true) {} }, 50)</script>")
            page.wait_for_timeout(200)
            began = time.monotonic()
            with browser.watchdog(1.0) as fired, pytest.raises(Error, match="crashed"):
                page.evaluate("document.title")
            assert fired() and time.monotonic() - began < 20  # 1 s, with room for a loaded machine
        finally:
            context.close()


def test_a_browser_that_died_is_launched_again_for_the_next_capture(browser: Browser) -> None:
    assert browser.pid is not None
    os.kill(browser.pid, signal.SIGKILL)
    with serve() as site:
        url = site.route("/", b"<p>still here</p>")

        capture = capture_page(browser, url, operator=OPERATOR, policy=LOOPBACK, limits=SHORT)

    assert capture.context["page"]["status"] == 200
