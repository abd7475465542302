"""The review queue as JSON, for tools a team builds around Rempart: the pending matches of
the cases an API token may see, and a decision on one. Bearer tokens (`rempart token create
NAME --role reviewer --case C`); the token's name is the actor in the custody log. The same
use cases as the pages and the CLI (jobs.review, jobs.review_queue); no picture is served here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from rempart.accounts.policy import Permission, Principal
from rempart.errors import Conflict, RempartError
from rempart.web.access import RowId, visible_finding
from rempart.web.api import _principal, bearer
from rempart.web.problems import REVIEW_ERRORS
from rempart.web.service import language_of, service_of

__all__ = ["Decision", "router"]

router = APIRouter(prefix="/api/v1", tags=["review"], responses=REVIEW_ERRORS)


def reviewer_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The token's Principal, if its role sees cases; else 401 or 403 (logged)."""
    from rempart.web.pages import _refuse

    principal = _principal(request, credentials)
    if not principal.may(Permission.VIEW_CASES):
        svc = service_of(request)
        raise _refuse(svc, request, principal.name, "api-review", "role sees no case")
    return principal


Caller = Annotated[Principal, Depends(reviewer_principal)]


class Decision(BaseModel):
    verdict: Literal["confirm", "reject"] = Field(description="confirm: a copy; reject: not.")
    note: str = Field(default="", max_length=2000, description="Required to reject.")


@router.get("/review", summary="The pending matches of the token's cases")
def pending_matches(request: Request, caller: Caller) -> dict[str, object]:
    """Oldest first, each with how it matched (in words) and who is reviewing it, if anyone."""
    from rempart.jobs.findings import describe_how
    from rempart.jobs.review import pending
    from rempart.jobs.review_queue import claims

    svc = service_of(request)
    lang = language_of(request)
    if caller.sees_all_cases:
        waiting = pending(svc.db)
    else:
        from rempart.intake.cases import list_cases

        names = [c.name for c in list_cases(svc.db) if caller.may_see_case(c.id)]
        waiting = sorted((v for n in names for v in pending(svc.db, case=n)), key=lambda v: v.id)
    held = claims(svc.db, [v.id for v in waiting], clock=svc.clock)
    return {
        "findings": [
            {
                **view.to_json(),
                "how": describe_how(view, lang=lang),
                "reviewing": {"by": held[view.id].holder, "until": held[view.id].expires_at}
                if view.id in held
                else None,
            }
            for view in waiting
        ]
    }


@router.post(
    "/findings/{finding_id}/decision",
    summary="Confirm or reject a pending match",
)
def decide(
    request: Request, finding_id: RowId, decision: Decision, caller: Caller
) -> dict[str, object]:
    from rempart.jobs import review
    from rempart.store.models import FindingStatus

    svc = service_of(request)
    visible_finding(svc, request, caller, finding_id, act=True)
    verdict = FindingStatus.CONFIRMED if decision.verdict == "confirm" else FindingStatus.REJECTED
    try:
        view = review.decide(
            svc.db,
            finding_id,
            verdict,
            actor=caller.name,
            note=decision.note.strip(),
            clock=svc.clock,
            pending_only=True,
        )
    except RempartError as exc:
        status = 409 if isinstance(exc, Conflict) else 400
        raise HTTPException(status, exc.localized(language_of(request))) from None
    return view.to_json()
