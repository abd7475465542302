"""A finding's held copy, to signed-in accounts that may see its case: blurred (a small,
strongly blurred PNG) unless the page carries a reveal grant, given only after the caseworker
confirmed she wants to see it; every look logged in the case's custody log with the account
(jobs.review.look). Never cached (the Guard sends no-store); re-encoded, never the raw bytes
of an image; a video only once revealed.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from rempart.errors import EvidenceError, ImageDecodeError, NotFound
from rempart.web.access import RowId, vault_of, visible_finding
from rempart.web.pages import _refuse
from rempart.web.service import service_of

__all__ = ["GRANT_TIME", "grant_valid", "make_grant", "router"]

router = APIRouter(include_in_schema=False)

GRANT_TIME = timedelta(minutes=10)  # how long a confirmed reveal lets the page load the copy
_BLURRED_SIDE = 256
_CLEAR_SIDE = 4096


def _mac(secret: str, finding_id: int, until: int) -> str:
    message = f"reveal:{finding_id}:{until}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def make_grant(secret: str, finding_id: int, now: datetime) -> str:
    """A reveal grant for one finding, tied to the session (its CSRF secret), lapsing."""
    until = int((now + GRANT_TIME).timestamp())
    return f"{until}.{_mac(secret, finding_id, until)}"


def grant_valid(secret: str, finding_id: int, grant: str, now: datetime) -> bool:
    until_text, _, mac = grant.partition(".")
    if not until_text.isdigit() or len(until_text) > 12:
        return False
    until = int(until_text)
    return until > now.timestamp() and hmac.compare_digest(mac, _mac(secret, finding_id, until))


def _video_type(data: bytes) -> str:
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return "application/octet-stream"


@router.get("/findings/{finding_id}/media")
def media(request: Request, finding_id: RowId, clear: str = "") -> Response:
    from rempart.evidence.blur import thumbnail_png
    from rempart.jobs import review

    svc = service_of(request)
    session = svc.session(request)
    view = visible_finding(svc, request, session.principal, finding_id)
    actor = session.principal.name
    unblurred = bool(clear)
    if unblurred and not grant_valid(session.csrf, finding_id, clear[:200], svc.clock()):
        raise _refuse(svc, request, actor, "finding-look", "no valid reveal grant")
    if view.media == "video" and not unblurred:
        raise HTTPException(404)  # a video is not shown blurred: only once revealed
    try:
        seen = review.look(
            svc.db, vault_of(request), finding_id, actor=actor, clear=unblurred, clock=svc.clock
        )
    except (NotFound, EvidenceError):
        raise HTTPException(404) from None
    if view.media == "video":
        return Response(seen.data, media_type=_video_type(seen.data))
    try:
        side = _CLEAR_SIDE if unblurred else _BLURRED_SIDE
        png = thumbnail_png(seen.data, max_side=side, blur=not unblurred)
    except ImageDecodeError:
        raise HTTPException(404) from None
    return Response(png, media_type="image/png", headers={"content-disposition": "inline"})
