"""Confluence's part of the outermost ASGI layer: the context path, authentication and its error bodies.

The counters, rate limit and faults are `sandbox.emulation.middleware`'s.
"""

from __future__ import annotations

import base64
import binascii

from sandbox.confluence.emulator import Emulator
from sandbox.confluence.errors import rest_error
from sandbox.confluence.state import User
from sandbox.emulation.jsonio import encode_json
from sandbox.emulation.middleware import ASGIApp, Headers, Reply, Route, Scope, ServingMiddleware

CALLER = "confluence.caller"  # scope key: the authenticated User, or None for anonymous
HTML_429 = (
    b"<!DOCTYPE html><html><head><title>Rate limit exceeded</title></head>"
    b"<body><h1>Rate limit exceeded.</h1><p>Too many requests, try again later.</p></body></html>"
)
HTML = b"text/html;charset=UTF-8"
JSON = b"application/json"


class Refused(Exception):
    """Basic credentials that match no active user: Confluence answers 401."""


class EmulatorMiddleware(ServingMiddleware):
    def __init__(self, app: ASGIApp, emulator: Emulator, routes: list[Route]) -> None:
        super().__init__(app, emulator, routes)
        self.emulator = emulator

    def local_path(self, scope: Scope) -> str | None:
        """The path below the context path (and the scope rewritten to it); None when outside it."""
        context = self.emulator.config.context_path
        path: str = scope["path"]
        if not context:
            return path
        if path != context and not path.startswith(context + "/"):
            return None
        scope["path"] = path[len(context) :] or "/"
        return scope["path"]

    def outside(self) -> Reply:
        return Reply(404, encode_json(rest_error(404, "Not Found")), JSON)

    def admit(self, scope: Scope) -> Reply | str:
        try:
            caller = _authenticate(self.emulator, scope)
        except Refused:
            body = rest_error(401, "Authentication failed: wrong username or password")
            return Reply(401, encode_json(body), JSON, [(b"x-seraph-loginreason", b"AUTHENTICATED_FAILED")])
        scope[CALLER] = caller
        return caller.username.lower() if caller else "anonymous"

    def too_many_requests(self, headers: Headers) -> Reply:
        return Reply(429, HTML_429, HTML, headers)

    def injected_error(self, status: int, headers: Headers) -> Reply:
        return Reply(status, encode_json(rest_error(status, "Injected fault")), JSON, headers)


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
