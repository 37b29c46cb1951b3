"""Read Okta into the shared frames: in full, or only what changed since the last read.

A read produces an `OktaState`: every Okta user with its status, every group with its type and
`lastMembershipUpdated`, the members of the groups the rules read, and a cursor (the org's time,
from the `Date` of the first answer, when the read began). `snapshot(state, settings)` derives
the IdP frames from it, the same way after a full and an incremental read:

- users: `id` (Okta's), `dn` = the login (Okta has no DNs; reports name users by it), `login`,
  `email`, `display_name` (`displayName`, else first and last name), `active` (the status is one
  of `source.active_statuses`), and `attr.<name>` for `source.extra_attributes`. STAGED and
  PROVISIONED users (not yet activated) are left out with a reject saying so. DEPROVISIONED
  users are read too (a plain list would leave them out) and are disabled, not forgotten.
- groups: OKTA_GROUP; APP_GROUP with `source.app_groups`; the built-in Everyone with
  `source.everyone_group` (its members are every user, so they are not read).
- memberships: direct (Okta has no nested groups).

A full read lists users with a filter naming every status (so DEPROVISIONED ones come too), all
groups (with `expand=stats`), and each read group's members, `max_in_flight` groups at a time.

An incremental read, from the last state: users with `lastUpdated ge` the cursor (less
`incremental_overlap_seconds`), all groups again (one or a few requests), and the members of
the groups whose `lastMembershipUpdated` moved since, or that are new. Deleted users are found
through Everyone: its `usersCount` is every user's, so when it differs from the users known,
Everyone's member ids are read and users no longer in it are dropped. Groups gone from the list
are dropped with their memberships.

The state is kept between runs by `sources.incremental` (tables under the storage base, the
cursor in the audit store); it decides when a read is full (the first, a `full_read` run, other
settings). Any failed request, a page that is not a list, or fewer users than `source.min_users`
raises `OktaReadError`: a partial read is never used, and nothing is saved.
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pandas as pd
import pyarrow as pa

from confluence_provisioning import frames
from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.settings.sources import NOT_YET_ACTIVE, OktaSourceSettings, UserStatus
from confluence_provisioning.sources import SourceContext
from confluence_provisioning.sources.incremental import SourceState, fingerprint, read_state
from confluence_provisioning.sources.okta.client import OktaClient
from confluence_provisioning.sources.okta.errors import OktaReadError

log = logging.getLogger(__name__)

USERS_PATH = "/api/v1/users"
GROUPS_PATH = "/api/v1/groups"
# Every status, so the list includes DEPROVISIONED users (a filter does, a plain list does not).
ALL_STATUSES_FILTER = " or ".join(f'status eq "{status.value}"' for status in UserStatus)


class _Member(msgspec.Struct):
    """Of a member (a whole user object), only the id is needed: the rest is skipped undecoded."""

    id: str


_decode_members = msgspec.json.Decoder(list[_Member])

OKTA_USERS: dict[str, str] = {
    "id": frames.STRING,
    "login": frames.STRING,
    "email": frames.STRING,
    "display_name": frames.STRING,
    "status": frames.STRING,
}
OKTA_GROUPS: dict[str, str] = {
    "id": frames.STRING,
    "name": frames.STRING,
    "type": frames.STRING,
    "last_membership_updated": frames.STRING,
    "users_count": "Int64",
}
OKTA_MEMBERSHIPS: dict[str, str] = {"group_id": frames.STRING, "user_id": frames.STRING}


@dataclass(frozen=True)
class OktaState:
    """Okta as last read: what an incremental read starts from (and what frames are derived from)."""

    users: pd.DataFrame  # OKTA_USERS + attr.* columns
    groups: pd.DataFrame  # OKTA_GROUPS: every group of the org
    memberships: pd.DataFrame  # OKTA_MEMBERSHIPS of the groups `settings` reads
    cursor: str  # the org's time when the read began (ISO 8601, UTC)

    def saved(self) -> SourceState:
        tables = {"users": self.users, "groups": self.groups, "memberships": self.memberships}
        arrow = {name: pa.Table.from_pandas(frame, preserve_index=False) for name, frame in tables.items()}
        return SourceState(arrow, {"lastUpdated": self.cursor})

    @classmethod
    def from_saved(cls, saved: SourceState) -> OktaState:
        users = saved.tables["users"].to_pandas()
        extra = {column: frames.STRING for column in users.columns if column not in OKTA_USERS}
        return cls(
            users.astype({**OKTA_USERS, **extra}),
            saved.tables["groups"].to_pandas().astype(OKTA_GROUPS),
            saved.tables["memberships"].to_pandas().astype(OKTA_MEMBERSHIPS),
            str(saved.cursor["lastUpdated"]),
        )


@dataclass(frozen=True)
class ReadReport:
    kind: str  # "full" or "incremental"
    requests: int
    rate_limit_waits: int
    changed_users: int
    groups_reread: int


def state_key(settings: OktaSourceSettings) -> str:
    return f"okta:{settings.connection_id}"


def state_fingerprint(settings: OktaSourceSettings) -> str:
    """What a saved state depends on: the groups read and the attributes kept."""
    return fingerprint(
        app_groups=settings.app_groups,
        everyone_group=settings.everyone_group,
        extra_attributes=sorted(settings.extra_attributes),
    )


def read_source(settings: OktaSourceSettings, context: SourceContext) -> SourceSnapshot:
    """The source contract (`sources.read_source`): only the changes when a state is saved."""
    from confluence_provisioning.sources.okta.hook import OktaHook  # Airflow, only where it is needed

    reports: list[ReadReport] = []

    def read_all(client: OktaClient) -> SourceState:
        state, report = read_full(client, settings)
        reports.append(report)
        return state.saved()

    def read_changes(client: OktaClient, saved: SourceState) -> SourceState:
        state, report = read_incremental(client, settings, OktaState.from_saved(saved))
        reports.append(report)
        return state.saved()

    with OktaHook(settings.connection_id).get_client(settings) as client:
        saved, how = read_state(
            context.states if settings.incremental else None,
            state_key(settings),
            state_fingerprint(settings),
            full_read=context.full_read,
            read_all=lambda: read_all(client),
            read_changes=lambda previous: read_changes(client, previous),
        )
    report = reports[-1]
    log.info(
        "Okta read, %s: %d requests (%d waits for the rate limit), %d users read, %d groups' members read",
        how,
        report.requests,
        report.rate_limit_waits,
        report.changed_users,
        report.groups_reread,
    )
    return snapshot(OktaState.from_saved(saved), settings)


# -- full and incremental reads --------------------------------------------------------------


def read_full(client: OktaClient, settings: OktaSourceSettings) -> tuple[OktaState, ReadReport]:
    users, cursor = _read_users(
        client, settings, {"filter": ALL_STATUSES_FILTER, "limit": settings.page_size}
    )
    groups = _read_groups(client, settings)
    reread = list(_read_group_ids(groups, settings))
    memberships = _read_members(client, settings, reread)
    state = OktaState(users, groups, memberships, cursor)
    _check_enough(state, settings)
    return state, ReadReport("full", client.requests, client.rate_limit_waits, len(users), len(reread))


def read_incremental(
    client: OktaClient, settings: OktaSourceSettings, previous: OktaState
) -> tuple[OktaState, ReadReport]:
    """What changed since `previous`, merged into it (`previous` was read with the same settings)."""
    since = _format(_parse(previous.cursor) - timedelta(seconds=settings.incremental_overlap_seconds))
    changed, cursor = _read_users(
        client, settings, {"filter": f'lastUpdated ge "{since}"', "limit": settings.page_size}
    )
    users = _merge(previous.users, changed, "id")
    groups = _read_groups(client, settings)
    users = _without_deleted(client, settings, users, groups)
    known = set(previous.groups["id"])
    moved = groups["last_membership_updated"].fillna("") >= since
    read_ids = set(_read_group_ids(groups, settings))
    reread = [
        group_id
        for group_id, again in zip(groups["id"], moved, strict=True)
        if group_id in read_ids and (again or group_id not in known)
    ]
    kept = previous.memberships[
        previous.memberships["group_id"].isin(read_ids - set(reread))
        & previous.memberships["user_id"].isin(set(users["id"]))
    ]
    memberships = pd.concat([kept, _read_members(client, settings, reread)], ignore_index=True)
    state = OktaState(users, groups, _conform(memberships, OKTA_MEMBERSHIPS), cursor)
    _check_enough(state, settings)
    return state, ReadReport(
        "incremental", client.requests, client.rate_limit_waits, len(changed), len(reread)
    )


def _read_users(
    client: OktaClient, settings: OktaSourceSettings, params: dict[str, Any]
) -> tuple[pd.DataFrame, str]:
    """The users of a walk of /api/v1/users, and the org's time at its first answer."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    attributes = settings.extra_attributes
    for items, response in client.walk(USERS_PATH, params):
        if not cursor:
            cursor = _server_time(response.headers.get("Date"))
        for item in items:
            rows.append(_user_row(item, attributes))
    columns = {**OKTA_USERS, **{_attribute_column(name): frames.STRING for name in attributes}}
    return _frame(rows, columns), cursor


def _user_row(item: dict[str, Any], attributes: list[str]) -> dict[str, Any]:
    try:
        profile = item["profile"]
        row = {"id": item["id"], "login": profile["login"], "status": item["status"]}
    except (KeyError, TypeError):
        raise OktaReadError(
            f"GET {USERS_PATH}: a user without id, status or profile.login: {item!r:.200}"
        ) from None
    row["email"] = profile.get("email")
    display = profile.get("displayName")
    if not display:
        display = (
            " ".join(part for part in (profile.get("firstName"), profile.get("lastName")) if part) or None
        )
    row["display_name"] = display
    for name in attributes:
        value = profile.get(name)
        row[_attribute_column(name)] = "\n".join(map(str, value)) if isinstance(value, list) else value
    return row


def _read_groups(client: OktaClient, settings: OktaSourceSettings) -> pd.DataFrame:
    rows = []
    for items, _ in client.walk(GROUPS_PATH, {"limit": settings.group_page_size, "expand": "stats"}):
        for item in items:
            try:
                count = ((item.get("_embedded") or {}).get("stats") or {}).get("usersCount")
                rows.append(
                    {
                        "id": item["id"],
                        "name": item["profile"]["name"],
                        "type": item["type"],
                        "last_membership_updated": item.get("lastMembershipUpdated"),
                        "users_count": count,
                    }
                )
            except (KeyError, TypeError):
                raise OktaReadError(
                    f"GET {GROUPS_PATH}: a group without id, type or profile.name: {item!r:.200}"
                ) from None
    return _frame(rows, OKTA_GROUPS)


def _read_group_ids(groups: pd.DataFrame, settings: OktaSourceSettings) -> Iterable[str]:
    """The groups whose members are read (never Everyone: its members are every user)."""
    types = {"OKTA_GROUP", "APP_GROUP"} if settings.app_groups else {"OKTA_GROUP"}
    return groups.loc[groups["type"].isin(types), "id"]


def _read_members(client: OktaClient, settings: OktaSourceSettings, group_ids: list[str]) -> pd.DataFrame:
    def members(group_id: str) -> list[str]:
        params = {"limit": settings.member_page_size}
        pages = client.walk(f"{GROUPS_PATH}/{group_id}/users", params, _decode_members)
        return [item.id for items, _ in pages for item in items]

    with ThreadPoolExecutor(max_workers=client.max_in_flight, thread_name_prefix="okta-members") as pool:
        results = list(pool.map(members, group_ids))
    group_column = [group_id for group_id, ids in zip(group_ids, results, strict=True) for _ in ids]
    user_column = [user_id for ids in results for user_id in ids]
    return _conform(pd.DataFrame({"group_id": group_column, "user_id": user_column}), OKTA_MEMBERSHIPS)


def _without_deleted(
    client: OktaClient, settings: OktaSourceSettings, users: pd.DataFrame, groups: pd.DataFrame
) -> pd.DataFrame:
    """`users` less the ones deleted in Okta, found through Everyone when its count says so."""
    everyone = groups[groups["type"] == "BUILT_IN"]
    if len(everyone) != 1:
        raise OktaReadError(
            f"GET {GROUPS_PATH}: expected the one built-in group Everyone, found {len(everyone)}"
        )
    count = everyone["users_count"].iloc[0]
    if not pd.isna(count) and int(count) == len(users):
        return users
    everyone_id = everyone["id"].iloc[0]
    params = {"limit": settings.member_page_size}
    pages = client.walk(f"{GROUPS_PATH}/{everyone_id}/users", params, _decode_members)
    present = {item.id for items, _ in pages for item in items}
    return users[users["id"].isin(present)].reset_index(drop=True)


def _check_enough(state: OktaState, settings: OktaSourceSettings) -> None:
    created = int((~state.users["status"].isin([status.value for status in NOT_YET_ACTIVE])).sum())
    if created < settings.min_users:
        raise OktaReadError(
            f"Okta returned {created} users (not counting STAGED or PROVISIONED ones), fewer than "
            f"source.min_users ({settings.min_users}); an empty or shrunken directory is treated as a "
            "failed read: check the connection's org URL and token, or lower source.min_users if the "
            "org really is this small"
        )


# -- frames ----------------------------------------------------------------------------------


def snapshot(state: OktaState, settings: OktaSourceSettings) -> SourceSnapshot:
    """The IdP frames of `state` as the rules read them (pure)."""
    users = state.users
    not_yet = users["status"].isin([status.value for status in NOT_YET_ACTIVE])
    created = users[~not_yet]
    active = created["status"].isin([status.value for status in settings.active_statuses])
    extra = [column for column in created.columns if column.startswith(frames.ATTRIBUTE_PREFIX)]
    users_frame = frames.conform(
        pd.DataFrame(
            {
                "id": created["id"],
                "dn": created["login"],
                "login": created["login"],
                "email": created["email"],
                "display_name": created["display_name"],
                "active": active,
                **{column: created[column] for column in extra},
            }
        ),
        frames.USERS,
    )
    types = {"OKTA_GROUP"} | ({"APP_GROUP"} if settings.app_groups else set())
    if settings.everyone_group:
        types.add("BUILT_IN")
    groups = state.groups[state.groups["type"].isin(types)]
    groups_frame = frames.conform(
        pd.DataFrame({"id": groups["id"], "dn": groups["name"], "name": groups["name"]}), frames.GROUPS
    )
    memberships = state.memberships[state.memberships["user_id"].isin(set(users_frame["id"]))]
    parts = [memberships]
    if settings.everyone_group:
        everyone_id = groups.loc[groups["type"] == "BUILT_IN", "id"]
        parts += [
            pd.DataFrame({"group_id": group_id, "user_id": users_frame["id"]}) for group_id in everyone_id
        ]
    all_memberships = pd.concat(parts, ignore_index=True).assign(direct=True)
    rejects = pd.DataFrame(
        {
            "source": "idp",
            "kind": "user",
            "dn": users.loc[not_yet, "login"],
            "id": users.loc[not_yet, "id"],
            "reason": "status "
            + users.loc[not_yet, "status"]
            + ": not yet activated in Okta, so not created",
        }
    )
    return SourceSnapshot(
        _sorted(users_frame, "id"),
        _sorted(groups_frame, "id"),
        _sorted(frames.conform(all_memberships, frames.MEMBERSHIPS), ["group_id", "user_id"]),
        _sorted(frames.conform(rejects, frames.REJECTS), "id"),
    )


# -- helpers ---------------------------------------------------------------------------------


def _attribute_column(name: str) -> str:
    return f"{frames.ATTRIBUTE_PREFIX}{name.lower()}"


def _frame(rows: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    return _conform(frame, columns)


def _conform(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    extra = [column for column in frame.columns if column not in columns]
    return frame.astype({**columns, **dict.fromkeys(extra, frames.STRING)}).reset_index(drop=True)


def _merge(previous: pd.DataFrame, changed: pd.DataFrame, key: str) -> pd.DataFrame:
    kept = previous[~previous[key].isin(set(changed[key]))]
    return pd.concat([kept, changed], ignore_index=True)


def _sorted(frame: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    return frame.sort_values(by, kind="stable").reset_index(drop=True)


def _server_time(date: str | None) -> str:
    moment = email.utils.parsedate_to_datetime(date) if date else datetime.now(UTC)
    return _format(moment)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
