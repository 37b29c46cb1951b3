"""The outermost ASGI layer of an emulator: request counters, rate limit and faults around its routes.

It is plain ASGI (not Starlette's BaseHTTPMiddleware) because it runs on every request, and because
dropping a connection needs uvicorn's own `send`, which only the outermost layer receives.
`/__emulator/` requests skip all of it. Each emulator subclasses it with what its API does before
a request reaches a route (where the API lives, who the caller is) and how it words its errors.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.emulation.controls import Controls
from sandbox.emulation.faults import Fault

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

ADMIN_PREFIX = "/__emulator"
Route = tuple[re.Pattern[str], frozenset[str], str]


@dataclass(frozen=True, slots=True)
class Reply:
    """A response the layer sends itself, without calling the routes."""

    status: int
    body: bytes
    content_type: bytes
    headers: Headers = field(default_factory=list)


class ServingMiddleware:
    def __init__(self, app: ASGIApp, controls: Controls, routes: list[Route]) -> None:
        self.app = app
        self.controls = controls
        self.routes = routes

    # -- what each emulator says -----------------------------------------------------------------

    def local_path(self, scope: Scope) -> str | None:
        """The request's path as the routes see it (scope rewritten to it); None when outside the API."""
        return scope["path"]

    def outside(self) -> Reply:
        """The answer to a request outside the API."""
        raise NotImplementedError

    def admit(self, scope: Scope) -> Reply | str:
        """A refusal (bad credentials), or the key of the caller's rate-limit bucket."""
        raise NotImplementedError

    def too_many_requests(self, headers: Headers) -> Reply:
        """The 429 answer, with the rate-limit `headers`."""
        raise NotImplementedError

    def injected_error(self, status: int, headers: Headers) -> Reply:
        """The answer of an injected error `status`."""
        raise NotImplementedError

    # -- the layer -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path = self.local_path(scope)
        route = self._route(method, path) if path is not None else "(outside the API)"
        status = await self._serve(scope, receive, send, method, path)
        self.controls.counters.record(method, route, status)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, method: str, path: str | None) -> int:
        """Answer one API request; returns the status sent (0 when the connection was dropped)."""
        if path is None:
            return await send_reply(send, self.outside())
        admitted = self.admit(scope)
        if isinstance(admitted, Reply):
            return await send_reply(send, admitted)
        extra: Headers = []
        limiter = self.controls.limiter
        if limiter is not None:
            decision = limiter.take(admitted)
            extra = decision.headers
            if not decision.allowed:
                return await send_reply(send, self.too_many_requests(extra))
        faults = self.controls.faults
        fault = faults.decide(method, path) if faults else None
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.kind is not None and not fault.after:
            return await self._inject(fault, send, extra)

        sent = 0
        swallow = fault is not None and fault.kind is not None

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            nonlocal sent
            if message["type"] == "http.response.start":
                sent = message["status"]
                if extra:
                    message = {**message, "headers": [*message.get("headers", ()), *extra]}
            if not swallow:
                await send(message)

        await self.app(scope, receive, send_with_headers)
        if swallow:
            return await self._inject(fault, send, extra)
        return sent

    def _route(self, method: str, path: str) -> str:
        for pattern, methods, template in self.routes:
            if method in methods and pattern.match(path):
                return template
        return "(unmatched)"

    async def _inject(self, fault: Fault, send: Send, extra: Headers) -> int:
        if fault.kind == "drop":
            await drop_connection(send)
            return 0
        if fault.kind == "burst_429":
            headers = [(name, value) for name, value in extra if name != b"retry-after"]
            headers.append((b"retry-after", str(fault.retry_after).encode()))
            return await send_reply(send, self.too_many_requests(headers))
        return await send_reply(send, self.injected_error(fault.status, extra))


async def drop_connection(send: Send) -> None:
    """Close the connection without a response, as a crashed proxy or server would.

    uvicorn's `send` is a bound method of its request cycle, which holds the socket's transport.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs uvicorn's send (is the middleware outermost?)")
    transport.close()
    # Let uvicorn see the connection go, so that it does not answer the request with a 500.
    for _ in range(10):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)


async def send_reply(send: Send, reply: Reply) -> int:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [
                (b"content-type", reply.content_type),
                (b"content-length", str(len(reply.body)).encode()),
                *reply.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply.body})
    return reply.status
