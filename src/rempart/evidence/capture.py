"""Capture one web page as court-grade evidence: what a fresh browser showed (full-page
screenshot, rendered HTML), what the servers sent (WARC), the pictures and videos as served,
and the context a court checks (who, from where, with what, when: NF Z67-147 items).

Owns the course of one capture in the browser (assembly.py makes the `Capture` of it) and
the public API: `open_browser`, `capture_page`, `Operator`, `CaptureLimits`. Must not seal,
store or judge a match; sealing (bundle.py) takes the `Capture` from here.

How a capture runs: the URL is checked (scheme, port, address guard); a relay of its own is
started (relay.py) and a fresh browser context goes through it; the page loads (the document
within `page_timeout_s`, else CaptureError), then settles (load event, no request in flight
for half a second, lazy content scrolled into view) within `settle_timeout_s`, whatever
happens; then the screenshot, the rendered HTML and the answers are taken, each digested as
it is acquired, and the context closed. An HTTP error status (404, 410, 500...) is a
server's answer and is captured, with the status in `context["page"]["status"]`; a page that
gets no answer (refused, unreachable, too slow, too many redirects) raises CaptureError.
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, CDPSession, Error, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from rempart.clock import Clock, utc_now
from rempart.errors import CaptureError
from rempart.evidence.artifacts import Artifact, Capture, JsonValue
from rempart.evidence.assembly import (
    PAGE_HTML,
    SCREENSHOT,
    CaptureRun,
    Taken,
    assemble,
    withhold_inline_media,
)
from rempart.evidence.browser import Browser, Viewport, open_browser
from rempart.evidence.environment import clock_facts
from rempart.evidence.recording import PageRecorder, host_port, origin_of
from rempart.evidence.relay import GuardedRelay, RelayReport
from rempart.fetch import (
    AddressGuard,
    FetchError,
    FetchFailure,
    FetchPolicy,
    Resolver,
    system_resolver,
)

__all__ = [
    "Browser",
    "CaptureLimits",
    "Operator",
    "Viewport",
    "capture_page",
    "open_browser",
    "withhold_inline_media",
]

_QUIET_S = 0.5  # no request in flight for this long: the network is idle
_POLL_MS = 50
_SCROLL_PAUSE_MS = 120


@dataclass(frozen=True, slots=True)
class Operator:
    """Who makes the capture: a caseworker and the organisation she acts for."""

    name: str
    organisation: str

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a capture needs the name of the person making it")


@dataclass(frozen=True, slots=True)
class CaptureLimits:
    """Bounds on one capture; a hostile page reaches one of them, never hangs a capture.

    `page_timeout_s`: until the document is parsed, else CaptureError. `settle_timeout_s`:
    how long the page may go on loading after that; the capture then goes on and records
    whether the network was idle. `max_total_bytes`: received from servers, all requests
    together (and kept as bodies). `max_requests`: requests recorded; later ones are
    refused. `max_screenshot_height`: pixels; a longer page is cut there (recorded).
    """

    page_timeout_s: float = 30.0
    settle_timeout_s: float = 10.0
    screenshot_timeout_s: float = 30.0
    max_total_bytes: int = 200 * 1024 * 1024
    max_requests: int = 1000
    max_screenshot_height: int = 16_384
    scroll: bool = True  # scroll the page down once, so that lazy pictures load
    viewport: Viewport = field(default_factory=Viewport)
    user_agent: str | None = None  # None: the browser's own (Browser.user_agent)

    def __post_init__(self) -> None:
        timeouts = (self.page_timeout_s, self.settle_timeout_s, self.screenshot_timeout_s)
        if min(timeouts) <= 0:
            raise ValueError("capture timeouts must be positive")
        if min(self.max_total_bytes, self.max_requests, self.max_screenshot_height) < 1:
            raise ValueError("capture limits must be at least 1")

    @property
    def hard_deadline_s(self) -> float:
        """Past this, a capture whose page hung the browser is stopped (Browser.watchdog):
        every step's own limit, and a margin to read the answers."""
        return self.page_timeout_s + self.settle_timeout_s + self.screenshot_timeout_s + 15.0

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "page_timeout_s": self.page_timeout_s,
            "settle_timeout_s": self.settle_timeout_s,
            "screenshot_timeout_s": self.screenshot_timeout_s,
            "max_total_bytes": self.max_total_bytes,
            "max_requests": self.max_requests,
            "max_screenshot_height": self.max_screenshot_height,
        }


def capture_page(
    browser: Browser,
    url: str,
    *,
    operator: Operator,
    policy: FetchPolicy,
    link_path: Sequence[str] = (),
    no_media: bool = False,
    clock: Clock = utc_now,
    limits: CaptureLimits | None = None,
    public_ip: str | None = None,
    resolver: Resolver = system_resolver,
) -> Capture:
    """Capture `url` in a fresh context of `browser`; see the module's docstring.

    `link_path` is the pages followed from a public entry point to `url` (`url` is added
    at its end when missing). `no_media` (a minor's case) keeps no picture at all: no
    screenshot, no media file, no picture body in the WARC (their digests only), inline
    pictures in text bodies replaced by their digest. `policy` is the guard's (allowed
    networks and ports, connect and read timeouts); `public_ip` the capturing machine's
    public address when the caller knows it (Rempart cannot determine it offline).
    Raises CaptureError when the page cannot be captured.
    """
    limits = limits or CaptureLimits()
    if public_ip is not None:
        public_ip = str(ipaddress.ip_address(public_ip))  # ValueError for anything else
    _check_url(url, policy, resolver)
    path = tuple(link_path)
    if not path or path[-1] != url:
        path = (*path, url)
    started_at = clock()
    clock_state = clock_facts()
    with GuardedRelay(
        policy,
        resolver=resolver,
        max_bytes=limits.max_total_bytes,
        max_connections=limits.max_requests,
    ) as relay:
        taken = _take(browser, url, relay, limits, clock, no_media)
        report = relay.report()
    return assemble(
        CaptureRun(
            url=url,
            link_path=path,
            operator=operator,
            browser_version=browser.version,
            browser_executable=browser.executable,
            limits=limits,
            no_media=no_media,
            public_ip=public_ip,
            started_at=started_at,
            clock_state=clock_state,
            taken=taken,
            relay=report,
        ),
        clock,
    )


# ------------------------------------------------------------------------ in the browser


def _take(
    browser: Browser,
    url: str,
    relay: GuardedRelay,
    limits: CaptureLimits,
    clock: Clock,
    no_media: bool,
) -> Taken:
    user_agent = limits.user_agent or browser.user_agent
    with browser.watchdog(limits.hard_deadline_s) as fired:
        context = browser.new_context(
            proxy_server=relay.proxy_server, viewport=limits.viewport, user_agent=user_agent
        )
        try:
            context.set_default_timeout(limits.screenshot_timeout_s * 1000)
            page = context.new_page()
            # Before the page loads anything: DevTools sessions opened on a busy page
            # answer nothing, not even an interrupt.
            control = _PageControl(context.new_cdp_session(page))
            try:
                return _in_context(
                    context, page, control, url, relay, limits, clock, no_media, user_agent
                )
            finally:
                if not fired():  # a killed page would never answer
                    control.freeze_quietly()
        except Error as exc:
            if fired():
                raise CaptureError(
                    "the page stopped responding: capture stopped after {seconds} s",
                    seconds=f"{limits.hard_deadline_s:g}",
                ) from None
            raise CaptureError(
                "the browser failed during the capture: {reason}", reason=_line(exc.message)
            ) from None
        finally:
            _close_quietly(context)


def _in_context(
    context: BrowserContext,
    page: Page,
    control: _PageControl,
    url: str,
    relay: GuardedRelay,
    limits: CaptureLimits,
    clock: Clock,
    no_media: bool,
    user_agent: str,
) -> Taken:
    cookies_at_start = len(context.cookies())
    recorder = PageRecorder(
        context,
        page,
        clock=clock,
        max_requests=limits.max_requests,
        on_limit=lambda: relay.refuse_new("requests"),
    )
    load = _load(page, control, url, limits, relay, recorder)
    control.freeze()
    load["scripts_stopped_before_taking"] = True
    shot_facts: dict[str, JsonValue]
    if no_media:
        screenshot, shot_facts = None, {"taken": False, "reason": "no_media"}
    else:
        screenshot, shot_facts = _screenshot(page, control, limits, clock)
    html = _html(page, clock, no_media)
    final_url = page.url
    exchanges, failures = recorder.exchanges(max_body_bytes=limits.max_total_bytes)
    tls = recorder.tls(
        [origin_of(final_url)] + [origin_of(e.url) for e in exchanges],
        page_origin=origin_of(final_url),
    )
    cookies_set: list[JsonValue] = [
        {"name": c.get("name"), "domain": c.get("domain")} for c in context.cookies()
    ]
    return Taken(
        final_url=final_url,
        user_agent=user_agent,
        load=load,
        screenshot=screenshot,
        screenshot_facts=shot_facts,
        html=html,
        exchanges=exchanges,
        failures=failures,
        tls=tls,
        cookies_at_start=cookies_at_start,
        cookies_set=cookies_set,
        requests_limit=recorder.limit_reached,
    )


class _PageControl:
    """DevTools calls on the captured page that no page script can intercept."""

    def __init__(self, session: CDPSession) -> None:
        self._session = session

    def height(self) -> int:
        """The document's height in CSS pixels, from the page's layout. Only once the page
        is frozen: a raw DevTools call would wait for ever on a page that hangs."""
        metrics = self._session.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
        return int(size.get("height", 0))

    def freeze(self) -> None:
        """Stop the page's scripts: a running one is terminated (DevTools interrupts even a
        script that never returns) and none runs again, so the screenshot and the HTML show
        the page at one moment, and a hostile script cannot hang what follows."""
        self._session.send("Runtime.terminateExecution")
        self._session.send("Emulation.setScriptExecutionDisabled", {"value": True})
        self._session.send("Runtime.terminateExecution")  # one that started in between

    def freeze_quietly(self) -> None:
        """Freeze a page the capture is done with, so that closing it cannot hang."""
        with contextlib.suppress(Error):
            self.freeze()


def _load(
    page: Page,
    control: _PageControl,
    url: str,
    limits: CaptureLimits,
    relay: GuardedRelay,
    recorder: PageRecorder,
) -> dict[str, JsonValue]:
    """Load the document (or raise CaptureError), then let the page settle within bounds."""
    began = time.monotonic()
    try:
        response = page.goto(
            url, wait_until="domcontentloaded", timeout=limits.page_timeout_s * 1000
        )
    except PlaywrightTimeout:
        why = _relay_reason(relay.report(), recorder, url)
        seconds = f"{limits.page_timeout_s:g}"
        if why is None:
            raise CaptureError(
                "the page did not load within {seconds} s", seconds=seconds
            ) from None
        raise CaptureError(
            "the page did not load within {seconds} s ({why})", seconds=seconds, why=why
        ) from None
    except Error as exc:
        why = _relay_reason(relay.report(), recorder, url)
        reason = _line(exc.message)
        if why is None:
            raise CaptureError("the page could not be loaded: {reason}", reason=reason) from None
        raise CaptureError(
            "the page could not be loaded: {reason} ({why})", reason=reason, why=why
        ) from None
    if response is None:
        raise CaptureError("the browser got no answer for the page")
    loaded = time.monotonic() - began
    deadline = time.monotonic() + limits.settle_timeout_s

    def stopped() -> bool:
        return recorder.limit_reached or relay.limit_reached is not None

    load_event = _until(page, deadline, stopped, lambda: _load_fired(page))
    scrolled = False
    if limits.scroll and not stopped() and time.monotonic() < deadline:
        scrolled = _scroll(page, limits, deadline)
    idle = _until(page, deadline, stopped, _quiet(recorder))
    return {
        "dom_content_loaded_s": round(loaded, 3),
        "load_event": load_event,
        "network_idle": idle,
        "scrolled_for_lazy_content": scrolled,
        "settle_s": round(time.monotonic() - began - loaded, 3),
    }


def _until(
    page: Page, deadline: float, stopped: Callable[[], bool], done: Callable[[], bool]
) -> bool:
    """Wait, letting Playwright deliver events, until `done`, a limit or the deadline."""
    while True:
        if done():
            return True
        if stopped() or time.monotonic() >= deadline:
            return False
        page.wait_for_timeout(_POLL_MS)


def _load_fired(page: Page) -> bool:
    try:
        page.wait_for_load_state("load", timeout=1)
    except PlaywrightTimeout:
        return False
    return True


def _quiet(recorder: PageRecorder) -> Callable[[], bool]:
    """True once no request has been in flight for _QUIET_S."""
    since: list[float] = []

    def quiet() -> bool:
        if recorder.in_flight:
            since.clear()
            return False
        if not since:
            since.append(time.monotonic())
        return time.monotonic() - since[0] >= _QUIET_S

    return quiet


def _scroll(page: Page, limits: CaptureLimits, deadline: float) -> bool:
    """Scroll down the page a screen at a time (lazy pictures load as they come near the
    screen), then back to the top, by input events. Skipped for a page whose scripts keep
    it from answering: it is frozen next, and the watchdog stops one that hangs meanwhile."""
    if not _responsive(page):
        return False
    height = min(
        _number(page.evaluate("document.documentElement.scrollHeight")),
        limits.max_screenshot_height,
    )
    step = limits.viewport.height
    if height <= step:
        return False
    page.mouse.move(limits.viewport.width / 2, step / 2)
    position = 0
    while position + step < height and time.monotonic() < deadline:
        page.mouse.wheel(0, step)
        position += step
        page.wait_for_timeout(_SCROLL_PAUSE_MS)
    page.mouse.wheel(0, -position)
    return True


def _number(value: object) -> int:
    """A size a page script reported: page scripts can make it anything."""
    return int(value) if isinstance(value, int | float) and 0 <= value < 1e9 else 0


def _responsive(page: Page) -> bool:
    """Whether the page runs a trivial script within a second (Playwright keeps the time)."""
    try:
        page.wait_for_function("true", timeout=1000)
    except PlaywrightTimeout:
        return False
    return True


def _screenshot(
    page: Page, control: _PageControl, limits: CaptureLimits, clock: Clock
) -> tuple[Artifact, dict[str, JsonValue]]:
    page_height = control.height()
    capped = page_height > limits.max_screenshot_height
    timeout = limits.screenshot_timeout_s * 1000
    try:
        if capped:
            png = page.screenshot(
                full_page=True,
                type="png",
                timeout=timeout,
                clip={
                    "x": 0,
                    "y": 0,
                    "width": limits.viewport.width,
                    "height": limits.max_screenshot_height,
                },
            )
        else:
            png = page.screenshot(full_page=True, type="png", timeout=timeout)
    except PlaywrightTimeout:
        raise CaptureError(
            "the screenshot took longer than {seconds} s",
            seconds=f"{limits.screenshot_timeout_s:g}",
        ) from None
    artifact = Artifact(SCREENSHOT, png, "image/png", clock())
    facts: dict[str, JsonValue] = {
        "taken": True,
        "full_page": True,
        "format": "PNG",
        "width_px": _png_size(png)[0],
        "height_px": _png_size(png)[1],
        "page_height_px": page_height,
        "capped": capped,
        "max_height_px": limits.max_screenshot_height,
    }
    return artifact, facts


def _png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _html(page: Page, clock: Clock, no_media: bool) -> Artifact:
    text = page.content().encode("utf-8")
    if no_media:
        text, _ = withhold_inline_media(text)
    return Artifact(PAGE_HTML, text, "text/html; charset=utf-8", clock())


def _close_quietly(context: BrowserContext) -> None:
    with contextlib.suppress(Error):  # the browser is gone already: nothing is left in it
        context.close()


def _relay_reason(report: RelayReport, recorder: PageRecorder, url: str) -> CaptureError | None:
    """Why the relay did not serve the page (or its redirects), in a few words."""
    hosts = {host_port(url)} | {host_port(f.url) for f in recorder.failed_main_documents()}
    for connection in report.connections:
        if (connection.host, connection.port) not in hosts:
            continue
        if connection.refused:
            return CaptureError("refused: {reason}", reason=connection.refused)
        if connection.error:
            return CaptureError("server unreachable: {reason}", reason=connection.error)
    if report.limit_reached:
        return CaptureError("capture limit reached: {limit}", limit=report.limit_reached)
    return None


# ---------------------------------------------------------------------------- the URL


def _check_url(url: str, policy: FetchPolicy, resolver: Resolver) -> None:
    """Refuse early what needs no browser to refuse: the relay checks again, hop by hop."""
    if len(url) > policy.max_url_length:
        raise CaptureError("URL too long")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise CaptureError("not a URL: {reason}", reason=str(exc)) from None
    if parts.scheme not in {"http", "https"}:
        raise CaptureError("scheme {scheme!r} not allowed: http or https only", scheme=parts.scheme)
    if parts.username or parts.password:
        raise CaptureError("credentials in the URL are not allowed")
    if not parts.hostname:
        raise CaptureError("the URL names no host")
    if not policy.any_port and port not in policy.allowed_ports:
        raise CaptureError("port {port} not allowed", port=port)
    guard = AddressGuard.of(policy, resolver)
    try:
        guard.checked_addresses(parts.hostname, port, url)
    except FetchError as exc:
        if exc.reason is FetchFailure.REFUSED_PORT:
            raise CaptureError("port {port} not allowed", port=port) from None
        raise CaptureError(
            "{reason}: {detail}", reason=exc.reason.value, detail=exc.detail
        ) from None


def _line(text: Any) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else "unknown error"
