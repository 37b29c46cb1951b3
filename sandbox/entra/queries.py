"""The pages Graph answers: lists, members, transitive members and delta rounds, as JSON bodies.

Plain functions of the tenant and the request's query options, shared by the routes and by
``$batch`` (which runs the same requests inside one POST).
"""

from __future__ import annotations

import bisect
import dataclasses
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from sandbox.entra.graph import (
    DEFAULT_PROPERTIES,
    DEFAULT_TOP,
    GROUP,
    GROUP_DELTA_DEFAULT,
    MAX_TOP,
    SELECTABLE,
    USER,
    USER_DELTA_DEFAULT,
    GraphError,
    not_found,
    odata_type,
)
from sandbox.entra.tenant import DirectoryObject, Tenant
from sandbox.entra.tokens import seal, unseal

NAVIGATION = frozenset({"members", "manager", "owners"})
UNSUPPORTED = ("$filter", "$orderby", "$search", "$expand", "$count", "$skip")


@dataclasses.dataclass
class Settings:
    """Paging knobs an admin route can change while the emulator runs."""

    page_cap: int = MAX_TOP  # the most objects a list page holds, whatever $top asked (<= 999)
    delta_page_size: int = 200  # objects per delta page ($top is not supported there)
    delta_member_page: int = 1000  # members@delta entries per delta page; a big group spans pages
    delta_token_ttl: float = 7 * 24 * 3600  # directory objects: seven days
    repeat_next_link: bool = False  # a broken server: every nextLink of a list is the first one


@dataclasses.dataclass(frozen=True)
class Request:
    base: str  # scheme://host of the Graph base URL
    path: str  # below /v1.0/, e.g. "users" or "groups/{id}/members"
    params: Mapping[str, str]


def _url(base: str, path: str, params: Mapping[str, str]) -> str:
    query = urlencode(params, quote_via=quote, safe="$,()'")
    return f"{base}/v1.0/{path}" + (f"?{query}" if query else "")


def _context(base: str, entity_set: str, select: list[str] | None) -> str:
    return f"{base}/v1.0/$metadata#{entity_set}" + (f"({','.join(select)})" if select else "")


def parse_select(kind: str, raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    allowed = SELECTABLE.get(kind)
    for name in names:
        if allowed is not None and name not in allowed:
            raise GraphError(
                400,
                "BadRequest",
                f"Parsing OData Select and Expand failed: Could not find a property named '{name}' "
                f"on type 'microsoft.graph.{kind}'.",
            )
    return names


def parse_top(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_TOP
    try:
        top = int(raw)
    except ValueError:
        top = 0
    if not 1 <= top <= MAX_TOP:
        raise GraphError(
            400,
            "Request_BadRequest",
            f"Invalid page size specified: '{raw}'. Must be between 1 and {MAX_TOP} inclusive.",
        )
    return top


def _refuse_unsupported(params: Mapping[str, str]) -> None:
    for name in UNSUPPORTED:
        if name in params:
            raise GraphError(
                400, "Request_UnsupportedQuery", f"The emulator does not implement {name} on this route."
            )


def render(obj: DirectoryObject, select: list[str] | None, with_type: bool = False) -> dict[str, Any]:
    """An object as a list shows it: id plus the selected (or default) properties it has."""
    fields = select if select is not None else DEFAULT_PROPERTIES[obj.type]
    body: dict[str, Any] = {"@odata.type": odata_type(obj.type)} if with_type else {}
    body["id"] = obj.id
    for name in fields:
        if name != "id" and name not in NAVIGATION and name in obj.props:
            body[name] = obj.props[name]
    return body


# -- lists ----------------------------------------------------------------------------------------


def list_page(tenant: Tenant, settings: Settings, kind: str, request: Request) -> dict[str, Any]:
    """GET /users or /groups: sorted by id, ``$top`` objects a page, resumed after the last id."""
    params = request.params
    _refuse_unsupported(params)
    select = parse_select(kind, params.get("$select"))
    size = min(parse_top(params.get("$top")), settings.page_cap)
    after = _skip_cursor(tenant, params, request.path)
    ids = tenant.ids(kind)
    start = bisect.bisect_right(ids, after) if after is not None else 0
    page = ids[start : start + size]
    body: dict[str, Any] = {"@odata.context": _context(request.base, f"{kind}s", select)}
    if start + size < len(ids):
        # a broken server repeats itself: every later page links to itself
        cursor = after if settings.repeat_next_link and after is not None else page[-1]
        body["@odata.nextLink"] = _next_link(tenant, request, {"a": cursor})
    body["value"] = [render(tenant.objects[i], select) for i in page]
    return body


def get_object(tenant: Tenant, kind: str, object_id: str, request: Request) -> dict[str, Any]:
    select = parse_select(kind, request.params.get("$select"))
    obj = tenant.objects.get(object_id)
    if obj is None or obj.type != kind:
        raise not_found(object_id)
    return {"@odata.context": _context(request.base, f"{kind}s/$entity", select), **render(obj, select)}


def member_page(
    tenant: Tenant, settings: Settings, group_id: str, transitive: bool, request: Request
) -> dict[str, Any]:
    """GET /groups/{id}/members or /transitiveMembers: every member type, each with @odata.type."""
    params = request.params
    _refuse_unsupported(params)
    group = tenant.objects.get(group_id)
    if group is None or group.type != GROUP:
        raise not_found(group_id)
    select = parse_select("directoryObject", params.get("$select"))
    size = min(parse_top(params.get("$top")), settings.page_cap)
    offset = int(_skip_payload(tenant, params, request.path).get("o", 0))
    ids = tenant.transitive_members(group_id) if transitive else list(tenant.members.get(group_id, {}))
    page = ids[offset : offset + size]
    body: dict[str, Any] = {"@odata.context": _context(request.base, "directoryObjects", select)}
    if offset + size < len(ids):
        body["@odata.nextLink"] = _next_link(tenant, request, {"o": offset + size})
    body["value"] = [render(tenant.objects[i], select, with_type=True) for i in page if i in tenant.objects]
    return body


def _skip_payload(tenant: Tenant, params: Mapping[str, str], path: str) -> dict[str, Any]:
    token = params.get("$skiptoken")
    if token is None:
        return {}
    payload = unseal(tenant.secret, token)
    if payload is None or payload.get("p") != path:
        raise GraphError(
            400, "Request_BadRequest", "The specified page token value has expired or is invalid."
        )
    return payload


def _skip_cursor(tenant: Tenant, params: Mapping[str, str], path: str) -> str | None:
    return _skip_payload(tenant, params, path).get("a")


def _next_link(tenant: Tenant, request: Request, cursor: dict[str, Any]) -> str:
    params = {k: v for k, v in request.params.items() if k != "$skiptoken"}
    params["$skiptoken"] = seal(tenant.secret, {"p": request.path, **cursor})
    return _url(request.base, request.path, params)


# -- delta ----------------------------------------------------------------------------------------


def delta_page(tenant: Tenant, settings: Settings, kind: str, request: Request) -> dict[str, Any]:
    """GET /users/delta or /groups/delta: a page of a round, ending in a nextLink or a deltaLink."""
    params = request.params
    if "$top" in params or "$expand" in params or "$orderby" in params:
        raise GraphError(
            400, "Request_UnsupportedQuery", "$top, $expand and $orderby are not supported on delta."
        )
    if "$skiptoken" in params:
        state = _delta_state(tenant, settings, kind, params["$skiptoken"], request)
    elif "$deltatoken" in params and params["$deltatoken"] == "latest":
        select = parse_select(kind, params.get("$select"))
        return _delta_end(tenant, request, kind, select, [])
    elif "$deltatoken" in params:
        state = _delta_state(tenant, settings, kind, params["$deltatoken"], request)
        if "$select" in params:  # Graph lets a deltaLink change what it tracks
            state["sel"] = parse_select(kind, params["$select"])
        state.update(e=tenant.seq, a=None, m=0, init=False)
    else:
        state = {
            "s": 0,
            "e": tenant.seq,
            "sel": parse_select(kind, params.get("$select")),
            "a": None,
            "m": 0,
            "init": True,
        }
    select = state["sel"]
    tracked = list(select or (USER_DELTA_DEFAULT if kind == USER else GROUP_DELTA_DEFAULT))
    since = int(state["s"])
    if state["init"]:
        candidates = tenant.ids(kind)
    else:
        candidates = sorted(
            i
            for i in tenant.touched_since(since)
            if (tenant.objects[i].type == kind if i in tenant.objects else _removed_kind(tenant, i) == kind)
        )
    value: list[dict[str, Any]] = []
    member_budget = settings.delta_member_page
    after, offset = state["a"], int(state["m"])
    start = 0
    if after is not None:
        start = bisect.bisect_left(candidates, after) if offset else bisect.bisect_right(candidates, after)
    index = start
    while index < len(candidates) and len(value) < settings.delta_page_size:
        object_id = candidates[index]
        entry, members = _delta_entry(tenant, kind, object_id, since, state["init"], select, tracked)
        if entry is None:
            index, offset = index + 1, 0
            continue
        if members is not None:
            chunk = members[offset : offset + max(member_budget, 1)]
            if chunk or offset == 0:
                entry["members@delta"] = chunk
            member_budget -= len(chunk)
            if offset + len(chunk) < len(members):  # the rest of this group's members on the next page
                value.append(entry)
                cursor = {"a": object_id, "m": offset + len(chunk)}
                return _delta_next(tenant, request, kind, state, select, cursor, value)
            offset = 0
        value.append(entry)
        index += 1
        if member_budget <= 0:
            break
    if index < len(candidates):
        cursor = {"a": candidates[index - 1], "m": 0}
        return _delta_next(tenant, request, kind, state, select, cursor, value)
    return _delta_end(tenant, request, kind, select, value, since=int(state["e"]))


def _delta_entry(
    tenant: Tenant,
    kind: str,
    object_id: str,
    since: int,
    init: bool,
    select: list[str] | None,
    tracked: list[str],
) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    obj = tenant.objects.get(object_id)
    if obj is None:
        removal = tenant.removed.get(object_id)
        if init or removal is None or removal.seq <= since:
            return None, None
        return {"id": object_id, "@removed": {"reason": removal.reason}}, None
    fields = [n for n in (select or DEFAULT_PROPERTIES[kind]) if n != "members"]
    track_members = kind == GROUP and "members" in tracked
    if init:
        members = (
            [_member_ref(tenant, m, True) for m in tenant.members.get(object_id, {})]
            if track_members
            else None
        )
        return render(obj, fields), members or None
    changed = obj.created > since or any(obj.changed.get(n, 0) > since for n in tracked)
    members = None
    if track_members:
        if obj.created > since:
            members = [_member_ref(tenant, m, True) for m in tenant.members.get(object_id, {})]
        else:
            members = [
                _member_ref(tenant, m, kept) for m, kept in tenant.members_changed_since(object_id, since)
            ]
        changed = changed or bool(members)
    if not changed:
        return None, None
    return render(obj, fields), members or None


def _member_ref(tenant: Tenant, member_id: str, present: bool) -> dict[str, Any]:
    obj = tenant.objects.get(member_id)
    kind = obj.type if obj is not None else _removed_kind(tenant, member_id) or "directoryObject"
    ref: dict[str, Any] = {"@odata.type": odata_type(kind), "id": member_id}
    if not present:
        ref["@removed"] = {"reason": "deleted"}
    return ref


def _removed_kind(tenant: Tenant, object_id: str) -> str | None:
    removal = tenant.removed.get(object_id)
    return removal.type if removal is not None else None


def _delta_state(
    tenant: Tenant, settings: Settings, kind: str, token: str, request: Request
) -> dict[str, Any]:
    payload = unseal(tenant.secret, token)
    if payload is None or payload.get("d") != kind:
        raise GraphError(400, "Request_BadRequest", "The delta token or skip token is malformed.")
    location = {"Location": _url(request.base, f"{kind}s/delta", {"$deltatoken": ""})}
    if payload.get("ep") != tenant.epoch:
        raise GraphError(
            410,
            "resyncRequired",
            "Resync required: replace any local state with a full synchronization.",
            location,
        )
    if time.time() - float(payload.get("ts", 0)) > settings.delta_token_ttl:
        raise GraphError(
            410,
            "syncStateNotFound",
            "The sync state generation is not found; the delta token "
            "is expired and data must be synchronized again.",
            location,
        )
    return payload


def _delta_next(
    tenant: Tenant,
    request: Request,
    kind: str,
    state: dict[str, Any],
    select: list[str] | None,
    cursor: dict[str, Any],
    value: list[dict[str, Any]],
) -> dict[str, Any]:
    token = seal(
        tenant.secret,
        {
            "d": kind,
            "s": state["s"],
            "e": state["e"],
            "ep": tenant.epoch,
            "sel": select,
            "init": state["init"],
            "ts": time.time(),
            **cursor,
        },
    )
    return {
        "@odata.context": _context(request.base, f"{kind}s", select),
        "@odata.nextLink": _url(request.base, f"{kind}s/delta", {"$skiptoken": token}),
        "value": value,
    }


def _delta_end(
    tenant: Tenant,
    request: Request,
    kind: str,
    select: list[str] | None,
    value: list[dict[str, Any]],
    since: int | None = None,
) -> dict[str, Any]:
    step = tenant.seq if since is None else since
    token = seal(tenant.secret, {"d": kind, "s": step, "ep": tenant.epoch, "sel": select, "ts": time.time()})
    return {
        "@odata.context": _context(request.base, f"{kind}s", select),
        "@odata.deltaLink": _url(request.base, f"{kind}s/delta", {"$deltatoken": token}),
        "value": value,
    }
