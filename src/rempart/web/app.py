"""Builds the web application: FastAPI with the pages, the JSON API and the HMA-compatible
lookups, the static files (served from the package: no CDN), the error pages, and the Guard
around it all. `app_from_env` is what uvicorn's workers call.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from rempart import __version__
from rempart.clock import Clock, utc_now
from rempart.i18n import N_, gettext
from rempart.store.database import Database
from rempart.web.guard import Guard
from rempart.web.ratelimit import Buckets
from rempart.web.service import NotSignedIn, Service, language_of
from rempart.web.settings import WebSettings

__all__ = ["app_from_env", "create_app", "server_options"]

_HERE = Path(__file__).parent
_API_PREFIXES = ("/api/", "/m/")
_REASONS = {
    400: N_("The request is not valid."),
    401: N_("Sign in first."),
    403: N_("You are not allowed to see this page."),
    404: N_("There is no such page."),
    405: N_("This page cannot be used that way."),
}
_OTHER = N_("The request could not be served.")
# Details FastAPI itself writes (in English only): answered with the localized reason instead.
_FRAMEWORK_DETAILS = frozenset({"There was an error parsing the body"})


def create_app(
    settings: WebSettings, *, db: Database | None = None, clock: Clock = utc_now
) -> Guard:
    """The application, ready for an ASGI server. Opens (and migrates) the database."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    database = db or Database.open(settings.core.database_url)
    templates = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    service = Service(settings, database, clock, templates)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(service.load_banks)  # before this worker takes requests
        yield

    api = FastAPI(
        lifespan=lifespan,
        title="Rempart",
        version=__version__,
        description="The match API for platforms and partners, and HMA-compatible lookups.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.service = service

    from rempart.web import api as api_routes
    from rempart.web import (
        evidence_pages,
        hma,
        media,
        notice_pages,
        pages,
        report_pages,
        review_api,
        review_pages,
        settings_pages,
        source_pages,
    )

    api.include_router(pages.router)
    api.include_router(review_pages.router)
    api.include_router(media.router)
    api.include_router(evidence_pages.router)
    api.include_router(notice_pages.router)
    api.include_router(source_pages.router)
    api.include_router(report_pages.router)
    api.include_router(settings_pages.router)
    api.include_router(review_api.router)
    api.include_router(api_routes.router)
    api.include_router(hma.router)
    api.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

    @api.get("/intake", include_in_schema=False)
    def intake_page() -> Response:
        """The victim's offline hashing page (docs/intake-page.md), sealing to the
        association's intake key when it has one."""
        from rempart.intake.offline_page import served_page
        from rempart.intake.sealing import PUBLIC_NAME, read_public_key

        key_file = settings.core.home / "intake" / PUBLIC_NAME
        public = read_public_key(key_file) if key_file.exists() else None
        page, csp = served_page(public)
        return HTMLResponse(page, headers={"content-security-policy": csp})

    @api.exception_handler(NotSignedIn)
    async def to_sign_in(request: Request, exc: NotSignedIn) -> Response:
        from starlette.concurrency import run_in_threadpool

        from rempart.accounts import access_log
        from rempart.web.service import client_of

        await run_in_threadpool(
            access_log.record,
            api.state.service.db,
            actor="-",
            action="page",
            outcome="denied",
            subject=request.url.path[:300],
            client=client_of(request),
            detail="not signed in",
            clock=clock,
        )
        return RedirectResponse("/login", status_code=303)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307) and exc.headers:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return _error(request, exc.status_code, exc.detail, exc.headers)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        lang = language_of(request)
        if request.url.path.startswith(_API_PREFIXES):
            errors = [
                {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
                for e in exc.errors()
            ][:50]
            status = 400 if request.url.path.startswith("/m/") else 422
            message = gettext("The request is not valid.", lang=lang)
            return JSONResponse({"message": message, "errors": errors}, status_code=status)
        return _error(request, 400, None, None)

    buckets = Buckets(settings.rate, settings.burst, now=time.monotonic)
    return Guard(api, max_body=settings.max_body, buckets=buckets, language=settings.language)


def _error(
    request: Request, status: int, detail: object, headers: Mapping[str, str] | None
) -> Response:
    lang = language_of(request)
    generic = gettext(_REASONS.get(status, _OTHER), lang=lang)
    if request.url.path.startswith(_API_PREFIXES):
        own = isinstance(detail, str) and detail and detail != _phrase(status)
        text = detail if own and detail not in _FRAMEWORK_DETAILS else generic
        return JSONResponse({"message": text}, status_code=status, headers=headers)
    svc = request.app.state.service
    body = svc.render(request, "error.html", status=status, message=generic, session=None)
    return HTMLResponse(body, status_code=status, headers=headers)


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def server_options(settings: WebSettings) -> dict[str, object]:
    """How uvicorn serves the application: forwarded headers believed only from the trusted
    proxies (then the client's address and scheme are the ones the proxy saw)."""
    return {
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
        "server_header": False,
        "date_header": True,
    }


def app_from_env() -> Guard:
    """The application configured from the environment (uvicorn's factory, in each worker)."""
    return create_app(WebSettings.from_env())
