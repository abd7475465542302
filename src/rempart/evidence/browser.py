"""The capture browser: Debian's Chromium, launched once through Playwright and reused, with
a fresh, isolated browser context (no cookies, cache or storage) for every capture.

Owns the launch (flags that keep every connection on the proxy it is given; Chromium's own
sandbox; a scrubbed environment, so no key or passphrase of Rempart's reaches it; an
unprivileged account when Rempart runs as root), the browser's identity (version, user
agent), the making of contexts and the watchdog that stops a page that hangs the browser.
Must not load pages or record anything (capture.py, recording.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shlex
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser as _Chromium
from playwright.sync_api import BrowserContext, Error, Playwright, sync_playwright

from rempart.errors import CaptureError
from rempart.evidence.relay import GuardedRelay
from rempart.fetch import FetchPolicy

__all__ = [
    "AS_ROOT_ENV",
    "CAPTURE_USER_ENV",
    "DEFAULT_CHROMIUM",
    "Browser",
    "LaunchPlan",
    "Viewport",
    "launch_plan",
    "open_browser",
]

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# As root, Chromium runs as this unprivileged account (default: nobody), in its sandbox.
CAPTURE_USER_ENV = "REMPART_CAPTURE_USER"
# As root, "1" runs Chromium as root without its sandbox instead (not recommended: a page
# that exploits the renderer would be root on the machine). Logged as a warning.
AS_ROOT_ENV = "REMPART_CAPTURE_AS_ROOT"
_SETPRIV = "/usr/bin/setpriv"
# What Chromium may see of the environment (fonts, language, time zone, a display when
# headed); HOME, XDG folders and TMPDIR point into a private folder of its own.
_KEPT_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "FONTCONFIG_FILE", "FONTCONFIG_PATH")
_KEPT_HEADED = ("DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")
_log = logging.getLogger(__name__)

# Beside Playwright's own switches (no background networking, no component updates, HTTPS
# upgrades off...): nothing may leave except through the context's proxy. QUIC and WebRTC's
# UDP do not go through an HTTP proxy, so they are switched off; pings and domain
# reliability reports are not the page's traffic.
_ARGS = (
    "--disable-gpu",
    "--disable-quic",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--no-pings",
    "--disable-domain-reliability",
)
_BROWSER_KILL_AFTER_S = 10.0  # after the renderers were killed, if the capture still hangs


@dataclass(frozen=True, slots=True)
class Viewport:
    """The browser window a capture renders in, in CSS pixels."""

    width: int = 1366
    height: int = 768
    device_scale_factor: float = 1.0


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    """How Chromium is started: the program Playwright runs (Chromium, or a wrapper that
    drops to an unprivileged account), its extra flags and its whole environment."""

    executable: str
    args: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    folder: Path  # private to the browser: HOME, profile, temporary files; removed after
    user: str  # the account it runs as


def launch_plan(
    chromium: str, folder: Path, *, headless: bool, env: Mapping[str, str] | None = None
) -> LaunchPlan:
    """The launch for this process: Chromium in its sandbox with a scrubbed environment; as
    root, under an unprivileged account through setpriv (or, with REMPART_CAPTURE_AS_ROOT=1,
    as root without its sandbox). Raises CaptureError when as root neither is possible."""
    env = os.environ if env is None else env
    kept = _KEPT_ENV + (() if headless else _KEPT_HEADED)
    scrubbed = {k: env[k] for k in kept if k in env}
    scrubbed.update({k: v for k, v in env.items() if k.startswith("LC_")})
    scrubbed.setdefault("PATH", "/usr/bin:/bin")
    home = folder / "home"
    scrubbed.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TMPDIR=str(home),
    )
    if os.geteuid() != 0:
        home.mkdir(mode=0o700)
        return LaunchPlan(chromium, (), scrubbed, folder, pwd.getpwuid(os.geteuid()).pw_name)
    if env.get(AS_ROOT_ENV) == "1":
        _log.warning(
            "%s=1: Chromium runs as root WITHOUT its sandbox; a hostile page that exploits "
            "the renderer would control this machine (see docs/security.md)",
            AS_ROOT_ENV,
        )
        home.mkdir(mode=0o700)
        return LaunchPlan(chromium, ("--no-sandbox",), scrubbed, folder, "root")
    name = env.get(CAPTURE_USER_ENV) or "nobody"
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        account = None
    if account is None or account.pw_uid == 0 or not os.access(_SETPRIV, os.X_OK):
        raise CaptureError(
            "Rempart runs as root and cannot start Chromium as the unprivileged account "
            "{user} ({why}): set {user_env} to an existing unprivileged account, or run "
            "Rempart as an ordinary user; {root_env}=1 captures as root without Chromium's "
            "sandbox (not recommended, see docs/security.md)",
            user=name,
            why="no such account"
            if account is None
            else "root"
            if account.pw_uid == 0
            else f"{_SETPRIV} is missing",
            user_env=CAPTURE_USER_ENV,
            root_env=AS_ROOT_ENV,
        )
    os.chmod(folder, 0o711)  # noqa: S103 (the account may pass through, not list)
    profile = folder / "profile"
    for path in (home, profile):
        path.mkdir(mode=0o700)
        os.chown(path, account.pw_uid, account.pw_gid)
    wrapper = folder / "chromium-as-user"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# Written by Rempart: Chromium as an unprivileged account, with its own profile.\n"
        "for arg do\n"
        "  shift\n"
        '  case "$arg" in\n'
        f'    --user-data-dir=*) set -- "$@" {shlex.quote("--user-data-dir=" + str(profile))} ;;\n'
        '    *) set -- "$@" "$arg" ;;\n'
        "  esac\n"
        "done\n"
        f"exec {_SETPRIV} --reuid={account.pw_uid} --regid={account.pw_gid} --clear-groups "
        f'--inh-caps=-all --bounding-set=-all -- {shlex.quote(chromium)} "$@"\n',
        encoding="utf-8",
    )
    os.chmod(wrapper, 0o700)
    return LaunchPlan(str(wrapper), (), scrubbed, folder, name)


class Browser:
    """One Chromium, opened by `open_browser`, reused capture after capture.

    Playwright's sync API ties it to the thread that opened it, and captures run one at a
    time. Each gets its own context (`new_context`): a separate in-memory profile with its
    own cookie jar, cache, storage and connection pool, going through that capture's own
    proxy. Traffic outside a capture's context goes to a relay that refuses everything.
    Should Chromium die (or be stopped by the watchdog), the next context relaunches it.
    """

    def __init__(
        self, playwright: Playwright, executable: str, headless: bool, plan: LaunchPlan
    ) -> None:
        self.executable = executable
        self.plan = plan
        self._playwright = playwright
        self._headless = headless
        self._blocker = GuardedRelay(FetchPolicy(), refuse_all=True)
        self._blocker.start()
        self._chromium: _Chromium | None = None
        self._pid: int | None = None
        self.version = ""
        self.headless_user_agent = ""
        try:
            self._launch()
        except BaseException:
            self._blocker.close()
            raise

    @property
    def pid(self) -> int | None:
        """The process id of the running Chromium (None where it could not be read)."""
        return self._pid

    @property
    def user_agent(self) -> str:
        """The user agent captures send: Chromium's own, without the "Headless" mark that
        makes some sites serve a robot another page than a visitor gets."""
        return self.headless_user_agent.replace("HeadlessChrome/", "Chrome/")

    def new_context(
        self, *, proxy_server: str, viewport: Viewport, user_agent: str
    ) -> BrowserContext:
        """A fresh, isolated context going through `proxy_server` (loopback included).

        Certificate errors do not stop a capture (a site with a bad certificate still shows
        what it shows); recording.py records whether Chromium trusted each certificate.
        Service workers are blocked: they would serve later requests from their own cache.
        """
        try:
            return self._context(proxy_server, viewport, user_agent)
        except Error as exc:
            if (
                self._chromium is not None
                and self._chromium.is_connected()
                and ("has been closed" not in exc.message)
            ):
                raise CaptureError(
                    "the browser could not open a fresh context: {reason}",
                    reason=_first_line(exc.message),
                ) from None
        self._launch()  # Chromium died (or the watchdog stopped it): a new one, once
        try:
            return self._context(proxy_server, viewport, user_agent)
        except Error as exc:
            raise CaptureError(
                "the browser could not open a fresh context: {reason}",
                reason=_first_line(exc.message),
            ) from None

    def _context(self, proxy_server: str, viewport: Viewport, user_agent: str) -> BrowserContext:
        if self._chromium is None:
            raise Error("the browser has been closed")
        return self._chromium.new_context(
            proxy={"server": proxy_server},
            viewport={"width": viewport.width, "height": viewport.height},
            device_scale_factor=viewport.device_scale_factor,
            user_agent=user_agent,
            ignore_https_errors=True,
            service_workers="block",
            accept_downloads=False,
            java_script_enabled=True,
        )

    @contextmanager
    def watchdog(self, seconds: float) -> Iterator[Callable[[], bool]]:
        """Within the block, a page that hangs the browser (a script that never returns)
        cannot hang the capture: past `seconds`, this browser's renderer processes are
        killed, so that the pending browser call fails; should one still wait 10 s later,
        Chromium itself is killed (and relaunched for the next capture). Yields "has it
        fired?". Needs Linux's /proc to find the renderers.
        """
        fired = threading.Event()
        pid = self._pid

        def kill_renderers() -> None:
            fired.set()
            if pid is not None:
                _kill_renderers(pid)

        def kill_browser() -> None:
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

        timers = (
            threading.Timer(seconds, kill_renderers),
            threading.Timer(seconds + _BROWSER_KILL_AFTER_S, kill_browser),
        )
        for timer in timers:
            timer.daemon = True
            timer.start()
        try:
            yield fired.is_set
        finally:
            for timer in timers:
                timer.cancel()

    def close(self) -> None:
        try:
            if self._chromium is not None:
                with contextlib.suppress(Error):
                    self._chromium.close()
        finally:
            try:
                self._playwright.stop()
            finally:
                self._blocker.close()

    def _launch(self) -> None:
        if self._chromium is not None:
            with contextlib.suppress(Error):  # a dead one: let Playwright forget it
                self._chromium.close()
            self._chromium = None
        try:
            chromium = self._playwright.chromium.launch(
                executable_path=self.plan.executable,
                headless=self._headless,
                args=[*_ARGS, *self.plan.args],
                env=dict(self.plan.env),
                chromium_sandbox=True,
                # The browser-wide proxy refuses every connection: only captures' contexts,
                # each with its own relay, reach the network.
                proxy={"server": self._blocker.proxy_server},
                handle_sigint=False,
            )
        except Error as exc:
            raise CaptureError(
                "Chromium did not start: {reason}", reason=_first_line(exc.message)
            ) from None
        session = chromium.new_browser_cdp_session()
        try:
            self.headless_user_agent = str(session.send("Browser.getVersion")["userAgent"])
            processes = session.send("SystemInfo.getProcessInfo")["processInfo"]
        finally:
            session.detach()
        self._chromium = chromium
        self.version = chromium.version
        self._pid = next((int(p["id"]) for p in processes if p.get("type") == "browser"), None)


@contextmanager
def open_browser(
    executable_path: str | Path = DEFAULT_CHROMIUM,
    *,
    headless: bool = True,
    env: Mapping[str, str] | None = None,
) -> Iterator[Browser]:
    """Launch Chromium at `executable_path` (never downloading one) and close it on leaving
    the block; `env` (default: this process's) decides the launch (`launch_plan`) and is
    never passed on whole. Raises CaptureError when it cannot start."""
    executable = str(executable_path)
    if not Path(executable).is_file():
        raise CaptureError(
            "no Chromium at {path}: install Debian's chromium package", path=executable
        )
    folder = Path(tempfile.mkdtemp(prefix="rempart-browser-"))
    try:
        plan = launch_plan(executable, folder, headless=headless, env=env)
        playwright = sync_playwright().start()
        try:
            browser = Browser(playwright, executable, headless, plan)
        except BaseException:
            playwright.stop()
            raise
        try:
            yield browser
        finally:
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _kill_renderers(browser_pid: int) -> None:
    for pid in _descendants(browser_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # gone already
        if b"--type=renderer" in command:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _descendants(root: int) -> list[int]:
    """The processes under `root` (Chromium's renderers hang under its zygote)."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, pending = [], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _first_line(text: Any) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else "unknown error"
