"""The Okta Management API routes the sync reads (users, groups, members) and the ASGI app around them.

Lists answer a JSON array and page with `Link` headers: `<...>; rel="self"` always, `<...?after=
CURSOR&...>; rel="next"` while more may follow (the other query parameters kept). `limit` is cut
to the list's cap. A plain user list leaves DEPROVISIONED users out; with `filter` or `search` they
are in, as Okta's reference says.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.emulation.admin import control_router
from sandbox.emulation.jsonio import json_response
from sandbox.okta import admin, filters
from sandbox.okta.directory import OktaGroup, OktaUser
from sandbox.okta.emulator import Emulator
from sandbox.okta.errors import INVALID_SEARCH, NOT_FOUND, OktaError, validation_failed
from sandbox.okta.middleware import OktaMiddleware
from sandbox.okta.oauth import token_route

_CONVERTOR = re.compile(r":\w+}")
USER_FILTER = filters.Allowed(
    frozenset(
        {
            "status",
            "lastUpdated",
            "id",
            "profile.login",
            "profile.email",
            "profile.firstName",
            "profile.lastName",
        }
    ),
    frozenset({"lastUpdated"}),
)
GROUP_FILTER = filters.Allowed(
    frozenset({"id", "type", "lastUpdated", "lastMembershipUpdated"}),
    frozenset({"lastUpdated", "lastMembershipUpdated"}),
)


def create_app(emulator: Emulator) -> OktaMiddleware:
    api = FastAPI(
        title="Okta Management API emulator",
        lifespan=_lifespan(emulator),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    api.state.emulator = emulator
    api.include_router(_api_router())
    api.include_router(admin.router)  # first: its /state and /rate-limit are Okta's own
    api.include_router(control_router())
    api.add_api_route("/oauth2/v1/token", token_route, methods=["POST"])
    api.add_exception_handler(OktaError, _okta_error)
    api.add_exception_handler(HTTPException, _http_error)
    routes = [
        (route.path_regex, frozenset(route.methods), _CONVERTOR.sub("}", route.path))
        for route in api.routes
        if isinstance(route, APIRoute) and not route.path.startswith("/__")
    ]
    return OktaMiddleware(api, emulator, routes)


def _lifespan(emulator: Emulator) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state_file = emulator.state_file
        if state_file is None:
            yield
            return
        saver = asyncio.create_task(
            state_file.save_periodically(emulator.directory, emulator.config.save_interval)
        )
        try:
            yield
        finally:
            saver.cancel()
            state_file.save(emulator.directory)

    return lifespan


async def _okta_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, OktaError)
    return json_response(exc.body(), exc.status)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return json_response(OktaError(404, NOT_FOUND, "Not found: Resource not found").body(), 404)
    return json_response(OktaError(exc.status_code, "E0000022", str(exc.detail)).body(), exc.status_code)


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator


def _base(request: Request) -> str:
    host = request.headers.get("host") or "{}:{}".format(*request.scope["server"])
    return f"{request.scope['scheme']}://{host}"


def _limit(request: Request, cap: int, default: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return min(default, cap)
    try:
        limit = int(raw)
    except ValueError:
        raise validation_failed("limit", f"not a number: {raw!r}") from None
    if limit < 1:
        raise validation_failed("limit", "must be at least 1")
    return min(limit, cap)


def _predicate(request: Request, allowed: filters.Allowed) -> filters.Predicate | None:
    """The `filter` (restricted) or `search` (any attribute) of the request; None for neither."""
    query = request.query_params
    try:
        if query.get("search"):
            return filters.parse(query["search"])
        if query.get("filter"):
            return filters.parse(query["filter"], allowed)
    except filters.InvalidFilter as exc:
        raise OktaError(400, INVALID_SEARCH, "Invalid search criteria.", [str(exc)]) from None
    return None


def _paged(
    request: Request, items: list[Any], more: bool, render: Callable[[Any], dict[str, Any]]
) -> Response:
    """The page as a JSON array with `Link` headers (`next` holds the last item's id as `after`)."""
    response = json_response([render(item) for item in items])
    path = f"{_base(request)}{request.url.path}"
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "after"]
    self_query = request.url.query
    response.headers.append("link", f'<{path}{"?" + self_query if self_query else ""}>; rel="self"')
    if more and items:
        next_query = urlencode([("after", items[-1].id), *query])
        response.headers.append("link", f'<{path}?{next_query}>; rel="next"')
    return response


def _user_view(request: Request) -> Callable[[OktaUser], dict[str, Any]]:
    base = _base(request)

    def render(user: OktaUser) -> dict[str, Any]:
        body = user.as_json()
        body["_links"] = {"self": {"href": f"{base}/api/v1/users/{user.id}"}}
        return body

    return render


def _group_view(request: Request) -> Callable[[OktaGroup], dict[str, Any]]:
    """Groups as the request asks: `expand=stats` adds `_embedded.stats.usersCount`."""
    base = _base(request)
    directory = _emulator(request).directory
    stats = "stats" in request.query_params.get("expand", "").split(",")

    def render(group: OktaGroup) -> dict[str, Any]:
        body = group.as_json()
        if stats:
            body["_embedded"] = {"stats": {"usersCount": directory.member_count(group.id)}}
        body["_links"] = {
            "logo": [
                {"name": "medium", "href": f"{base}/img/logos/groups/okta-medium.png", "type": "image/png"},
                {"name": "large", "href": f"{base}/img/logos/groups/okta-large.png", "type": "image/png"},
            ],
            "users": {"href": f"{base}/api/v1/groups/{group.id}/users"},
            "apps": {"href": f"{base}/api/v1/groups/{group.id}/apps"},
        }
        return body

    return render


def _api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    @router.get("/users")
    async def list_users(request: Request) -> Response:
        emulator = _emulator(request)
        limit = _limit(request, emulator.settings.page_cap, 200)
        predicate = _predicate(request, USER_FILTER)
        if predicate is None:

            def keep(user: OktaUser) -> bool:
                return user.status != "DEPROVISIONED"

        else:

            def keep(user: OktaUser) -> bool:
                return predicate(user.attribute)

        users, more = emulator.directory.users_page(request.query_params.get("after"), limit, keep)
        return _paged(request, users, more, _user_view(request))

    @router.get("/users/{userId}")
    async def get_user(request: Request) -> Response:
        user = _emulator(request).directory.user(request.path_params["userId"])
        return json_response(_user_view(request)(user))

    @router.get("/groups")
    async def list_groups(request: Request) -> Response:
        emulator = _emulator(request)
        cap = emulator.settings.group_page_cap
        limit = _limit(request, cap, cap)
        predicate = _predicate(request, GROUP_FILTER)
        name_prefix = request.query_params.get("q")

        def keep(group: OktaGroup) -> bool:
            if name_prefix is not None and not group.name.lower().startswith(name_prefix.lower()):
                return False
            return predicate is None or predicate(group.attribute)

        groups, more = emulator.directory.groups_page(request.query_params.get("after"), limit, keep)
        return _paged(request, groups, more, _group_view(request))

    @router.get("/groups/{groupId}")
    async def get_group(request: Request) -> Response:
        group_id = request.path_params["groupId"]
        group = _emulator(request).directory.group(group_id)
        if group.id != group_id:  # the API takes ids only; names are for the admin routes
            raise OktaError(404, NOT_FOUND, f"Not found: Resource not found: {group_id} (UserGroup)")
        return json_response(_group_view(request)(group))

    @router.get("/groups/{groupId}/users")
    async def list_members(request: Request) -> Response:
        emulator = _emulator(request)
        limit = _limit(request, emulator.settings.member_page_cap, 1000)
        users, more = emulator.directory.members_page(
            request.path_params["groupId"], request.query_params.get("after"), limit
        )
        return _paged(request, users, more, _user_view(request))

    return router
