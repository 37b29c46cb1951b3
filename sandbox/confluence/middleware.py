"""The outermost ASGI layer: context path, authentication, rate limit, faults and request counters.

It is plain ASGI (not Starlette's BaseHTTPMiddleware) because it runs on every request, and because
dropping a connection needs uvicorn's own `send`, which only the outermost layer receives.
`/__emulator/` requests skip all of it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sandbox.confluence.emulator import Emulator
from sandbox.confluence.errors import rest_error
from sandbox.confluence.faults import Fault
from sandbox.confluence.ratelimit import HTML_429
from sandbox.confluence.state import User
from sandbox.confluence.views import encode_json

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ADMIN_PREFIX = "/__emulator"
CALLER = "confluence.caller"  # scope key: the authenticated User, or None for anonymous
Route = tuple[re.Pattern[str], frozenset[str], str]


class Refused(Exception):
    """Basic credentials that match no active user: Confluence answers 401."""


class EmulatorMiddleware:
    def __init__(self, app: ASGIApp, emulator: Emulator, routes: list[Route]) -> None:
        self.app = app
        self.emulator = emulator
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        emulator = self.emulator
        method: str = scope["method"]
        path = self._strip_context(scope)
        route = self._route(method, path) if path is not None else "(outside the context path)"
        status = await self._serve(scope, receive, send, method, path)
        emulator.counters.record(method, route, status)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, method: str, path: str | None) -> int:
        """Answer one REST request; returns the status sent (0 when the connection was dropped)."""
        emulator = self.emulator
        if path is None:
            return await _send_json(send, 404, rest_error(404, "Not Found"))
        try:
            caller = _authenticate(emulator, scope)
        except Refused:
            body = rest_error(401, "Authentication failed: wrong username or password")
            return await _send_json(send, 401, body, [(b"x-seraph-loginreason", b"AUTHENTICATED_FAILED")])
        scope[CALLER] = caller
        extra: list[tuple[bytes, bytes]] = []
        limiter = emulator.limiter
        if limiter is not None:
            decision = limiter.take(caller.username.lower() if caller else "anonymous")
            extra = decision.headers
            if not decision.allowed:
                return await _send(send, 429, HTML_429, b"text/html;charset=UTF-8", extra)
        fault = emulator.faults.decide(method, path) if emulator.faults else None
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.kind is not None and not fault.after:
            return await _inject(fault, send, extra)

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
            return await _inject(fault, send, extra)
        return sent

    def _strip_context(self, scope: Scope) -> str | None:
        """The path below the context path (and the scope rewritten to it); None when outside it."""
        context = self.emulator.config.context_path
        path: str = scope["path"]
        if not context:
            return path
        if path != context and not path.startswith(context + "/"):
            return None
        scope["path"] = path[len(context) :] or "/"
        return scope["path"]

    def _route(self, method: str, path: str) -> str:
        for pattern, methods, template in self.routes:
            if method in methods and pattern.match(path):
                return template
        return "(unmatched)"


def _authenticate(emulator: Emulator, scope: Scope) -> User | None:
    """Basic credentials must be right (else Refused); a Bearer token that is wrong is anonymous."""
    header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    if header is None:
        return None
    kind, _, credentials = header.decode("latin-1").partition(" ")
    kind = kind.lower()
    if kind == "bearer":
        return emulator.directory.token_user(credentials.strip())
    if kind != "basic":
        return None
    try:
        username, colon, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused from None
    user = emulator.directory.authenticate(username, password) if colon else None
    if user is None:
        raise Refused
    return user


async def _inject(fault: Fault, send: Send, extra: list[tuple[bytes, bytes]]) -> int:
    if fault.kind == "drop":
        await _drop(send)
        return 0
    if fault.kind == "burst_429":
        headers = [(name, value) for name, value in extra if name != b"retry-after"]
        headers.append((b"retry-after", str(fault.retry_after).encode()))
        return await _send(send, 429, HTML_429, b"text/html;charset=UTF-8", headers)
    return await _send_json(send, fault.status, rest_error(fault.status, "Injected fault"), extra)


async def _drop(send: Send) -> None:
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


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> int:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return status


async def _send_json(
    send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> int:
    return await _send(send, status, encode_json(body), b"application/json", headers)
