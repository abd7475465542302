"""What the routers share: the database, the settings, the clock, the page templates and this
process's Matcher (banks loaded once, then kept current from the change log), and the helpers
that read who is calling. One per application; built by `create_app`, never at import.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from rempart.accounts.sessions import FULL, Current, current
from rempart.clock import Clock
from rempart.i18n import gettext, ngettext
from rempart.store.database import Database
from rempart.web.callers import Callers
from rempart.web.language import COOKIE, choose
from rempart.web.settings import WebSettings

if TYPE_CHECKING:
    from jinja2 import Environment

    from rempart.matching.service import Matcher, Query, QueryResult

__all__ = ["SESSION_COOKIE", "NotSignedIn", "Service", "client_of", "language_of", "service_of"]

SESSION_COOKIE = "rempart_session"
PRE_COOKIE = "rempart_pre"  # the sign-in form's CSRF (double submit: no session yet)


class NotSignedIn(Exception):
    """A page needs a signed-in account: the handler sends the browser to the sign-in page."""


@dataclass
class Service:
    settings: WebSettings
    db: Database
    clock: Clock
    templates: Environment
    callers: Callers = field(init=False)
    _matcher: Matcher | None = None
    _refreshed_at: float = float("-inf")  # monotonic seconds
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.callers = Callers(self.db, self.clock, self.settings.fresh_s)

    def load_banks(self) -> None:
        """Load every bank now (at start-up: the first request need not wait for it)."""
        with self._lock:
            self._current()

    def match(self, queries: list[Query], banks: set[str]) -> list[QueryResult]:
        """The CLI's Matcher, one per process, used by one request at a time. It follows the
        banks' change log at most every `fresh_s` seconds, so an added item is matched within
        that time; a withdrawn one is never answered once withdrawn (each hit is checked
        against the store)."""
        from rempart.errors import NotFound

        with self._lock:
            matcher = self._current()
            if banks - matcher.bank_names():  # a bank this process has not loaded yet
                self._refresh(matcher)
            known = banks & matcher.bank_names()
            try:
                return (
                    matcher.match(queries, banks=known, refresh=False) if known else _none(queries)
                )
            except NotFound:  # a bank deleted meanwhile: forget it, and try once more
                self._refresh(matcher)
                known = banks & matcher.bank_names()
                return (
                    matcher.match(queries, banks=known, refresh=False) if known else _none(queries)
                )

    def _current(self) -> Matcher:
        """This process's Matcher, following the change log if it was last read `fresh_s`
        ago or more (the caller holds the lock)."""
        if self._matcher is None:
            from rempart.matching.service import Matcher

            self._matcher = Matcher(self.db)
        if time.monotonic() - self._refreshed_at >= self.settings.fresh_s:
            self._refresh(self._matcher)
        return self._matcher

    def _refresh(self, matcher: Matcher) -> None:
        matcher.refresh()
        self._refreshed_at = time.monotonic()

    def render(self, request: Request, template: str, **values: object) -> str:
        lang = language_of(request)
        return self.templates.get_template(template).render(
            lang=lang,
            _=lambda msgid, **v: gettext(msgid, lang=lang, **v),
            ngettext=lambda s, p, n, **v: ngettext(s, p, n, lang=lang, **v),
            path=request.url.path,
            **values,
        )

    def session(self, request: Request) -> Current:
        """The signed-in account behind the request's cookie, or NotSignedIn."""
        found = current(
            self.db,
            request.cookies.get(SESSION_COOKIE),
            clock=self.clock,
            rule=self.settings.sessions,
        )
        if found is None or found.stage != FULL:
            raise NotSignedIn
        return found

    def secure(self, request: Request) -> bool:
        return self.settings.secure_cookies == "always" or request.url.scheme == "https"


def _none(queries: list[Query]) -> list[QueryResult]:
    """No match for any query (the caller sees no bank)."""
    from rempart.matching.service import QueryResult

    return [QueryResult() for _ in queries]


def service_of(request: Request) -> Service:
    found: Service = request.app.state.service
    return found


def language_of(request: Request) -> str:
    default = service_of(request).settings.language
    return choose(request.cookies.get(COOKIE), request.headers.get("accept-language"), default)


def client_of(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else ""
