"""The Confluence REST routes (users, groups, memberships, long tasks) and the ASGI app around them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import msgspec
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.confluence import admin
from sandbox.confluence.emulator import Emulator
from sandbox.confluence.errors import ApiError
from sandbox.confluence.middleware import CALLER, EmulatorMiddleware
from sandbox.confluence.state import User
from sandbox.confluence.validation import group_name_errors, new_user_errors, user_update_errors
from sandbox.confluence.views import (
    PageRequest,
    Site,
    error_response,
    expands,
    group_json,
    page_json,
    user_json,
)
from sandbox.emulation.admin import control_router
from sandbox.emulation.jsonio import json_response
from sandbox.emulation.persistence import state_lifespan

NO_CONTENT = 204
_CONVERTOR = re.compile(r":\w+}")  # "{groupName:path}" is counted as "{groupName}"
DELETE_TASK_KEY = "com.atlassian.confluence.user.admin.delete.task"

Item = TypeVar("Item")


def create_app(emulator: Emulator) -> EmulatorMiddleware:
    """The ASGI application serving `emulator`: REST routes, admin routes, and the middleware."""
    api = FastAPI(
        title="Confluence Data Center emulator",
        lifespan=_lifespan(emulator),
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    api.state.emulator = emulator
    api.include_router(_rest_router())
    api.include_router(control_router(settings=True))
    api.include_router(admin.router)
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(HTTPException, _http_error)
    routes = [
        (route.path_regex, frozenset(route.methods), _CONVERTOR.sub("}", route.path))
        for route in api.routes
        if isinstance(route, APIRoute) and not route.path.startswith("/__")
    ]
    return EmulatorMiddleware(api, emulator, routes)


def _lifespan(emulator: Emulator) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Write the state file periodically while serving, and once more at shutdown."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with state_lifespan(emulator.state_file, emulator.directory, emulator.config.save_interval):
            yield

    return lifespan


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(ApiError(exc.status_code, str(exc.detail)))


# -- request helpers -------------------------------------------------------------------------


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator


def _site(request: Request) -> Site:
    return Site.of(request, _emulator(request).config.context_path)


def _require_admin(request: Request) -> None:
    """401 for anonymous callers, 403 for users who are not administrators."""
    caller: User | None = request.scope.get(CALLER)
    if caller is None:
        raise ApiError(401, "Client must be authenticated to access this resource.")
    if not _emulator(request).directory.is_admin(caller):
        raise ApiError(403, f"User {caller.username} is not permitted to perform this operation")


def _require_user(request: Request) -> None:
    """Reading users and groups needs a logged-in user; anonymous callers get 403."""
    if request.scope.get(CALLER) is None:
        raise ApiError(403, "Anonymous users are not permitted to view users and groups")


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        raise ApiError(400, "The request body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


def _check(errors: list[str]) -> None:
    if errors:
        raise ApiError(400, errors[0], errors)


def _user_view(request: Request) -> Callable[[User], dict[str, Any]]:
    """Renders users as this request asks (expand, email visibility), with the site resolved once."""
    site, email, status = _site(request), _emulator(request).settings.show_emails, expands(request, "status")
    return lambda user: user_json(user, site, status=status, email=email)


def _group_view(request: Request) -> Callable[[str], dict[str, Any]]:
    return partial(group_json, site=_site(request))


def _page_response(
    request: Request,
    cap: int,
    fetch: Callable[[int, int], tuple[list[Item], int]],
    render: Callable[[Item], dict[str, Any]],
) -> Response:
    """One page of a listing: `fetch(start, limit)` for the page the query asks (`limit` cut to `cap`)."""
    page = PageRequest.of(request, cap)
    items, total = fetch(page.start, page.limit)
    results = list(map(render, items))
    buggy = _emulator(request).settings.buggy_paging
    return json_response(page_json(results, page, total, _site(request), request, buggy=buggy))


def _lookup_user(request: Request) -> User:
    """The user named by `?username=` or `?key=`."""
    directory = _emulator(request).directory
    username, key = request.query_params.get("username"), request.query_params.get("key")
    if username:
        return directory.user(username)
    if key:
        return directory.user_by_key(key)
    raise ApiError(400, "Give username or key")


# -- routes ----------------------------------------------------------------------------------


def _rest_router() -> APIRouter:
    # Group names may hold "/" (sent as %2F, which the server decodes): `:path` takes it in, and
    # the member list is declared before the group itself so that ".../member" goes to it.
    router = APIRouter(prefix="/rest/api")

    @router.post("/admin/user")
    async def create_user(request: Request) -> Response:
        _require_admin(request)
        body = await _json_body(request)
        _check(new_user_errors(body))
        user = _emulator(request).directory.create_user(
            body["userName"], body["fullName"], body["email"], body.get("password")
        )
        return json_response({"userKey": user.user_key}, 201)

    @router.put("/admin/user/{username}")
    async def update_user(request: Request) -> Response:
        username = request.path_params["username"]
        _require_admin(request)
        directory = _emulator(request).directory
        directory.user(username)
        body = await _json_body(request)
        _check(user_update_errors(body))
        directory.update_user(username, body.get("fullName"), body.get("email"))
        return Response(status_code=NO_CONTENT)

    @router.put("/admin/user/{username}/disable")
    async def disable_user(request: Request) -> Response:
        username = request.path_params["username"]
        _require_admin(request)
        _emulator(request).directory.set_active(username, False)
        return Response(status_code=NO_CONTENT)

    @router.put("/admin/user/{username}/enable")
    async def enable_user(request: Request) -> Response:
        username = request.path_params["username"]
        _require_admin(request)
        _emulator(request).directory.set_active(username, True)
        return Response(status_code=NO_CONTENT)

    @router.delete("/admin/user/{username}")
    async def delete_user(request: Request) -> Response:
        username = request.path_params["username"]
        _require_admin(request)
        emulator = _emulator(request)
        emulator.directory.user(username)

        def work() -> str:
            try:
                emulator.directory.delete_user(username)
            except ApiError:
                return f"User {username} was already deleted"
            return f"User {username} deleted"

        task = emulator.tasks.start(
            DELETE_TASK_KEY, [username], emulator.settings.delete_delay_ms / 1000, work
        )
        link = f"{_site(request).base}/rest/api/longtask/{task.id}"
        return json_response({"id": task.id, "links": {"status": link, "result": link}}, 202)

    @router.get("/longtask/{id}")
    async def get_task(request: Request) -> Response:
        task_id = request.path_params["id"]
        task = _emulator(request).tasks.get(task_id)
        if task is None or request.scope.get(CALLER) is None:
            raise ApiError(404, f"No long task found with id: {task_id}")
        return json_response(task.as_json())

    @router.post("/admin/group")
    async def create_group(request: Request) -> Response:
        _require_admin(request)
        body = await _json_body(request)
        _check(group_name_errors(body.get("name")))
        name = _emulator(request).directory.create_group(body["name"])
        return json_response(group_json(name, _site(request)), 201)

    @router.delete("/admin/group/{groupName:path}")
    async def delete_group(request: Request) -> Response:
        group_name = request.path_params["groupName"]
        _require_admin(request)
        _emulator(request).directory.delete_group(group_name)
        return Response(status_code=NO_CONTENT)

    @router.put("/user/{username}/group/{groupName:path}")
    async def add_member(request: Request) -> Response:
        username, group_name = request.path_params["username"], request.path_params["groupName"]
        _require_admin(request)
        _emulator(request).directory.add_member(username, group_name)
        return Response(status_code=NO_CONTENT)

    @router.delete("/user/{username}/group/{groupName:path}")
    async def remove_member(request: Request) -> Response:
        username, group_name = request.path_params["username"], request.path_params["groupName"]
        _require_admin(request)
        _emulator(request).directory.remove_member(username, group_name)
        return Response(status_code=NO_CONTENT)

    @router.get("/user/list")
    async def list_users(request: Request) -> Response:
        _require_user(request)
        emulator = _emulator(request)
        return _page_response(
            request, emulator.settings.caps.users, emulator.directory.users_page, _user_view(request)
        )

    @router.get("/user/current")
    async def current_user(request: Request) -> Response:
        caller: User | None = request.scope.get(CALLER)
        if caller is None:
            return json_response({"type": "anonymous", "profilePicture": None, "displayName": "Anonymous"})
        return json_response(_user_view(request)(caller))

    @router.get("/user/memberof")
    async def member_of(request: Request) -> Response:
        _require_user(request)
        emulator = _emulator(request)
        user = _lookup_user(request)
        fetch = partial(emulator.directory.groups_of_page, user.username)
        return _page_response(request, emulator.settings.caps.groups, fetch, _group_view(request))

    @router.get("/user")
    async def get_user(request: Request) -> Response:
        _require_user(request)
        return json_response(_user_view(request)(_lookup_user(request)))

    @router.get("/group")
    async def list_groups(request: Request) -> Response:
        _require_user(request)
        emulator = _emulator(request)
        return _page_response(
            request, emulator.settings.caps.groups, emulator.directory.groups_page, _group_view(request)
        )

    @router.get("/group/{groupName:path}/member")
    async def list_members(request: Request) -> Response:
        group_name = request.path_params["groupName"]
        _require_user(request)
        emulator = _emulator(request)
        fetch = partial(emulator.directory.members_page, group_name)
        return _page_response(request, emulator.settings.caps.members, fetch, _user_view(request))

    @router.get("/group/{groupName:path}")
    async def get_group(request: Request) -> Response:
        group_name = request.path_params["groupName"]
        _require_user(request)
        return json_response(group_json(_emulator(request).directory.group(group_name), _site(request)))

    return router
