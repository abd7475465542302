"""How the JSON API and the HMA-compatible lookups answer a refused request, as documented in
the OpenAPI description: `{"message": "..."}`, with `errors` (what was wrong, field by field)
when the request did not fit its schema. The status codes each router may answer besides 200.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["API_ERRORS", "HMA_ERRORS", "REVIEW_ERRORS", "FieldError", "Problem"]


class FieldError(BaseModel):
    loc: list[str] = Field(description="Where in the request: body, query, then field names.")
    msg: str


class Problem(BaseModel):
    message: str = Field(description="Why the request was refused, in the caller's language.")
    errors: list[FieldError] | None = Field(
        default=None, description="For a request that does not fit its schema: what is wrong."
    )


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


_COMMON: dict[int | str, dict[str, Any]] = {
    401: _problem("No token, or an unknown, expired or revoked one (`WWW-Authenticate: Bearer`)."),
    403: _problem("The token's role may not use the match API."),
    413: _problem("The request body is larger than the limit (1 MiB by default)."),
    429: _problem("Too many requests from this token or address (`Retry-After` says when)."),
}
API_ERRORS: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    400: _problem("The body is not JSON."),
    422: _problem("The request does not fit its schema (`errors` says where)."),
}
HMA_ERRORS: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    400: _problem(
        "An unknown signal type, a signal that is not a PDQ hash, or missing parameters."
    ),
}
REVIEW_ERRORS: dict[int | str, dict[str, Any]] = {
    **_COMMON,
    400: _problem("The body is not JSON, or the decision is refused as given (a reason missing)."),
    403: _problem("The token's role sees no case, may not act, or the case is not in its scope."),
    409: _problem("Someone else is reviewing this match, or decided it meanwhile."),
    422: _problem("The request does not fit its schema (`errors` says where)."),
}
