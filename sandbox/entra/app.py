"""The ASGI app: the identity platform's token endpoint, Graph's v1.0 routes and ``$batch``, the
control routes under ``/__emulator/``, and the outermost layer (tokens, throttle, faults, counters)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.emulation.admin import control_router
from sandbox.emulation.jsonio import encode_json, json_response
from sandbox.entra import admin
from sandbox.entra.emulator import EntraEmulator
from sandbox.entra.graph import GROUP, MAX_BATCH, USER, GraphError, error_body, token_error_body
from sandbox.entra.middleware import CALLER, GraphMiddleware, injected_error, throttled
from sandbox.entra.queries import Request as Query
from sandbox.entra.queries import delta_page, get_object, list_page, member_page

GRAPH_SCOPES = ("https://graph.microsoft.com/.default", "00000003-0000-0000-c000-000000000000/.default")
_CONVERTOR = re.compile(r":\w+}")

Handler = Callable[[EntraEmulator, Query, dict[str, str]], dict[str, Any]]
# Graph routes below /v1.0/: (method, template, handler of (emulator, query, path values))
GRAPH_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "users", lambda e, q, _: list_page(e.directory.tenant, e.settings, USER, q)),
    ("GET", "users/delta", lambda e, q, _: delta_page(e.directory.tenant, e.settings, USER, q)),
    ("GET", "users/{id}", lambda e, q, v: get_object(e.directory.tenant, USER, v["id"], q)),
    ("GET", "groups", lambda e, q, _: list_page(e.directory.tenant, e.settings, GROUP, q)),
    ("GET", "groups/delta", lambda e, q, _: delta_page(e.directory.tenant, e.settings, GROUP, q)),
    ("GET", "groups/{id}", lambda e, q, v: get_object(e.directory.tenant, GROUP, v["id"], q)),
    (
        "GET",
        "groups/{id}/members",
        lambda e, q, v: member_page(e.directory.tenant, e.settings, v["id"], False, q),
    ),
    (
        "GET",
        "groups/{id}/transitiveMembers",
        lambda e, q, v: member_page(e.directory.tenant, e.settings, v["id"], True, q),
    ),
]
_MATCHERS = [
    (method, re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(t)) + "$"), t, handler)
    for method, t, handler in GRAPH_ROUTES
]


def _match(method: str, path: str) -> tuple[str, Handler, dict[str, str]]:
    """(route template, handler, path values) of a Graph request; GraphError when no route serves it."""
    for route_method, pattern, template, handler in _MATCHERS:
        match = pattern.match(path)
        if match and route_method == method:
            return template, handler, {k: unquote(v) for k, v in match.groupdict().items()}
    segment = path.split("/")[-1] or path
    raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _graph_router() -> APIRouter:
    router = APIRouter(prefix="/v1.0")

    def route(template: str) -> None:
        async def serve(request: Request) -> Response:
            emulator: EntraEmulator = request.app.state.emulator
            path = request.url.path.removeprefix("/v1.0/")
            query = Query(_base(request), path, dict(request.query_params))
            _, handler, values = _match("GET", path)
            return json_response(handler(emulator, query, values))

        router.add_api_route("/" + template, serve, methods=["GET"])

    for _, template, _ in GRAPH_ROUTES:
        route(template)

    @router.post("/$batch")
    async def batch(request: Request) -> Response:
        return json_response(
            _batch(request.app.state.emulator, _base(request), request.scope[CALLER], await request.body())
        )

    return router


def _batch(emulator: EntraEmulator, base: str, caller: str, raw: bytes) -> dict[str, Any]:
    """Run up to 20 requests; each is throttled and faulted on its own, answers in reverse order."""
    try:
        requests = json.loads(raw)["requests"]
        if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
            raise TypeError
        ids = [str(r["id"]) for r in requests]
    except (ValueError, KeyError, TypeError):
        raise GraphError(400, "BadRequest", "Invalid batch payload format.") from None
    if len(requests) > MAX_BATCH:
        raise GraphError(
            400, "BadRequest", f"Number of requests ({len(requests)}) exceeds the limit of {MAX_BATCH}."
        )
    if len({i.lower() for i in ids}) != len(ids):
        raise GraphError(400, "BadRequest", "Batch request ids must be unique.")
    responses = [_batched(emulator, base, caller, r) for r in requests]
    return {"responses": responses[::-1]}  # Graph may answer in any order; clients match by id


def _batched(emulator: EntraEmulator, base: str, caller: str, sub: dict[str, Any]) -> dict[str, Any]:
    method = str(sub.get("method", "")).upper()
    url = urlsplit(str(sub.get("url", "")))
    path = url.path.lstrip("/").removeprefix("v1.0/")
    template = "(unmatched)"
    headers = {"Content-Type": "application/json"}
    try:
        if method != "GET":
            raise GraphError(
                405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
            )
        template, handler, values = _match(method, path)
        limiter = emulator.limiter
        decision = limiter.take(caller) if limiter is not None else None
        if decision is not None and not decision.allowed:
            raise throttled(dict(decision.headers).get(b"retry-after", b"1").decode())
        fault = emulator.faults.decide(method, "/v1.0/" + path) if emulator.faults else None
        if fault is not None and fault.kind == "burst_429":
            raise throttled(str(fault.retry_after))
        if fault is not None and fault.kind is not None:  # an error; a dropped connection is a 503 here
            raise injected_error(fault.status or 503)
        body = handler(
            emulator, Query(base, path, dict(parse_qsl(url.query, keep_blank_values=True))), values
        )
        status = 200
    except GraphError as error:
        status, body = error.status, error.body()
        headers.update(error.headers)
    emulator.counters.record(method, f"$batch /v1.0/{template}", status)
    return {"id": sub.get("id"), "status": status, "headers": headers, "body": body}


def _identity_router() -> APIRouter:
    router = APIRouter()

    @router.post("/{tenant}/oauth2/v2.0/token")
    async def token(request: Request, tenant: str) -> Response:
        emulator: EntraEmulator = request.app.state.emulator
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        status, body = _token(emulator, tenant, form, request.headers.get("authorization", ""))
        return json_response(body, status)

    @router.get("/{tenant}/v2.0/.well-known/openid-configuration")
    async def openid_configuration(request: Request, tenant: str) -> Response:
        base = f"{_base(request)}/{tenant}"
        return json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            }
        )

    return router


def _token(emulator: EntraEmulator, tenant: str, form: dict[str, str], authorization: str) -> tuple[int, Any]:
    """The client credentials grant, with the identity platform's answers to what is wrong."""
    config = emulator.config
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if authorization.lower().startswith("basic "):  # RFC 6749 2.3.1, which the platform also takes
        decoded = base64.b64decode(authorization[6:].strip() + "==").decode("utf-8", "replace")
        basic_id, _, basic_secret = decoded.partition(":")
        client_id, client_secret = unquote(basic_id), unquote(basic_secret)
    if tenant != config.tenant:
        return 400, token_error_body(
            "invalid_request",
            90002,
            f"Tenant '{tenant}' not found. Check to make "
            "sure you have the correct tenant ID and are signing into the correct cloud.",
        )
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return 400, token_error_body(
            "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
        )
    if not client_id:
        return 400, token_error_body(
            "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."
        )
    if client_id != config.client_id:
        return 400, token_error_body(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
        )
    if not client_secret:
        return 401, token_error_body(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    if client_secret != config.client_secret:
        return 401, token_error_body(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the "
            "secret being sent in the request is the client secret value, not the "
            f"client secret ID, for a secret added to app '{client_id}'.",
        )
    scope = form.get("scope", "")
    if scope not in GRAPH_SCOPES:
        return 400, token_error_body(
            "invalid_scope",
            70011,
            "The provided value for the input parameter "
            f"'scope' is not valid. The scope {scope} is not valid.",
        )
    lifetime = emulator.token_lifetime
    token = emulator.tokens.issue(client_id, lifetime)
    return 200, {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": token,
    }


async def _graph_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, GraphError)
    return Response(
        encode_json(error.body()), error.status, headers=error.headers, media_type="application/json"
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if request.url.path.startswith("/v1.0/") and error.status_code in (404, 405):
        segment = request.url.path.rstrip("/").split("/")[-1]
        return json_response(
            error_body("BadRequest", f"Resource not found for the segment '{segment}'."), 400
        )
    return json_response(
        error_body("BadRequest" if error.status_code == 400 else "Error", str(error.detail)),
        error.status_code,
    )


def create_app(emulator: EntraEmulator) -> GraphMiddleware:
    api = FastAPI(
        title="Microsoft Entra ID (Graph) emulator", openapi_url=None, docs_url=None, redoc_url=None
    )
    api.state.emulator = emulator
    api.include_router(_graph_router())
    api.include_router(_identity_router())
    api.include_router(control_router(settings=True))
    api.include_router(admin.router)
    api.add_exception_handler(GraphError, _graph_error)
    api.add_exception_handler(HTTPException, _http_error)
    routes = [
        (route.path_regex, frozenset(route.methods), _CONVERTOR.sub("}", route.path))
        for route in api.routes
        if isinstance(route, APIRoute) and not route.path.startswith("/__")
    ]
    return GraphMiddleware(api, emulator, routes)
