"""OAuth 2.0 for Okta service apps: the client-credentials token endpoint with a private-key JWT.

`POST /oauth2/v1/token` (form): `grant_type=client_credentials`, `scope` (space-separated, e.g.
`okta.users.read okta.groups.read`), `client_assertion_type=urn:ietf:params:oauth:client-
assertion-type:jwt-bearer` and `client_assertion`: a JWT signed (RS256) with the app's private key,
with `iss` = `sub` = the client id, `aud` = this endpoint's URL and an `exp` in the future. The
answer is `{"token_type": "Bearer", "expires_in": 3600, "access_token", "scope"}`; a bad request
is 400/401 `{"error", "error_description"}` as RFC 6749 has it. The access token is then sent as
`Authorization: Bearer ...`, and each route needs its scope (users: `okta.users.read`, groups and
members: `okta.groups.read`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_LIFETIME = 3600
KNOWN_SCOPES = frozenset({"okta.users.read", "okta.groups.read"})


@dataclass(frozen=True, slots=True)
class AccessToken:
    client_id: str
    scopes: frozenset[str]
    expires: float


def _error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status)


async def token_route(request: Request) -> Response:
    emulator = request.app.state.emulator
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        return _error(400, "unsupported_grant_type", "The authorization grant type is not supported.")
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        return _error(401, "invalid_client", "A client assertion (private_key_jwt) is required.")
    assertion = str(form["client_assertion"])
    try:
        client_id = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return _error(401, "invalid_client", "The client assertion is not a JWT.")
    public_key = emulator.oauth_clients.get(client_id)
    if public_key is None:
        return _error(401, "invalid_client", "The client is not known.")
    audience = f"{request.url.scheme}://{request.headers.get('host')}/oauth2/v1/token"
    try:
        claims = jwt.decode(
            assertion,
            public_key,
            algorithms=["RS256"],
            audience=audience,
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError as exc:
        return _error(401, "invalid_client", f"The client assertion is not valid: {exc}")
    if claims["sub"] != client_id:
        return _error(401, "invalid_client", "The client assertion's sub must be the client id.")
    scopes = frozenset(str(form.get("scope", "")).split())
    if not scopes or not scopes <= KNOWN_SCOPES:
        return _error(400, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
    token = secrets.token_urlsafe(32)
    emulator.access_tokens[token] = AccessToken(client_id, scopes, time.time() + TOKEN_LIFETIME)
    return JSONResponse(
        {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "access_token": token,
            "scope": " ".join(sorted(scopes)),
        }
    )
