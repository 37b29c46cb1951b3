"""Emulator control endpoints under `/__emulator/`; no authentication, never rate limited or faulted.

GET    /__emulator/               HTML page: users, groups and members (`?limit=` rows, default 500)
POST   /__emulator/reset          fresh site with the start-up options; counters cleared     204
GET    /__emulator/state          the whole directory as state JSON (see sandbox.confluence.state)
PUT    /__emulator/state          replace the directory with the state JSON in the body       204
GET    /__emulator/counters       requests by method, route template and status
DELETE /__emulator/counters       zero the counters                                           204
GET    /__emulator/faults         the fault rules (with how often each fired) and the seed
PUT    /__emulator/faults         replace them with a fault SPEC; `?seed=` overrides its seed  204
GET    /__emulator/rate-limit     `{"fill_rate", "interval_seconds", "burst"}` or null
PUT    /__emulator/rate-limit     the same shape to turn it on (fresh buckets), null for off  204
GET    /__emulator/settings       seats, active_users, show_emails, caps, buggy_paging, delete_delay_ms
PATCH  /__emulator/settings       change some of them                                         204
POST   /__emulator/tokens         `{"username": "admin"}` -> 201 `{"token": "..."}` (a personal access token)
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sandbox.confluence.emulator import Emulator
from sandbox.confluence.errors import ApiError
from sandbox.confluence.page import render_site
from sandbox.confluence.ratelimit import RateLimit
from sandbox.confluence.views import json_response

router = APIRouter(prefix="/__emulator")


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"The request body must be JSON: {exc}") from None


@router.get("/")
async def site_page(request: Request, limit: int = 500) -> HTMLResponse:
    return HTMLResponse(render_site(_emulator(request).directory, limit))


@router.post("/reset")
async def reset(request: Request) -> Response:
    _emulator(request).reset()
    return Response(status_code=204)


@router.get("/state")
async def dump_state(request: Request) -> Response:
    return json_response(_emulator(request).directory.dump())


@router.put("/state")
async def load_state(request: Request) -> Response:
    _emulator(request).directory.load(await _body(request))
    return Response(status_code=204)


@router.get("/counters")
async def counters(request: Request) -> Response:
    return json_response(_emulator(request).counters.as_json())


@router.delete("/counters")
async def clear_counters(request: Request) -> Response:
    _emulator(request).counters.clear()
    return Response(status_code=204)


@router.get("/faults")
async def faults(request: Request) -> Response:
    return json_response(_emulator(request).faults.as_json())


@router.put("/faults")
async def set_faults(request: Request, seed: int | None = None) -> Response:
    try:
        _emulator(request).set_faults(await _body(request), seed)
    except ValueError as exc:
        raise ApiError(400, f"Invalid fault spec: {exc}") from None
    return Response(status_code=204)


@router.get("/rate-limit")
async def rate_limit(request: Request) -> Response:
    limiter = _emulator(request).limiter
    return json_response(None if limiter is None else limiter.limit.as_json())


@router.put("/rate-limit")
async def set_rate_limit(request: Request) -> Response:
    body = await _body(request)
    try:
        limit = (
            None
            if body is None
            else RateLimit(int(body["fill_rate"]), int(body["interval_seconds"]), int(body["burst"]))
        )
        if limit is not None:
            limit.check()
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, f"Invalid rate limit: {exc}") from None
    _emulator(request).set_rate_limit(limit)
    return Response(status_code=204)


@router.delete("/rate-limit")
async def clear_rate_limit(request: Request) -> Response:
    _emulator(request).set_rate_limit(None)
    return Response(status_code=204)


@router.get("/settings")
async def settings(request: Request) -> Response:
    return json_response(_emulator(request).settings_json())


@router.patch("/settings")
async def update_settings(request: Request) -> Response:
    body = await _body(request)
    try:
        if not isinstance(body, dict):
            raise TypeError("settings must be a JSON object")
        _emulator(request).update_settings(body)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"Invalid settings: {exc}") from None
    return Response(status_code=204)


@router.post("/tokens")
async def issue_token(request: Request) -> Response:
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("username"), str):
        raise ApiError(400, 'Give {"username": "..."}')
    return json_response({"token": _emulator(request).directory.issue_token(body["username"])}, 201)
