"""The tenant as read, the tables kept between runs, and the frames made from them.

A full read fills a ``Tenant`` (dicts, as the pages come) and ``TenantTables.of`` numbers it; an
incremental read collects a ``Delta`` and ``TenantTables.patched`` applies it to the saved tables,
touching only what changed. Both end in ``TenantTables.frames``, so the two reads give the same
frames for the same tenant.

The tables (``to_state``/``from_state``, kept as Arrow IPC files by ``sources.incremental``):

- users: ``id`` and each selected property as text (``_text``), sorted by id; a user's number is
  its row;
- groups: ``id``, ``name``, sorted by id; a group's number is its row;
- edges: direct members that are known users or groups, by number (group, kind, member);
- loose: the other direct members by id (devices, contacts, service principals, and users or
  groups not (yet) read), as Graph reports them, so they count once they appear;
- flat: the memberships frame by number (nesting flattened, only usable users), sorted as the
  frame is: by group, direct before inherited, then user.

Numbers follow id order, so renumbering after a change keeps every kept row's order: an
incremental read remaps the saved numbers, drops the rows of what left, and recomputes only what
a change can reach: where a group's nesting changed (a subgroup added, removed or gone, or the
group back fresh), that group and the groups above it whole; where users joined or left a group
(or became usable), those users' rows alone, in that group and the groups above it (a user who
leaves a team stays in all-staff through another team: only that user is looked at there).
"Usable": not a guest left out by the rules, and with a login.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from confluence_provisioning import frames
from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.settings import EntraSourceSettings
from confluence_provisioning.sources.entra.errors import EntraReadError
from confluence_provisioning.sources.incremental import SourceState
from confluence_provisioning.sources.nesting import NumberedRows, contains, cycles, flatten_numbered
from confluence_provisioning.sources.rejects import RejectLog

log = logging.getLogger("confluence_provisioning.sources.entra")

USER, GROUP = "user", "group"
BASE_USER_PROPERTIES = ("id", "userPrincipalName", "displayName", "mail", "accountEnabled", "userType")
GROUP_PROPERTIES = ("id", "displayName")
USER_EDGE, GROUP_EDGE = 0, 1  # edges' kind column
_SPACE = pa.scalar(" ", pa.large_string())


def user_properties(settings: EntraSourceSettings) -> list[str]:
    """The user properties a read selects: what every read needs plus what the rules name."""
    named = [settings.login_attribute, settings.email_attribute, settings.display_name_attribute]
    return list(dict.fromkeys([*BASE_USER_PROPERTIES, *named, *settings.extra_attributes]))


def property_columns(settings: EntraSourceSettings) -> list[str]:
    """The users table's columns after ``id``: the selected properties."""
    return [name for name in user_properties(settings) if name != "id"]


def member_kind(odata_type: str | None) -> str:
    """``user``, ``group``, or the other type's name (device, orgContact, servicePrincipal, ...)."""
    return (odata_type or "#microsoft.graph.directoryObject").rsplit(".", 1)[-1]


def user_text(item: Mapping[str, Any], columns: Iterable[str]) -> dict[str, str | None]:
    """The selected properties an answer carries, as table text (absent ones are left out)."""
    return {name: _text(item[name]) for name in columns if name in item}


@dataclass
class Tenant:
    """A full read as it arrives."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> selected properties
    groups: dict[str, str] = field(default_factory=dict)  # id -> displayName
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # group id -> member id -> kind


@dataclass
class GroupChange:
    fresh: bool  # removed and back in one round: nothing of the saved group is kept
    name: str | None = None  # None: unchanged
    members: dict[str, str | None] = field(default_factory=dict)  # member id -> kind, None: removed

    def row(self) -> tuple[bool, dict[str, str | None]]:
        """As a groups table change (``_patched_rows``)."""
        return self.fresh, {} if self.name is None else {"name": self.name}


@dataclass
class Delta:
    """One round of both delta functions, as Graph gives it: the last word on each object counts."""

    columns: list[str]  # the users table's property columns
    users: dict[str, tuple[bool, dict[str, str | None]] | None] = field(default_factory=dict)
    groups: dict[str, GroupChange | None] = field(default_factory=dict)  # None: removed

    def add_user(self, item: Mapping[str, Any]) -> None:
        """A user of ``/users/delta``: removed, or its properties merged into what is known."""
        if "@removed" in item:
            self.users[item["id"]] = None
            return
        earlier = self.users.get(item["id"], (False, {}))
        fresh, known = earlier if earlier is not None else (True, {})  # removed, then back
        self.users[item["id"]] = (fresh, {**known, **user_text(item, self.columns)})

    def add_group(self, item: Mapping[str, Any]) -> None:
        """A group of ``/groups/delta``: removed, renamed, or with members added or removed."""
        group_id = item["id"]
        if "@removed" in item:
            self.groups[group_id] = None
            return
        change = self.groups.get(group_id)
        if change is None:  # first seen, or seen removed: then it starts again from nothing
            change = self.groups[group_id] = GroupChange(fresh=group_id in self.groups)
        if "displayName" in item:
            change.name = item["displayName"] or group_id
        for member in item.get("members@delta", []):
            removed = "@removed" in member
            change.members[member["id"]] = None if removed else member_kind(member.get("@odata.type"))


@dataclass(frozen=True)
class Edges:
    """Direct members that are known users or groups, by number."""

    group: np.ndarray  # int32
    kind: np.ndarray  # int8: USER_EDGE or GROUP_EDGE
    member: np.ndarray  # int32: a user's or a group's number

    def __getitem__(self, rows: np.ndarray) -> Edges:
        return Edges(self.group[rows], self.kind[rows], self.member[rows])

    def keys(self) -> np.ndarray:
        """One int64 per edge, to find edges by (group, kind, member)."""
        return _edge_keys(self.group, self.kind, self.member)

    @staticmethod
    def concat(parts: list[Edges]) -> Edges:
        return Edges(*(np.concatenate([getattr(p, n) for p in parts]) for n in ("group", "kind", "member")))


@dataclass
class _Reach:
    """What a delta changes in the memberships: groups to recompute whole (their nesting changed,
    or they came back fresh), and users whose direct memberships changed, in the groups that had
    those changes; each with the groups above them, where those users alone are recomputed."""

    whole: set[int] = field(default_factory=set)
    partial: set[int] = field(default_factory=set)
    users: set[int] = field(default_factory=set)

    def add(self, edges: Edges) -> None:
        """Edges added or removed."""
        nested = edges.kind == GROUP_EDGE
        self.whole.update(edges.group[nested].tolist())
        self.partial.update(edges.group[~nested].tolist())
        self.users.update(edges.member[~nested].tolist())


@dataclass
class TenantTables:
    users: pa.Table  # id and the property columns, sorted by id
    groups: pa.Table  # id, name, sorted by id
    edges: Edges
    loose: pa.Table  # group_id, member_id, kind
    flat: NumberedRows  # the memberships frame by number
    # ``_subgroups`` once per table and nesting setting: a patch and the frames ask several times
    _subgroups_by: dict[bool, list[list[int]]] = field(default_factory=dict, repr=False, compare=False)

    # -- a full read --------------------------------------------------------------------------

    @classmethod
    def of(cls, tenant: Tenant, settings: EntraSourceSettings) -> TenantTables:
        user_ids = sorted(tenant.users)
        columns = {
            name: pa.array([_text(tenant.users[u].get(name)) for u in user_ids], pa.large_string())
            for name in property_columns(settings)
        }
        users = pa.table({"id": pa.array(user_ids, pa.large_string()), **columns})
        group_ids = sorted(tenant.groups)
        names = [tenant.groups[g] for g in group_ids]
        groups = pa.table(
            {"id": pa.array(group_ids, pa.large_string()), "name": pa.array(names, pa.large_string())}
        )
        members = [tenant.members.get(g, {}) for g in group_ids]
        numbers = np.repeat(np.arange(len(group_ids), dtype=np.int32), [len(m) for m in members])
        ids = [member for m in members for member in m]
        kinds = [kind for m in members for kind in m.values()]
        edges, loose = _resolve(numbers, ids, kinds, _Index(users), _Index(groups), groups)
        tables = cls(users, groups, edges, loose, _no_rows())
        tables.flat = tables._memberships(range(len(group_ids)), _no_rows(), settings)
        return tables

    # -- between runs -------------------------------------------------------------------------

    def to_state(self, cursor: dict[str, Any]) -> SourceState:
        edges = pa.table({"group": self.edges.group, "kind": self.edges.kind, "member": self.edges.member})
        flat = pa.table({"group": self.flat.groups, "user": self.flat.users, "direct": self.flat.direct})
        text = {"users": self.users, "groups": self.groups, "loose": self.loose}
        return SourceState({**text, "edges": edges, "flat": flat}, cursor)

    @classmethod
    def from_state(cls, state: SourceState) -> TenantTables:
        tables = state.tables

        def text(name: str) -> pa.Table:
            table = tables[name]
            return table.cast(pa.schema([(column, pa.large_string()) for column in table.column_names]))

        def numbers(name: str, column: str, dtype: type) -> np.ndarray:
            return tables[name][column].to_numpy().astype(dtype, copy=False)

        edges = Edges(
            *(
                numbers("edges", c, t)
                for c, t in (("group", np.int32), ("kind", np.int8), ("member", np.int32))
            )
        )
        flat = NumberedRows(
            *(numbers("flat", c, t) for c, t in (("group", np.int32), ("user", np.int32), ("direct", bool)))
        )
        return cls(
            text("users").combine_chunks(), text("groups").combine_chunks(), edges, text("loose"), flat
        )

    # -- an incremental read ------------------------------------------------------------------

    def patched(self, delta: Delta, settings: EntraSourceSettings) -> TenantTables:
        """The tables after ``delta``; the memberships it can change are recomputed (``_Reach``)."""
        users, user_map = _patched_rows(self.users, delta.users)
        group_rows = {g: None if change is None else change.row() for g, change in delta.groups.items()}
        groups, group_map = _patched_rows(self.groups, group_rows, name_is_id=True)
        removed_users = [u for u, change in delta.users.items() if change is None]
        reach = _Reach()
        edges, loose = self._renumbered_members(users, user_map, groups, group_map, removed_users, reach)
        edges, loose = _with_members_said(delta, edges, loose, _Index(users), groups, reach)

        # a user who became usable (new, no longer a guest, a login now) appears in its groups;
        # one no longer usable leaves every group's rows
        usable = _usable(users, settings)
        before = np.zeros(len(users), bool)
        mapped = user_map >= 0
        before[user_map[mapped]] = _usable(self.users, settings)[mapped]
        gained = edges.kind == USER_EDGE
        gained[gained] = (usable & ~before)[edges.member[gained]]
        reach.add(edges[gained])

        tables = TenantTables(users, groups, edges, loose, _no_rows())
        whole = tables._with_ancestors(reach.whole, settings)
        partial = tables._with_ancestors(reach.partial, settings) - whole
        flat_group, flat_user = group_map[self.flat.groups], user_map[self.flat.users]  # -1: gone
        # flags by number, with one more at the end where -1 looks: one lookup per row and flag
        changed_user = _flags(len(users), reach.users)
        drop = _flags(len(groups) + 1, [*whole, -1])[flat_group] | np.append(~usable, True)[flat_user]
        drop |= _flags(len(groups) + 1, partial)[flat_group] & np.append(changed_user, False)[flat_user]
        keep = ~drop
        kept = NumberedRows(flat_group[keep], flat_user[keep], self.flat.direct[keep])
        tables.flat = tables._memberships(whole, kept, settings, partial, changed_user)
        return tables

    def _renumbered_members(
        self,
        users: pa.Table,
        user_map: np.ndarray,
        groups: pa.Table,
        group_map: np.ndarray,
        removed_users: list[str],
        reach: _Reach,
    ) -> tuple[Edges, pa.Table]:
        """The saved edges and loose members in the new numbers; the groups that lost a subgroup
        go to ``reach``.

        A removed user leaves every group (Graph says so per group too); a removed group's place
        in its parents is kept by id, as Graph keeps it (it may be restored).
        """
        old = self.edges
        group_of = group_map[old.group]
        is_user = old.kind == USER_EDGE
        member = np.empty(len(old.member), np.int32)
        member[is_user] = user_map[old.member[is_user]]
        member[~is_user] = group_map[old.member[~is_user]]
        lost = (group_of >= 0) & ~is_user & (member < 0)
        keep = (group_of >= 0) & (member >= 0)
        edges = Edges(group_of[keep].astype(np.int32), old.kind[keep], member[keep].astype(np.int32))
        lost_loose = pa.table(
            {
                "group_id": groups["id"].take(pa.array(group_of[lost])),
                "member_id": self.groups["id"].take(pa.array(old.member[lost])),
                "kind": pa.array([GROUP] * int(lost.sum()), pa.large_string()),
            }
        )
        loose = pa.concat_tables([self.loose, lost_loose])
        loose = loose.filter(
            pc.and_(
                pc.is_in(loose["group_id"], value_set=groups["id"]),
                pc.invert(pc.is_in(loose["member_id"], value_set=pa.array(removed_users, pa.large_string()))),
            )
        )
        reach.whole.update(group_of[lost].tolist())
        return edges, loose

    # -- memberships --------------------------------------------------------------------------

    def _subgroups(self, settings: EntraSourceSettings) -> list[list[int]]:
        """Each group's member groups (none when the rules do not flatten nesting)."""
        nested = settings.nested_groups and settings.memberships == "direct"
        if nested in self._subgroups_by:
            return self._subgroups_by[nested]
        subgroups: list[list[int]] = [[] for _ in range(len(self.groups))]
        if nested:
            edges = self.edges[self.edges.kind == GROUP_EDGE]
            for parent, child in zip(edges.group.tolist(), edges.member.tolist(), strict=True):
                subgroups[parent].append(child)
        for children in subgroups:
            children.sort()
        self._subgroups_by[nested] = subgroups
        return subgroups

    def _with_ancestors(self, groups: set[int], settings: EntraSourceSettings) -> set[int]:
        parents: dict[int, list[int]] = {}
        for parent, children in enumerate(self._subgroups(settings)):
            for child in children:
                parents.setdefault(child, []).append(parent)
        found = list(groups)
        seen = set(groups)
        for group in found:  # grows while it is walked
            for parent in parents.get(group, ()):
                if parent not in seen:
                    seen.add(parent)
                    found.append(parent)
        return seen

    def _memberships(
        self,
        groups: Iterable[int],
        kept: NumberedRows,
        settings: EntraSourceSettings,
        partial: Iterable[int] = (),
        users: np.ndarray | None = None,
    ) -> NumberedRows:
        """``kept`` with the memberships of ``groups`` computed and merged in, and those of the
        ``users`` flagged in the ``partial`` groups (``kept`` has none of either)."""
        usable = _usable(self.users, settings)
        own = self.edges.kind == USER_EDGE
        own[own] = usable[self.edges.member[own]]
        group, member = self.edges.group[own], self.edges.member[own]
        subgroups = self._subgroups(settings)
        rows = [flatten_numbered(group, member, subgroups, set(groups))]
        if users is not None:
            mine = users[member]
            rows.append(flatten_numbered(group[mine], member[mine], subgroups, set(partial)))
        return kept.merged(*rows)

    # -- frames -------------------------------------------------------------------------------

    def frames(self, settings: EntraSourceSettings) -> SourceSnapshot:
        """The shared frames: guests left out unless the rules include them, nesting flattened."""
        rejects = RejectLog()
        guest = _is_guest(self.users)
        in_scope = ~guest | settings.include_guests
        has_login = pc.is_valid(self.users[settings.login_attribute]).to_numpy(zero_copy_only=False)
        no_login = self.users.select(["id", "userPrincipalName"]).take(np.flatnonzero(in_scope & ~has_login))
        where = pc.coalesce(no_login["userPrincipalName"], no_login["id"])
        for user_id, dn in zip(no_login["id"].to_pylist(), where.to_pylist(), strict=True):
            rejects.add(USER, dn, user_id, f"the user has no {settings.login_attribute}")
        named = [settings.login_attribute, settings.email_attribute, settings.display_name_attribute]
        columns = list(
            dict.fromkeys(["id", "userPrincipalName", "accountEnabled", *named, *settings.extra_attributes])
        )
        usable = self.users.select(columns).filter(pa.array(in_scope & has_login))
        if len(usable) < settings.min_users:
            raise EntraReadError(
                f"the tenant gave {len(usable)} usable users, fewer than source.min_users "
                f"({settings.min_users}); an empty or shrunken directory is treated as a failed read: check "
                "the app's permissions (User.Read.All), or lower source.min_users if the tenant really is "
                "this small"
            )
        text = pd.arrays.ArrowStringArray
        user_frame = pd.DataFrame(
            {
                "id": text(usable["id"]),
                "dn": text(pc.coalesce(usable["userPrincipalName"], usable["id"])),
                "login": text(usable[settings.login_attribute]),
                "email": text(usable[settings.email_attribute]),
                "display_name": text(usable[settings.display_name_attribute]),
                "active": pc.fill_null(pc.not_equal(usable["accountEnabled"], "False"), True).to_numpy(),
                **{_attribute(name): text(usable[name]) for name in settings.extra_attributes},
            }
        )
        group_ids, names = self.groups["id"], self.groups["name"]
        group_frame = pd.DataFrame({"id": text(group_ids), "dn": text(names), "name": text(names)})
        membership_frame = pd.DataFrame(
            {
                "group_id": text(group_ids.take(pa.array(self.flat.groups))),
                "user_id": text(self.users["id"].take(pa.array(self.flat.users))),
                "direct": self.flat.direct,
            }
        )
        name_list, id_list = names.to_pylist(), group_ids.to_pylist()
        for cycle in cycles(self._subgroups(settings)):
            path = " -> ".join(name_list[g] for g in [*cycle, cycle[0]])
            rejects.add(
                GROUP,
                name_list[cycle[0]],
                id_list[cycle[0]],
                f"nested groups form a cycle ({path}); their members are flattened once, "
                "fix the nesting in Entra ID",
            )
        guests = 0 if settings.include_guests else int(guest.sum())
        others = Counter(k for k in self.loose["kind"].to_pylist() if k not in (USER, GROUP))
        if guests or others:
            ignored = ", ".join(f"{n} {kind}" for kind, n in sorted(others.items()))
            log.info(
                "Left out %d guest accounts (source.include_guests is false); ignored members: %s",
                guests,
                ignored or "none",
            )
        return SourceSnapshot(
            frames.conform(user_frame, frames.USERS),
            frames.conform(group_frame, frames.GROUPS),
            frames.conform(membership_frame, frames.MEMBERSHIPS),
            rejects.frame(),
        )


def _with_members_said(
    delta: Delta, edges: Edges, loose: pa.Table, users: _Index, groups: pa.Table, reach: _Reach
) -> tuple[Edges, pa.Table]:
    """Edges and loose members with what the groups round says (for each member it names, its
    word replaces what was), loose members known now made edges; what changed goes to ``reach``."""
    group_index = _Index(groups)
    changes = {g: change for g, change in delta.groups.items() if change is not None}
    number_of = dict(zip(changes, group_index.positions(list(changes)).tolist(), strict=True))
    fresh = [g for g, change in changes.items() if change.fresh]
    reach.whole.update(number_of[g] for g in fresh)
    said = [(g, m, k) for g, change in changes.items() for m, k in change.members.items()]
    said_groups = np.array([number_of[g] for g, _, _ in said], np.int64)
    said_ids = [m for _, m, _ in said]
    unsaid = [np.empty(0, np.int64)]
    for kind, index in ((USER_EDGE, users), (GROUP_EDGE, group_index)):
        found = index.positions(said_ids)
        known = found >= 0
        unsaid.append(_edge_keys(said_groups[known], kind, found[known]))
        reach.add(Edges(said_groups[known], np.full(known.sum(), kind, np.int8), found[known]))
    drop = _flags(len(groups), [number_of[g] for g in fresh])[edges.group]
    said_to = np.flatnonzero(
        _flags(len(groups), number_of.values())[edges.group]
    )  # the changed groups' edges
    drop[said_to] |= contains(np.unique(np.concatenate(unsaid)), edges[said_to].keys())
    edges = edges[~drop]
    loose_keys = pc.binary_join_element_wise(loose["group_id"], loose["member_id"], _SPACE)
    said_keys = pa.array([f"{g} {m}" for g, m, _ in said], pa.large_string())
    loose = loose.filter(
        pc.invert(
            pc.or_(
                pc.is_in(loose_keys, value_set=said_keys),
                pc.is_in(loose["group_id"], value_set=pa.array(fresh, pa.large_string())),
            )
        )
    )
    added = [(number_of[g], m, k) for g, m, k in said if k is not None]
    new_edges, new_loose = _resolve(
        np.array([a[0] for a in added], np.int32),
        [a[1] for a in added],
        [str(a[2]) for a in added],
        users,
        group_index,
        groups,
    )
    # loose members known now (a user or group read after the group that has it)
    now_known, still_loose = _resolve(
        group_index.positions(loose["group_id"].to_pylist()).astype(np.int32),
        loose["member_id"].to_pylist(),
        loose["kind"].to_pylist(),
        users,
        group_index,
        groups,
    )
    reach.add(now_known)
    return Edges.concat([edges, new_edges, now_known]), pa.concat_tables([still_loose, new_loose])


def snapshot(tenant: Tenant, settings: EntraSourceSettings) -> SourceSnapshot:
    """The frames of a full read."""
    return TenantTables.of(tenant, settings).frames(settings)


class _Index:
    """Rows of a table sorted by id, by id (a binary search: cheaper than hashing every id)."""

    def __init__(self, table: pa.Table) -> None:
        self.ids = table["id"].to_numpy(zero_copy_only=False)

    def positions(self, ids: list[str]) -> np.ndarray:
        """Each id's row, -1 where it has none."""
        wanted = np.array(ids, dtype=object)
        found = np.searchsorted(self.ids, wanted).astype(np.int64)
        inside = found < len(self.ids)
        inside[inside] = self.ids[found[inside]] == wanted[inside]
        return np.where(inside, found, -1)


def _flags(count: int, numbers: Iterable[int]) -> np.ndarray:
    """A mask over ``count`` numbers, true at ``numbers``."""
    flags = np.zeros(count, bool)
    flags[np.fromiter(numbers, np.int64)] = True
    return flags


def _attribute(name: str) -> str:
    return f"{frames.ATTRIBUTE_PREFIX}{name.lower()}"


def _edge_keys(group: np.ndarray, kind: np.ndarray | int, member: np.ndarray) -> np.ndarray:
    """(group, kind, member) as one int64: members are numbered below 2**32."""
    return (group.astype(np.int64) << 33) | (np.asarray(kind, np.int64) << 32) | member.astype(np.int64)


def _is_guest(users: pa.Table) -> np.ndarray:
    return pc.fill_null(pc.equal(users["userType"], "Guest"), False).to_numpy(zero_copy_only=False)


def _usable(users: pa.Table, settings: EntraSourceSettings) -> np.ndarray:
    """Users that become frame rows: with a login, and not guests the rules leave out."""
    has_login = pc.is_valid(users[settings.login_attribute]).to_numpy(zero_copy_only=False)
    return has_login if settings.include_guests else has_login & ~_is_guest(users)


def _patched_rows(
    table: pa.Table,
    changes: Mapping[str, tuple[bool, dict[str, str | None]] | None],
    *,
    name_is_id: bool = False,
) -> tuple[pa.Table, np.ndarray]:
    """``table`` with rows changed, added (over the saved row unless fresh) and removed, sorted
    by id; and each saved row's new number (-1: removed). A new group without a name: its id.

    Changed rows are removed and added again; the saved rows keep their order, so the table is
    not sorted again."""
    index = _Index(table)
    ids = list(changes)
    old = index.positions(ids)
    saved = dict(
        zip(
            [i for i, p in zip(ids, old, strict=True) if p >= 0],
            table.take(pa.array(old[old >= 0])).to_pylist(),
            strict=True,
        )
    )
    blank = dict.fromkeys(table.column_names)
    rows: list[dict[str, Any]] = []
    for row_id, change in changes.items():
        if change is not None:
            fresh, values = change
            base = None if fresh else saved.get(row_id)
            rows.append(
                {**(base or ({**blank, "name": row_id} if name_is_id else blank)), **values, "id": row_id}
            )
    rows.sort(key=lambda row: row["id"])
    added = pa.Table.from_pylist(rows, schema=table.schema)
    at = np.searchsorted(index.ids, np.array([row["id"] for row in rows], dtype=object)).astype(np.int64)
    removed = np.sort(old[old >= 0])
    kept = np.ones(len(table), bool)
    kept[removed] = False
    kept = np.flatnonzero(kept)
    # one take: the kept saved rows in order, each added row before the saved row at its position
    order = np.insert(kept, np.searchsorted(kept, at), len(table) + np.arange(len(rows)))
    patched = pa.concat_tables([table, added]).take(order).combine_chunks()
    mapping = np.full(len(table), -1, np.int32)
    mapping[kept] = kept - np.searchsorted(removed, kept) + np.searchsorted(at, kept, side="right")
    saved_at = dict(zip(ids, old.tolist(), strict=True))
    was = np.array([saved_at[row["id"]] for row in rows], np.int64)  # an added row's saved row, or -1
    number = at - np.searchsorted(removed, at) + np.arange(len(rows))
    mapping[was[was >= 0]] = number[was >= 0]
    return patched, mapping


def _resolve(
    group_numbers: np.ndarray,
    member_ids: list[str],
    kinds: list[str],
    users: _Index,
    groups: _Index,
    group_table: pa.Table,
) -> tuple[Edges, pa.Table]:
    """Direct members as edges (known users and groups, by number) and the loose rest (by id)."""
    kind = pa.array(kinds, pa.large_string())
    is_user = pc.equal(kind, USER).to_numpy(zero_copy_only=False)
    is_group = pc.equal(kind, GROUP).to_numpy(zero_copy_only=False)
    member = np.full(len(member_ids), -1, np.int64)
    ids = np.array(member_ids, dtype=object)
    member[is_user] = users.positions(ids[is_user].tolist())
    member[is_group] = groups.positions(ids[is_group].tolist())
    known = member >= 0
    edges = Edges(
        group_numbers[known].astype(np.int32),
        np.where(is_user[known], USER_EDGE, GROUP_EDGE).astype(np.int8),
        member[known].astype(np.int32),
    )
    rest = pa.array(~known)
    loose = pa.table(
        {
            "group_id": group_table["id"].take(pa.array(group_numbers, pa.int64())).filter(rest),
            "member_id": pa.array(member_ids, pa.large_string()).filter(rest),
            "kind": kind.filter(rest),
        }
    )
    return edges, loose


def _no_rows() -> NumberedRows:
    return NumberedRows(np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, bool))


def _text(value: Any) -> str | None:
    """A property as frame text: lists joined by newlines (the first value first), None when empty."""
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(str(v) for v in value) or None
    text = str(value)
    return text if text else None
