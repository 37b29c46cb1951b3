"""The `/__emulator/` control endpoints every emulator has; no authentication, never limited or faulted.

POST   /__emulator/reset          fresh site with the start-up options; counters cleared     204
GET    /__emulator/state          the whole site as state JSON (see the emulator's state module)
PUT    /__emulator/state          replace the site with the state JSON in the body            204
GET    /__emulator/counters       requests by method, route template and status
DELETE /__emulator/counters       zero the counters                                           204
GET    /__emulator/faults         the fault rules (with how often each fired) and the seed
PUT    /__emulator/faults         replace them with a fault SPEC; `?seed=` overrides its seed  204
GET    /__emulator/rate-limit     `{"fill_rate", "interval_seconds", "burst"}` or null
PUT    /__emulator/rate-limit     the same shape to turn it on (fresh buckets), null for off  204
DELETE /__emulator/rate-limit     off                                                         204
GET    /__emulator/settings       the emulator's settings (`control_router(settings=True)` only)
PATCH  /__emulator/settings       change some of them; unknown keys or bad values are a 400    204

The app's `state.emulator` is a `Controls` whose `store` holds the site. A bad body is a 400 raised
as Starlette's HTTPException, which each emulator words as its API words errors.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.emulation.controls import Controls
from sandbox.emulation.jsonio import json_response
from sandbox.emulation.ratelimit import RateLimit

NO_CONTENT = 204


def _controls(request: Request) -> Controls:
    return request.app.state.emulator


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"The request body must be JSON: {exc}") from None


def control_router(settings: bool = False) -> APIRouter:
    """The shared routes; with `settings`, also those of an emulator with `settings_json()` and
    `update_settings(changes)` (which raises TypeError or ValueError for a bad change)."""
    router = APIRouter(prefix="/__emulator")
    if settings:
        _add_settings_routes(router)

    @router.post("/reset")
    async def reset(request: Request) -> Response:
        _controls(request).reset()
        return Response(status_code=NO_CONTENT)

    @router.get("/state")
    async def dump_state(request: Request) -> Response:
        return json_response(_controls(request).store.dump())

    @router.put("/state")
    async def load_state(request: Request) -> Response:
        try:
            _controls(request).store.load(await json_body(request))
        except ValueError as exc:
            raise HTTPException(400, f"Invalid state: {exc}") from None
        return Response(status_code=NO_CONTENT)

    @router.get("/counters")
    async def counters(request: Request) -> Response:
        return json_response(_controls(request).counters.as_json())

    @router.delete("/counters")
    async def clear_counters(request: Request) -> Response:
        _controls(request).counters.clear()
        return Response(status_code=NO_CONTENT)

    @router.get("/faults")
    async def faults(request: Request) -> Response:
        return json_response(_controls(request).faults.as_json())

    @router.put("/faults")
    async def set_faults(request: Request, seed: int | None = None) -> Response:
        try:
            _controls(request).set_faults(await json_body(request), seed)
        except ValueError as exc:
            raise HTTPException(400, f"Invalid fault spec: {exc}") from None
        return Response(status_code=NO_CONTENT)

    @router.get("/rate-limit")
    async def rate_limit(request: Request) -> Response:
        limiter = _controls(request).limiter
        return json_response(None if limiter is None else limiter.limit.as_json())

    @router.put("/rate-limit")
    async def set_rate_limit(request: Request) -> Response:
        body = await json_body(request)
        try:
            limit = (
                None
                if body is None
                else RateLimit(int(body["fill_rate"]), int(body["interval_seconds"]), int(body["burst"]))
            )
            if limit is not None:
                limit.check()
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPException(400, f"Invalid rate limit: {exc}") from None
        _controls(request).set_rate_limit(limit)
        return Response(status_code=NO_CONTENT)

    @router.delete("/rate-limit")
    async def clear_rate_limit(request: Request) -> Response:
        _controls(request).set_rate_limit(None)
        return Response(status_code=NO_CONTENT)

    return router


def _add_settings_routes(router: APIRouter) -> None:
    @router.get("/settings")
    async def settings(request: Request) -> Response:
        return json_response(request.app.state.emulator.settings_json())

    @router.patch("/settings")
    async def update_settings(request: Request) -> Response:
        body = await json_body(request)
        try:
            if not isinstance(body, dict):
                raise TypeError("settings must be a JSON object")
            request.app.state.emulator.update_settings(body)
        except (TypeError, ValueError) as exc:
            raise HTTPException(400, f"Invalid settings: {exc}") from None
        return Response(status_code=NO_CONTENT)
