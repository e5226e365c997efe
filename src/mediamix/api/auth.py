"""Authentication and authorization: deny by default, one dependency per scope.

A request needs ``Authorization: Bearer KEY`` (401 otherwise), the scope of the
operation (403), and a token from its key's rate-limit bucket (429 with
``Retry-After``). An authenticated key is remembered for
``MEDIAMIX_API_KEY_CACHE_SECONDS`` (:class:`~mediamix.api.cache.KeyCache`). Every
denial is written to the audit log with the key id (never the key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from mediamix.api.context import ApiContext, current_request_id
from mediamix.api.errors import ApiError
from mediamix.state.keys import ApiKey, authenticate

__all__ = ["REQUIRED_SCOPE", "Caller", "audit", "context", "require", "required_scope"]

REQUIRED_SCOPE = "x-required-scope"
"""OpenAPI extension naming each operation's scope (the authorization tests read it)."""

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `mediamix keys create`: `Authorization: Bearer mmx_...`.",
)


@dataclass(frozen=True)
class Caller:
    """The authenticated key behind a request."""

    key: ApiKey

    @property
    def tenant(self) -> str:
        """The tenant every object of the request must belong to."""
        return self.key.tenant


def context(request: Request) -> ApiContext:
    """The API process's context."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


def audit(
    ctx: ApiContext,
    action: str,
    outcome: str,
    *,
    caller: Caller | None = None,
    obj: str | None = None,
    tenant: str | None = None,
    key_id: str | None = None,
) -> None:
    """Append an event to the audit log, stamped with the request id."""
    ctx.store.audit.append(
        action=action,
        outcome=outcome,
        tenant=caller.tenant if caller else tenant,
        key_id=caller.key.key_id if caller else key_id,
        obj=obj,
        request_id=current_request_id(),
    )


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits only keys holding ``scope`` (or ``admin``)."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> Caller:
        # async, so an admitted request costs no trip through the thread pool: the
        # database and the audit log (blocking) are reached from worker threads only
        # on a cache miss or a denial
        ctx = context(request)
        action = f"{request.method} {_route(request)}"
        if credentials is None:
            await run_in_threadpool(audit, ctx, action, "denied: no key")
            raise ApiError(
                401,
                "unauthenticated",
                "an API key is required: Authorization: Bearer KEY",
                headers={"WWW-Authenticate": "Bearer"},
            )
        presented = credentials.credentials
        key = ctx.keys.get(presented)
        if key is None:
            key = await run_in_threadpool(authenticate, ctx.store.engine, presented)
            if key is None:
                await run_in_threadpool(audit, ctx, action, "denied: unknown or revoked key")
                raise ApiError(
                    401,
                    "unauthenticated",
                    "the API key is unknown or revoked",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            ctx.keys.put(presented, key)
        caller = Caller(key)
        request.state.key_id = key.key_id
        if not key.allows(scope):
            await run_in_threadpool(
                audit, ctx, action, f"denied: missing scope {scope}", caller=caller
            )
            raise ApiError(403, "forbidden", f"this key lacks the scope '{scope}'")
        wait = ctx.limiter.take(key.key_id)
        if wait:
            await run_in_threadpool(audit, ctx, action, "denied: rate limit", caller=caller)
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests for this key; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        return caller

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    setattr(dependency, REQUIRED_SCOPE, scope)
    return dependency


def required_scope(route: Any) -> str | None:
    """The scope a route's ``require`` dependency asks for (``None``: no key needed)."""
    stack = list(getattr(getattr(route, "dependant", None), "dependencies", []))
    while stack:
        dep = stack.pop()
        scope = getattr(dep.call, REQUIRED_SCOPE, None)
        if scope is not None:
            return str(scope)
        stack.extend(dep.dependencies)
    return None


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", request.url.path)
