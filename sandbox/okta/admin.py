"""Emulator control endpoints under `/__emulator/`; no authentication, never rate limited or faulted.

Beside the shared ones of `sandbox.emulation.admin` (reset: back to the start-up options with the
LDIF reloaded; GET state; counters; faults):

PUT    /__emulator/state                   replace the directory with the state JSON in the body 204
PUT    /__emulator/ldif                    replace the directory with the LDIF text in the body;
                                           200 `{"warnings": [...]}` (entries left out, and why)
GET    /__emulator/rate-limit              `{"limit", "window_seconds"}` or null
PUT    /__emulator/rate-limit              the same shape to turn it on (fresh windows), null off 204
DELETE /__emulator/rate-limit              off                                               204
PATCH  /__emulator/settings                `{"page_cap", "group_page_cap", "member_page_cap"}`  204
POST   /__emulator/users                   `{"profile": {...}, "status": "ACTIVE"}` -> 201 the user
PATCH  /__emulator/users/{id or login}     `{"profile": {...}}` merged (null removes), and/or `{"status"}`
PUT    /__emulator/users/{id or login}/status  `{"status": "DEPROVISIONED"}` (any Okta status)     204
DELETE /__emulator/users/{id or login}     the user and its memberships, for good            204
POST   /__emulator/groups                  `{"name", "type": "OKTA_GROUP"|"APP_GROUP", "description"}` -> 201
PATCH  /__emulator/groups/{id or name}     `{"name", "description"}`                          204
DELETE /__emulator/groups/{id or name}                                                        204
PUT    /__emulator/groups/{id or name}/users/{id or login}   add a member                     204
DELETE /__emulator/groups/{id or name}/users/{id or login}   remove a member                  204
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.emulation.jsonio import json_response
from sandbox.okta.emulator import Emulator
from sandbox.okta.errors import OktaError, validation_failed
from sandbox.okta.ratelimit import RateLimit

router = APIRouter(prefix="/__emulator")
NO_CONTENT = 204


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise OktaError(400, "E0000003", f"The request body was not well-formed: {exc}") from None


async def _object(request: Request) -> dict[str, Any]:
    body = await _body(request)
    if not isinstance(body, dict):
        raise OktaError(400, "E0000003", "The request body must be a JSON object")
    return body


@router.put("/state")
async def load_state(request: Request) -> Response:
    try:
        _emulator(request).directory.load(await _object(request))
    except ValueError as exc:
        raise validation_failed("state", str(exc)) from None
    return Response(status_code=NO_CONTENT)


@router.put("/ldif")
async def load_ldif(request: Request) -> Response:
    text = (await request.body()).decode("utf-8")
    try:
        warnings = _emulator(request).load_ldif(text)
    except ValueError as exc:
        raise validation_failed("ldif", str(exc)) from None
    return json_response({"warnings": warnings})


@router.get("/rate-limit")
async def rate_limit(request: Request) -> Response:
    limit = _emulator(request).limiter.limit
    return json_response(None if limit is None else limit.as_json())


@router.put("/rate-limit")
async def set_rate_limit(request: Request) -> Response:
    body = await _body(request)
    try:
        limit = (
            None if body is None else RateLimit.parse(f"{int(body['limit'])}/{int(body['window_seconds'])}")
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise validation_failed("rate-limit", str(exc)) from None
    _emulator(request).set_rate_limit(limit)
    return Response(status_code=NO_CONTENT)


@router.delete("/rate-limit")
async def clear_rate_limit(request: Request) -> Response:
    _emulator(request).set_rate_limit(None)
    return Response(status_code=NO_CONTENT)


@router.patch("/settings")
async def update_settings(request: Request) -> Response:
    settings = _emulator(request).settings
    for key, value in (await _object(request)).items():
        if (
            key not in ("page_cap", "group_page_cap", "member_page_cap")
            or not isinstance(value, int)
            or value < 1
        ):
            raise validation_failed(key, "a page cap, at least 1")
        setattr(settings, key, value)
    return Response(status_code=NO_CONTENT)


@router.post("/users")
async def create_user(request: Request) -> Response:
    body = await _object(request)
    user = _emulator(request).directory.create_user(
        dict(body.get("profile") or {}), body.get("status", "ACTIVE")
    )
    return json_response(user.as_json(), 201)


@router.patch("/users/{user}")
async def update_user(request: Request, user: str) -> Response:
    body = await _object(request)
    directory = _emulator(request).directory
    if "profile" in body:
        directory.update_profile(user, dict(body["profile"]))
    if "status" in body:
        directory.set_status(user, str(body["status"]))
    return json_response(directory.user(user).as_json())


@router.put("/users/{user}/status")
async def set_status(request: Request, user: str) -> Response:
    _emulator(request).directory.set_status(user, str((await _object(request)).get("status")))
    return Response(status_code=NO_CONTENT)


@router.delete("/users/{user}")
async def delete_user(request: Request, user: str) -> Response:
    _emulator(request).directory.delete_user(user)
    return Response(status_code=NO_CONTENT)


@router.post("/groups")
async def create_group(request: Request) -> Response:
    body = await _object(request)
    group = _emulator(request).directory.create_group(
        str(body.get("name") or ""), str(body.get("type", "OKTA_GROUP")), str(body.get("description", ""))
    )
    return json_response(group.as_json(), 201)


@router.patch("/groups/{group}")
async def update_group(request: Request, group: str) -> Response:
    body = await _object(request)
    directory = _emulator(request).directory
    current = directory.group(group)
    directory.rename_group(group, str(body.get("name", current.name)), body.get("description"))
    return Response(status_code=NO_CONTENT)


@router.delete("/groups/{group}")
async def delete_group(request: Request, group: str) -> Response:
    _emulator(request).directory.delete_group(group)
    return Response(status_code=NO_CONTENT)


@router.put("/groups/{group}/users/{user}")
async def add_member(request: Request, group: str, user: str) -> Response:
    _emulator(request).directory.add_member(group, user)
    return Response(status_code=NO_CONTENT)


@router.delete("/groups/{group}/users/{user}")
async def remove_member(request: Request, group: str, user: str) -> Response:
    _emulator(request).directory.remove_member(group, user)
    return Response(status_code=NO_CONTENT)
