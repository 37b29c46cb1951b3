"""Confluence's own emulator control endpoints under `/__emulator/` (beside `sandbox.emulation.admin`'s
reset, state, counters, faults and rate-limit); no authentication, never rate limited or faulted.

GET    /__emulator/               HTML page: users, groups and members (`?limit=` rows, default 500)
GET    /__emulator/settings       seats, active_users, show_emails, caps, buggy_paging, delete_delay_ms
PATCH  /__emulator/settings       change some of them                                         204
POST   /__emulator/tokens         `{"username": "admin"}` -> 201 `{"token": "..."}` (a personal access token)
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sandbox.confluence.emulator import Emulator
from sandbox.confluence.errors import ApiError
from sandbox.confluence.page import render_site
from sandbox.emulation.admin import json_body
from sandbox.emulation.jsonio import json_response

router = APIRouter(prefix="/__emulator")


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator


@router.get("/")
async def site_page(request: Request, limit: int = 500) -> HTMLResponse:
    return HTMLResponse(render_site(_emulator(request).directory, limit))


@router.post("/tokens")
async def issue_token(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("username"), str):
        raise ApiError(400, 'Give {"username": "..."}')
    return json_response({"token": _emulator(request).directory.issue_token(body["username"])}, 201)
