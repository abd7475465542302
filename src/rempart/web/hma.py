"""Lookups shaped like Meta's hasher-matcher-actioner (HMA) matching API, so that its users
switch without rewriting their client: `GET /m/raw_lookup` and `GET /m/lookup` with
`signal_type=pdq&signal=HEX`, optional `banks=A,B`. Same answers as HMA's:
raw_lookup `{"matches": [content ids]}` (or `[{"bank_content_id", "distance"}]` with
`include_distance=true`), lookup `{"BANK": [{"bank_content_id", "distance"}]}`, errors
`{"message": "..."}` with status 400. Content ids are Rempart item ids; distances are strings,
as in HMA. Matching is the CLI's Matcher, limited to the token's banks.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from rempart.errors import InvalidHash
from rempart.i18n import gettext
from rempart.web.api import Caller
from rempart.web.problems import HMA_ERRORS
from rempart.web.service import language_of, service_of

__all__ = ["router"]

router = APIRouter(prefix="/m", tags=["hma-compatible"], responses=HMA_ERRORS)
SIGNAL_TYPES = ("pdq",)
# Documented strictly (what a client should send); the handlers give a clear 400 otherwise.
SignalType = Annotated[
    str, Query(description="The hash's kind: only pdq.", json_schema_extra={"enum": ["pdq"]})
]
Signal = Annotated[
    str,
    Query(
        description="The PDQ hash, 64 hexadecimal digits.",
        json_schema_extra={"pattern": "^[0-9a-fA-F]{64}$"},
    ),
]


class MatchWithDistance(BaseModel):
    bank_content_id: int = Field(description="The matched item's id.")
    distance: str = Field(description="The Hamming distance, as text (as HMA writes it).")


class RawLookupResponse(BaseModel):
    matches: list[int | MatchWithDistance]


def _lookup(
    request: Request, caller: object, signal_type: str, signal: str, banks: str | None
) -> dict[str, list[MatchWithDistance]]:
    from rempart.accounts.policy import Principal
    from rempart.hashing.signals import PdqHash
    from rempart.matching.service import Query

    assert isinstance(caller, Principal)
    lang = language_of(request)
    if signal_type not in SIGNAL_TYPES:
        raise HTTPException(
            400,
            gettext(
                "No such SignalType '{name}' (this service knows: pdq)",
                lang=lang,
                name=signal_type[:40],
            ),
        )
    try:
        pdq = PdqHash.from_hex(signal.strip())
    except InvalidHash as exc:
        raise HTTPException(
            400, gettext("invalid signal: {why}", lang=lang, why=exc.localized(lang))
        ) from None
    scope = service_of(request).callers.scope(caller)
    visible = set(scope.visible)
    if banks:
        visible &= {b.strip() for b in banks.split(",")}
    if not visible:
        return {}
    (result,) = service_of(request).match([Query.from_hash(pdq)], visible | set(scope.allow))
    found: dict[str, list[MatchWithDistance]] = {}
    for m in result.matches:
        if m.bank in visible:
            found.setdefault(m.bank, []).append(
                MatchWithDistance(bank_content_id=m.item, distance=str(m.distance))
            )
    return found


@router.get("/raw_lookup", response_model=RawLookupResponse, summary="Raw hash lookup (HMA)")
def raw_lookup(
    request: Request,
    caller: Caller,
    signal_type: SignalType,
    signal: Signal,
    banks: str | None = None,
    include_distance: bool = False,
) -> RawLookupResponse:
    found = _lookup(request, caller, signal_type, signal, banks)
    flat = [m for matches in found.values() for m in matches]
    if include_distance:
        return RawLookupResponse(matches=list(flat))
    return RawLookupResponse(matches=[m.bank_content_id for m in flat])


@router.get(
    "/lookup",
    response_model=dict[str, list[MatchWithDistance]],
    summary="Lookup by hash (HMA): matches by bank",
)
def lookup(
    request: Request,
    caller: Caller,
    signal_type: SignalType | None = None,
    signal: Signal | None = None,
    url: str | None = None,
    banks: str | None = None,
) -> dict[str, list[MatchWithDistance]]:
    lang = language_of(request)
    if url is not None and not (signal and signal_type):
        raise HTTPException(
            400,
            gettext("this service never fetches content: send signal_type and signal", lang=lang),
        )
    if not signal or not signal_type:
        raise HTTPException(
            400, gettext("Either url or both signal and signal_type are required", lang=lang)
        )
    return _lookup(request, caller, signal_type, signal, banks)
