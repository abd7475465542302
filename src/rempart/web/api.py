"""The JSON API for platforms and partners: `POST /api/v1/match` (batches of PDQ hashes, file
digests, video frame hashes) and `GET /api/v1/banks`, authenticated by bearer tokens and
limited to the banks each token may see. Matching is the CLI's Matcher, nothing else.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AliasChoices, BaseModel, Field

from rempart.accounts import access_log
from rempart.accounts.policy import AccessError, Permission, Principal
from rempart.accounts.tokens import ScopedBanks
from rempart.errors import InputError
from rempart.i18n import gettext
from rempart.web.problems import API_ERRORS
from rempart.web.service import client_of, language_of, service_of

__all__ = ["MatchRequest", "MatchResponse", "bearer", "matcher_principal", "router"]

router = APIRouter(prefix="/api/v1", tags=["matching"], responses=API_ERRORS)
bearer = HTTPBearer(auto_error=False, description="An API token from `rempart token create`.")
MAX_INPUTS = 1000
MAX_FRAMES = 10_000


def _principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    svc = service_of(request)
    action = f"api {request.method} {request.url.path}"[:40]
    try:
        return svc.callers.principal(
            credentials.credentials if credentials else None,
            action=action,
            client=client_of(request),
        )
    except AccessError as exc:
        raise HTTPException(
            401, exc.localized(language_of(request)), headers={"WWW-Authenticate": "Bearer"}
        ) from None


def matcher_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The token's Principal, if it may use the match API; else 401 or 403 (logged)."""
    principal = _principal(request, credentials)
    if not principal.may(Permission.MATCH):
        svc = service_of(request)
        access_log.record(
            svc.db,
            actor=principal.name,
            action="api-match",
            outcome="denied",
            subject=request.url.path,
            client=client_of(request),
            detail=f"role {principal.role.value} may not match",
            clock=svc.clock,
        )
        raise HTTPException(
            403,
            gettext("this token may not use the match API", lang=language_of(request)),
        )
    return principal


Caller = Annotated[Principal, Depends(matcher_principal)]


class Frame(BaseModel):
    t: float = Field(
        ge=0,
        le=1e7,
        validation_alias=AliasChoices("t", "at_s"),
        description="The frame's time in the video, in seconds (`at_s`, as `rempart hash "
        "--json` writes it, is taken too).",
    )
    pdq: str = Field(max_length=64, description="The frame's PDQ hash, 64 hexadecimal digits.")
    quality: int | None = Field(default=None, ge=0, le=100)


class MatchInput(BaseModel):
    """One file: a picture's PDQ hash or a video's frame hashes, and its exact digests
    (SHA-256 and MD5 as `rempart hash --json` prints them, or either one alone)."""

    id: str | None = Field(default=None, max_length=200, description="Echoed back as given.")
    pdq: str | None = Field(default=None, max_length=64)
    quality: int | None = Field(default=None, ge=0, le=100)
    sha256: str | None = Field(default=None, max_length=64)
    md5: str | None = Field(default=None, max_length=32)
    frames: list[Frame] | None = Field(default=None, max_length=MAX_FRAMES)


class MatchRequest(BaseModel):
    inputs: list[MatchInput] = Field(min_length=1, max_length=MAX_INPUTS)


class MatchOut(BaseModel):
    bank: str
    item: int
    distance: int
    method: str = Field(description="pdq, sha256 or md5")
    threshold: int
    video: dict[str, Any] | None = Field(
        default=None,
        description="For video frames: where on the query's timeline (query_ranges, seconds) "
        "and, for a protected video, on its own (item_ranges) the match lies.",
    )


class InputResult(BaseModel):
    id: str | None
    matches: list[MatchOut] = Field(description="Matches in the banks this token may see.")
    allowed: bool = Field(
        default=False,
        description="The input also matched an allow bank (content known to be fine): its "
        "matches are cancelled and not listed.",
    )
    below_quality_gate: list[str] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why this input could not be matched.")


class MatchResponse(BaseModel):
    results: list[InputResult]


class BanksResponse(BaseModel):
    banks: list[str]


def _query(given: MatchInput) -> object:
    """The Matcher query for one input; InputError when its values are not valid."""
    from rempart.hashing.signals import Digest, Dihedral, LoneDigest, PdqHash, PdqSignal
    from rempart.matching.service import FRAME, Query, QuerySignal

    if given.frames and given.pdq is not None:
        raise InputError("an input is either a video's frames or a picture's hash, not both")
    digest = None
    lone = None
    if given.sha256 is not None and given.md5 is not None:
        digest = Digest(given.sha256.lower(), given.md5.lower())
    elif given.sha256 is not None:
        lone = LoneDigest("sha256", given.sha256.lower())
    elif given.md5 is not None:
        lone = LoneDigest("md5", given.md5.lower())
    if given.frames:
        signals = tuple(
            QuerySignal(
                FRAME,
                Dihedral.ORIGINAL,
                PdqSignal(PdqHash.from_hex(f.pdq), 100 if f.quality is None else f.quality),
                at_s=f.t,
            )
            for f in sorted(given.frames, key=lambda f: f.t)
        )
        return Query(signals, digest, lone_digest=lone)
    if given.pdq is not None:
        query = Query.from_hash(PdqHash.from_hex(given.pdq), given.quality)
        return Query(query.signals, digest, query.quality_known, lone_digest=lone)
    if digest is None and lone is None:
        raise InputError("an input needs a pdq hash, its digests, or frames")
    return Query((), digest, lone_digest=lone)


def match_inputs(
    request: Request, inputs: list[MatchInput], scope: ScopedBanks
) -> list[InputResult]:
    """Match each valid input against the caller's banks (and every allow bank); an invalid
    input gets its error and the others are matched all the same."""
    from rempart.matching.service import Query

    lang = language_of(request)
    queries: list[Query] = []
    where: list[int] = []
    results = [InputResult(id=i.id, matches=[]) for i in inputs]
    for n, given in enumerate(inputs):
        try:
            query = _query(given)
        except InputError as exc:
            results[n].error = exc.localized(lang)
            continue
        assert isinstance(query, Query)
        queries.append(query)
        where.append(n)
    if queries and scope.visible:
        found = service_of(request).match(queries, set(scope.visible | scope.allow))
        for n, result in zip(where, found, strict=True):
            results[n].matches = [
                MatchOut(
                    bank=m.bank,
                    item=m.item,
                    distance=m.distance,
                    method=m.method,
                    threshold=m.threshold,
                    video=dict(m.detail) or None,
                )
                for m in result.matches
                if m.bank in scope.visible
            ]
            results[n].allowed = bool(result.allowed_by)
            results[n].below_quality_gate = sorted(
                b for b in result.below_quality_gate if b in scope.visible
            )
    return results


@router.post("/match", response_model=MatchResponse, summary="Match hashes against the banks")
def match(request: Request, body: MatchRequest, caller: Caller) -> MatchResponse:
    """Up to 1,000 inputs per request; each is answered in order, with the matches found in
    the banks this token may see. An item added is matched within half a second; a withdrawn
    one is never answered once withdrawn."""
    scope = service_of(request).callers.scope(caller)
    return MatchResponse(results=match_inputs(request, body.inputs, scope))


@router.get("/banks", response_model=BanksResponse, summary="The banks this token may see")
def banks(request: Request, caller: Caller) -> BanksResponse:
    scope = service_of(request).callers.scope(caller)
    return BanksResponse(banks=sorted(scope.visible))
