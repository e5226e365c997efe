"""The outermost layer of every request: request id, limits, headers, logs, metrics.

A plain ASGI middleware (not ``BaseHTTPMiddleware``) so that it sees exceptions
first: an unexpected one becomes a 500 naming the request id, with no traceback
or path in the body; the traceback goes to the log under the same id.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mediamix.api.context import ApiContext, request_id_var
from mediamix.api.errors import error_response

__all__ = ["SECURITY_HEADERS", "ServiceMiddleware"]

log = logging.getLogger("mediamix.api")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
    "strict-transport-security": "max-age=31536000",
}
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
UPLOAD_ROUTES = {("POST", "/v1/datasets")}


class _TooLargeError(Exception):
    pass


class ServiceMiddleware:
    """Wraps the app; see the module docstring."""

    def __init__(self, app: ASGIApp, ctx: ApiContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        rid = given if _CLIENT_ID.fullmatch(given) else secrets.token_hex(8)
        token = request_id_var.set(rid)
        settings = self.ctx.config.api
        method = scope["method"]
        upload = (method, scope["path"].rstrip("/")) in UPLOAD_ROUTES
        limit = settings.max_upload_bytes if upload else settings.max_body_bytes
        state: dict[str, Any] = {"status": 500, "started": False, "done": False}
        start = time.perf_counter()

        async def send_wrapped(message: Message) -> None:
            if state["done"]:
                return  # the middleware already answered (413)
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = message["status"]
                raw = [(k, v) for k, v in message.get("headers", [])]
                present = {k.decode("latin-1").lower() for k, _ in raw}
                for name, value in SECURITY_HEADERS.items():
                    if name not in present:
                        raw.append((name.encode(), value.encode()))
                raw.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": raw}
            await send(message)

        async def answer(status: int, code: str, message: str, **extra: str) -> None:
            response = error_response(status, code, message, headers=extra)
            await response(scope, receive, send_wrapped)
            state["done"] = True

        received = 0

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not state["started"]:
                        await answer(413, "too_large", f"request body over {limit} bytes")
                    raise _TooLargeError
            return message

        try:
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await answer(413, "too_large", f"request body over {limit} bytes")
                return
            await asyncio.wait_for(
                self.app(scope, receive_counted, send_wrapped), timeout=settings.request_timeout
            )
        except _TooLargeError:
            pass
        except TimeoutError:
            if not state["started"]:
                await answer(
                    503,
                    "timeout",
                    f"the request took longer than {settings.request_timeout:g} s",
                    **{"retry-after": "5"},
                )
        except Exception:
            log.exception("internal error", extra={"request_id": rid})
            if not state["started"]:
                await answer(
                    500,
                    "internal",
                    f"internal error; quote request id {rid} when reporting it",
                )
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.ctx.metrics.latency.labels(method, route, str(state["status"])).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": method,
                    "route": route,
                    "status": state["status"],
                    "duration_ms": round(elapsed * 1000, 2),
                    "key_id": (scope.get("state") or {}).get("key_id"),
                },
            )
            request_id_var.reset(token)
