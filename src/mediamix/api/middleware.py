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
UPLOAD_ROUTES = {("POST", "/v1/datasets"), ("POST", "/v1/attribution")}


class _TooLargeError(Exception):
    pass


class _Exchange:
    """One request/response as the middleware sees it: limits, headers, status."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, rid: str, limit: int) -> None:
        self.scope, self._receive, self._send = scope, receive, send
        self.rid, self.limit = rid, limit
        self.status = 500
        self.started = False
        self.done = False  # the middleware answered itself; drop the app's messages
        self.received = 0

    async def send(self, message: Message) -> None:
        if self.done:
            return
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            raw = list(message.get("headers", []))
            present = {k.decode("latin-1").lower() for k, _ in raw}
            raw += [
                (k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k not in present
            ]
            raw.append((b"x-request-id", self.rid.encode()))
            message = {**message, "headers": raw}
        await self._send(message)

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                await self.answer(413, "too_large", f"request body over {self.limit} bytes")
                raise _TooLargeError
        return message

    async def answer(self, status: int, code: str, message: str, **headers: str) -> None:
        if self.started:
            return
        response = error_response(status, code, message, headers=headers)
        await response(self.scope, self._receive, self.send)
        self.done = True


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
        upload = (scope["method"], scope["path"].rstrip("/")) in UPLOAD_ROUTES
        limit = settings.max_upload_bytes if upload else settings.max_body_bytes
        exchange = _Exchange(scope, receive, send, rid, limit)
        start = time.perf_counter()
        try:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                await exchange.answer(413, "too_large", f"request body over {limit} bytes")
            else:
                await self._run(exchange, settings.request_timeout)
        finally:
            self._record(exchange, time.perf_counter() - start)
            request_id_var.reset(token)

    async def _run(self, exchange: _Exchange, timeout: float) -> None:
        try:
            await asyncio.wait_for(
                self.app(exchange.scope, exchange.receive, exchange.send), timeout=timeout
            )
        except _TooLargeError:
            pass
        except TimeoutError:
            await exchange.answer(
                503,
                "timeout",
                f"the request took longer than {timeout:g} s",
                **{"retry-after": "5"},
            )
        except Exception:
            log.exception("internal error", extra={"request_id": exchange.rid})
            await exchange.answer(
                500,
                "internal",
                f"internal error; quote request id {exchange.rid} when reporting it",
            )

    def _record(self, exchange: _Exchange, elapsed: float) -> None:
        scope = exchange.scope
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"]
        self.ctx.metrics.latency.labels(method, route, str(exchange.status)).observe(elapsed)
        log.info(
            "request",
            extra={
                "request_id": exchange.rid,
                "method": method,
                "route": route,
                "status": exchange.status,
                "duration_ms": round(elapsed * 1000, 2),
                "key_id": (scope.get("state") or {}).get("key_id"),
                # the caller's address and scheme: from a trusted proxy's forwarded
                # headers (serve --trusted-proxy), else the connection's own
                "client": (scope.get("client") or (None,))[0],
                "scheme": scope.get("scheme"),
            },
        )
