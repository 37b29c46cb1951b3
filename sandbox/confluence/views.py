"""JSON shapes of Confluence users, groups and pages, and the JSON responses that carry them.

Responses are encoded here straight to bytes: no response models, no validation on the way out,
because listing a 100,000-user site page by page must stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from sandbox.confluence.errors import ApiError
from sandbox.confluence.state import User
from sandbox.emulation.jsonio import json_response

PROFILE_PICTURE = {
    "path": "/images/icons/profilepics/default.svg",
    "width": 48,
    "height": 48,
    "isDefault": True,
}
# Above this many items CONFSERVER-95396 makes `size` and `next` unreliable.
BUGGY_PAGING_THRESHOLD = 200
DEFAULT_PAGE_LIMIT = 200


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status)


@dataclass(frozen=True, slots=True)
class Site:
    """Where the caller reaches the site: `base` is the absolute URL including the context path."""

    base: str
    context: str

    @classmethod
    def of(cls, request: Request, context: str) -> Site:
        host = request.headers.get("host") or "{}:{}".format(*request.scope["server"])
        return cls(f"{request.scope['scheme']}://{host}{context}", context)


def user_json(user: User, site: Site, *, status: bool, email: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "known",
        "username": user.username,
        "userKey": user.user_key,
        "profilePicture": PROFILE_PICTURE,
        "displayName": user.display_name,
    }
    if email:
        body["email"] = user.email
    if status:
        body["status"] = "active" if user.active else "deactivated"
    body["_links"] = {"self": f"{site.base}/rest/api/user?key={user.user_key}"}
    if not status:
        body["_expandable"] = {"status": ""}
    return body


def group_json(name: str, site: Site) -> dict[str, Any]:
    return {
        "type": "group",
        "name": name,
        "_links": {"self": f"{site.base}/rest/api/group/{quote(name, safe='')}"},
    }


@dataclass(frozen=True, slots=True)
class PageRequest:
    start: int
    limit: int

    @classmethod
    def of(cls, request: Request, cap: int) -> PageRequest:
        """`start` and `limit` from the query; `limit` defaults to 200 and is cut to the server's cap."""
        start = _non_negative(request, "start", 0)
        limit = _non_negative(request, "limit", DEFAULT_PAGE_LIMIT)
        return cls(start, min(limit, cap))


def _non_negative(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a non-negative integer, got {raw!r}") from None
    if value < 0:
        raise ApiError(400, f"{name} must be a non-negative integer, got {raw!r}")
    return value


def page_json(
    results: list[dict[str, Any]], page: PageRequest, total: int, site: Site, request: Request, *, buggy: bool
) -> dict[str, Any]:
    """A Confluence page. `next` (relative to `base`) is there while items are left after this page.

    With `buggy` (CONFSERVER-95396) and more than 200 items, `size` claims a full page and `next`
    is always there, even past the end: only an empty `results` tells the client to stop.
    """
    size = len(results)
    has_next = page.start + size < total and size > 0
    if buggy and total > BUGGY_PAGING_THRESHOLD:
        size, has_next = page.limit, page.limit > 0
    links = {"base": site.base, "context": site.context, "self": f"{site.base}{_path_with_query(request)}"}
    if has_next:
        params = [
            (key, value) for key, value in request.query_params.multi_items() if key not in ("start", "limit")
        ]
        params += [("start", str(page.start + page.limit)), ("limit", str(page.limit))]
        links["next"] = f"{request.url.path}?{urlencode(params)}"
    return {"results": results, "start": page.start, "limit": page.limit, "size": size, "_links": links}


def _path_with_query(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def expands(request: Request, name: str) -> bool:
    return name in request.query_params.get("expand", "").split(",")
