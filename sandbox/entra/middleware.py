"""The Entra emulator's part of the outermost ASGI layer: bearer tokens and Graph's error bodies.

The counters, throttle and faults are `sandbox.emulation.middleware`'s. Graph routes (``/v1.0/``)
need a live access token (401 ``InvalidAuthenticationToken`` otherwise) and are throttled per
application; the token endpoint and the OpenID configuration need none and share one bucket.
"""

from __future__ import annotations

from sandbox.emulation.jsonio import encode_json
from sandbox.emulation.middleware import ASGIApp, Headers, Reply, Route, Scope, ServingMiddleware
from sandbox.entra.emulator import EntraEmulator
from sandbox.entra.graph import GRAPH_APP_ID, error_body

JSON = b"application/json"
GRAPH_PREFIX = "/v1.0/"
CALLER = "entra.client_id"  # scope key: the client id the token was issued to
_CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    f'client_id="{GRAPH_APP_ID}"'
).encode()
_MESSAGES = {
    None: "Access token is empty.",
    "invalid": "Access token validation failure. Invalid audience.",
    "expired": "Lifetime validation failed, the token is expired.",
}


class GraphMiddleware(ServingMiddleware):
    def __init__(self, app: ASGIApp, emulator: EntraEmulator, routes: list[Route]) -> None:
        super().__init__(app, emulator, routes)
        self.emulator = emulator

    def admit(self, scope: Scope) -> Reply | str:
        if not scope["path"].startswith(GRAPH_PREFIX):
            return "identity platform"
        header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        kind, _, token = header.decode("latin-1").partition(" ")
        why: str | None = None
        if kind.lower() == "bearer" and token.strip():
            client_id, why = self.emulator.tokens.check(token.strip())
            if client_id is not None:
                scope[CALLER] = client_id
                return client_id
        body = encode_json(error_body("InvalidAuthenticationToken", _MESSAGES[why]))
        return Reply(401, body, JSON, [(b"www-authenticate", _CHALLENGE)])

    def too_many_requests(self, headers: Headers) -> Reply:
        return Reply(429, encode_json(throttled_body()), JSON, headers)

    def injected_error(self, status: int, headers: Headers) -> Reply:
        code = "serviceNotAvailable" if status == 503 else "generalException"
        return Reply(status, encode_json(error_body(code, "Injected fault")), JSON, headers)


def throttled_body() -> dict:
    return error_body("TooManyRequests", "Too many requests. Please retry after the time in Retry-After.")
