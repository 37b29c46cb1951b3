"""The Entra emulator's own control routes (beside `sandbox.emulation.admin`'s reset, state, counters,
faults and rate limit); no authentication, never throttled, faulted or counted.

PUT    /__emulator/directory      LDIF content records (text): replace the directory     200 counts
POST   /__emulator/changes        LDIF change records (text): apply them, all or nothing  200 counts
GET    /__emulator/ldif           the directory as LDIF content records (text)
GET    /__emulator/settings       page_cap, delta_page_size, delta_member_page, delta_token_ttl,
                                  repeat_next_link, token_lifetime
PATCH  /__emulator/settings       change some of them                                    204
POST   /__emulator/delta/reset    every delta token issued so far gets 410 resyncRequired 204
POST   /__emulator/tokens/expire  every access token issued so far is expired (401)      204

Counts: ``{"created", "updated", "removed", "members_added", "members_removed"}`` in the tenant.
A bad LDIF is a 400 whose message names the line.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sandbox.directories.model import LdifError
from sandbox.emulation.jsonio import json_response
from sandbox.entra.emulator import EntraEmulator

router = APIRouter(prefix="/__emulator")


def _emulator(request: Request) -> EntraEmulator:
    return request.app.state.emulator


async def _text(request: Request) -> str:
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"The LDIF must be UTF-8: {exc}") from None


async def _ldif_into_directory(request: Request, apply: bool) -> Response:
    """The body's LDIF loaded (content records) or applied (change records); the counts, saved."""
    emulator = _emulator(request)
    directory = emulator.directory
    read = directory.apply_ldif if apply else directory.load_ldif
    try:
        counts = read(await _text(request), name="request body")
    except LdifError as exc:
        raise HTTPException(400, str(exc)) from None
    emulator.save()
    return json_response(counts)


@router.put("/directory")
async def load_directory(request: Request) -> Response:
    return await _ldif_into_directory(request, apply=False)


@router.post("/changes")
async def apply_changes(request: Request) -> Response:
    return await _ldif_into_directory(request, apply=True)


@router.get("/ldif")
async def dump_ldif(request: Request) -> Response:
    return PlainTextResponse(_emulator(request).directory.model.to_ldif())


@router.post("/delta/reset")
async def reset_sync_state(request: Request) -> Response:
    emulator = _emulator(request)
    emulator.directory.tenant.reset_sync_state()
    emulator.save()
    return Response(status_code=204)


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> Response:
    _emulator(request).tokens.expire_all()
    return Response(status_code=204)
