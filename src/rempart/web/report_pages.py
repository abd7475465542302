"""The reports page: the trusted flagger's yearly report (DSA Art. 22(3)) and the removal
statistics, shown and downloaded as the CSV, charts and PDF `rempart report` writes; and a
case's complaint dossier, downloaded as a zip (`rempart dossier`). Thin: the figures are
rempart.takedown.reports', read by rempart.jobs.reports; the dossier is rempart.jobs.dossier's.
Reports span every case: for those who see every case. Every download is logged.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from rempart.accounts import access_log
from rempart.errors import RempartError
from rempart.web.access import acting_identity, require_all_cases, require_case
from rempart.web.service import Service, client_of, language_of, service_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_FIRST_YEAR = 2000


def _year(svc: Service, year: int | None) -> int:
    now = svc.clock().year
    if year is None:
        return now
    if not _FIRST_YEAR <= year <= now + 1:
        raise HTTPException(400)
    return year


def _downloaded(svc: Service, request: Request, who: str, what: str) -> None:
    access_log.record(
        svc.db,
        actor=who,
        action="download",
        outcome="ok",
        subject=what[:300],
        client=client_of(request),
        clock=svc.clock,
    )


def _zip(files: dict[str, bytes], name: str) -> Response:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            archive.writestr(path, data)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reports")
def reports_page(request: Request, year: int | None = None) -> Response:
    from rempart.intake.cases import list_cases
    from rempart.jobs.reports import load_notified, reuploads_by_provider
    from rempart.takedown.reports import flagger_report, removal_stats

    svc = service_of(request)
    session = svc.session(request)
    principal = session.principal
    chosen = _year(svc, year)
    cases = [c for c in list_cases(svc.db) if principal.may_see_case(c.id)]
    flagger = removals = None
    if principal.sees_all_cases:
        copies = load_notified(svc.db)
        flagger = flagger_report(copies, year=chosen, as_of=svc.clock())
        removals = removal_stats(copies, reuploads=reuploads_by_provider(svc.db), year=chosen)
    body = svc.render(
        request,
        "reports.html",
        session=session,
        year=chosen,
        flagger=flagger,
        removals=removals,
        cases=cases,
    )
    return HTMLResponse(body)


@router.get("/reports/flagger-{year}.zip")
def flagger_download(request: Request, year: int) -> Response:
    from rempart.i18n import Messages
    from rempart.jobs.reports import load_notified
    from rempart.takedown.report_files import write_flagger
    from rempart.takedown.reports import flagger_report

    svc = service_of(request)
    session = svc.session(request)
    require_all_cases(svc, request, session.principal, "report-download")
    chosen = _year(svc, year)
    report = flagger_report(load_notified(svc.db), year=chosen, as_of=svc.clock())
    with tempfile.TemporaryDirectory(prefix="rempart-report-") as folder:
        written = write_flagger(
            report,
            Path(folder) / "report",
            Messages(language_of(request)),
            organisation=svc.settings.core.identity.name,
        )
        files = {p.name: p.read_bytes() for p in written.paths}
    _downloaded(svc, request, session.principal.name, f"report:flagger-{chosen}")
    return _zip(files, f"flagger-{chosen}.zip")


@router.get("/reports/removals-{year}.zip")
def removals_download(request: Request, year: int) -> Response:
    from rempart.i18n import Messages
    from rempart.jobs.reports import load_notified, reuploads_by_provider
    from rempart.takedown.report_files import write_removals
    from rempart.takedown.reports import removal_stats

    svc = service_of(request)
    session = svc.session(request)
    require_all_cases(svc, request, session.principal, "report-download")
    chosen = _year(svc, year)
    stats = removal_stats(
        load_notified(svc.db), reuploads=reuploads_by_provider(svc.db), year=chosen
    )
    with tempfile.TemporaryDirectory(prefix="rempart-report-") as folder:
        written = write_removals(
            stats, Path(folder) / "report", Messages(language_of(request)), as_of=svc.clock()
        )
        files = {p.name: p.read_bytes() for p in written.paths}
    _downloaded(svc, request, session.principal.name, f"report:removals-{chosen}")
    return _zip(files, f"removals-{chosen}.zip")


@router.get("/reports/dossier/{case}.zip")
def dossier_download(request: Request, case: str) -> Response:
    """The case's complaint dossier (a PDF in the reader's language, the sealed bundles, their
    SHA-256 sums); its export is written to the case's custody log under the account."""
    from rempart.evidence.dossier import render_dossier
    from rempart.evidence.vault import Vault
    from rempart.jobs.dossier import build_dossier

    svc = service_of(request)
    session = svc.session(request)
    principal = session.principal
    require_case(svc, request, principal, case, action="dossier-download")
    lang = language_of(request)
    try:
        dossiers, bundles = build_dossier(
            svc.db,
            Vault.open(svc.settings.core.home),
            case,
            languages=[lang],
            identity=acting_identity(svc, principal),
            clock=svc.clock,
        )
    except RempartError as exc:
        body = svc.render(
            request, "error.html", status=400, message=exc.localized(lang), session=session
        )
        return HTMLResponse(body, status_code=400)
    files = {f"dossier-{case}-{d.language}.pdf": render_dossier(d) for d in dossiers}
    files.update({f"bundles/{name}": data for name, data in bundles.items()})
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode()
    _downloaded(svc, request, principal.name, f"dossier:{case}")
    return _zip(files, f"dossier-{case}.zip")
