"""What the routers share: documented error answers and tenant-scoped lookups."""

from __future__ import annotations

from typing import Any

from mediamix.api.errors import ApiError
from mediamix.api.schemas import ErrorBody
from mediamix.state.ids import InvalidNameError, check_id

__all__ = ["NOT_FOUND", "errors", "not_found", "valid_id"]

_DESCRIPTIONS = {
    400: "Bad request",
    401: "No key, or an unknown or revoked key",
    403: "The key lacks the scope of this operation",
    404: "No such object for this tenant (a missing id and another tenant's id look the same)",
    409: "Conflict with the object's state",
    413: "Request body or upload too large",
    422: "Invalid input: every problem with file, row and column",
    429: "Rate limit of the key, or the tenant's cap on active jobs (see Retry-After)",
    503: "Timeout or a busy resource (see Retry-After)",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses (every one an ErrorBody)."""
    base = {400, 401, 403, 413, 422, 429, 503}
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        for code in sorted(base | set(codes))
    }


NOT_FOUND = "not_found"


def not_found(kind: str) -> ApiError:
    """The one 404 of an object kind: the same body whether missing or foreign."""
    return ApiError(404, NOT_FOUND, f"no {kind} with this id")


def valid_id(value: str, kind: str) -> str:
    """``value`` if it is a well-formed id; a malformed id is simply not found."""
    try:
        return check_id(value)
    except InvalidNameError:
        raise not_found(kind) from None
