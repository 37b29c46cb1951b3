"""The emulated directory: scim2-server's in-memory storage with what Atlassian adds to it.

- Group names are unique, ignoring case (`POST /Groups` with a taken name is 409 `uniqueness`).
- Deleting a user drops it from every group's members.
- A group's membership PATCH changes the stored group in place (`change_members`).
- A listing without a filter pages in creation order, by slicing, and a filtered one finds through
  scim2-server's index; both hand out the stored resources themselves: scim2-server's storage copies
  every resource of a page (and sorts every resource for every unfiltered page), which a
  100,000-user walk, or a lookup of a 100,000-member group, cannot afford.
- The state JSON (dump, load, `--state` file)::

      {"Users": [<SCIM user>...], "Groups": [<SCIM group>...]}

  each resource as `GET` returns it, `id` and `meta` included, in creation order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from scim2_models import Resource, ResourceType, ScimFilter, SearchRequest, UniquenessException
from scim2_server.memory import InMemoryStorage
from scim2_server.storage import SearchPage
from scim2_server.utils import parametrize

USERS, GROUPS = "User", "Group"
STATE_KEYS = {USERS: "Users", GROUPS: "Groups"}
# One operation of a membership PATCH: the members to add (validated member models), or the ids to remove.
MemberStep = tuple[Literal["add"], list[Any]] | tuple[Literal["remove"], frozenset[str]]


class DirectoryStore(InMemoryStorage):
    def __init__(
        self, models: dict[str, type[Resource[Any]]], resource_types: dict[str, ResourceType]
    ) -> None:
        super().__init__()
        self.models = models  # resource type name -> model (for loading state)
        self.resource_types = resource_types
        self.revision = 0  # bumped by every write, for the state file
        self._created: dict[str, dict[str, None]] = {USERS: {}, GROUPS: {}}  # ids in creation order
        self._ordered: dict[str, list[str] | None] = {USERS: None, GROUPS: None}

    def generate_id(self, resource_type: ResourceType, resource: Resource[Any]) -> str:
        return str(uuid.uuid4())  # Atlassian's ids are UUIDs

    # -- writes ----------------------------------------------------------------------------------

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        with self.lock:
            if resource_type.name == GROUPS:
                self._check_group_name(getattr(resource, "display_name", None), None)
            created = super().create(resource_type, resource)
            self._remember(resource_type.name, created.id)
            return created

    def update(
        self, resource_type: ResourceType, resource: Resource[Any], *, expected_version: str | None = None
    ) -> Resource[Any]:
        with self.lock:
            if resource_type.name == GROUPS:
                self._check_group_name(getattr(resource, "display_name", None), resource.id)
            updated = super().update(resource_type, resource, expected_version=expected_version)
            self.revision += 1
            return updated

    def delete(
        self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None
    ) -> None:
        with self.lock:
            super().delete(resource_type, resource_id, expected_version=expected_version)
            self._forget(resource_type.name, resource_id)
            if resource_type.name == USERS:
                self._drop_memberships(resource_id)

    def stored_group(self, group_id: str) -> Resource[Any]:
        """The stored group itself, not a copy (404 `NotFoundException` for an unknown id)."""
        return self._stored(self.resource_types[GROUPS], group_id)

    def change_members(self, group: Resource[Any], steps: Sequence[MemberStep]) -> Resource[Any]:
        """Apply a membership PATCH's steps (`AtlassianService.member_steps`) to a stored group, in
        place: an `add` appends the members whose id is not a member yet, a `remove` drops the
        members with those ids. One pass over the members a step, no copy: the cost of a PATCH is
        the group's size in set lookups. When something changed, `meta` and the revision move on
        as `update` moves them. Returns the stored group (the service only renders it)."""
        with self.lock:
            members = group.members if group.members is not None else []
            changed = False
            for kind, change in steps:
                if kind == "add":
                    present = {member.value for member in members}
                    for member in change:
                        if member.value not in present:
                            present.add(member.value)
                            members.append(member)
                            changed = True
                else:
                    kept = [member for member in members if member.value not in change]
                    changed = changed or len(kept) != len(members)
                    members[:] = kept
            if changed:
                if group.members is not members or not members:
                    group.members = members or None  # assigning validates the list: only when new or empty
                assert group.meta is not None
                group.meta = group.meta.model_copy(
                    update={"last_modified": self.clock(), "version": self.next_version()}
                )
                self.revision += 1
            return group

    def _drop_memberships(self, user_id: str) -> None:
        groups = self.resource_types[GROUPS]
        for group in list(self._resources.get(GROUPS, {}).values()):
            members = getattr(group, "members", None) or []
            kept = [member for member in members if member.value != user_id]
            if len(kept) != len(members):
                changed = group.model_copy(deep=True)
                changed.members = kept
                super().update(groups, changed)

    def _check_group_name(self, name: str | None, own_id: str | None) -> None:
        if name is None:
            return
        wanted = name.casefold()
        for group in self._resources.get(GROUPS, {}).values():
            if group.id != own_id and (getattr(group, "display_name", None) or "").casefold() == wanted:
                raise UniquenessException(detail=f"A group named {name!r} already exists")

    def _remember(self, name: str, resource_id: str | None) -> None:
        self._created.setdefault(name, {})[str(resource_id)] = None
        self._ordered[name] = None
        self.revision += 1

    def _forget(self, name: str, resource_id: str) -> None:
        self._created.get(name, {}).pop(resource_id, None)
        self._ordered[name] = None
        self.revision += 1

    # -- reads -----------------------------------------------------------------------------------

    def search(
        self, resource_types: list[ResourceType], search_request: SearchRequest[Any], *, position: Any = None
    ) -> SearchPage:
        if (
            len(resource_types) != 1
            or search_request.sort_by is not None
            or search_request.cursor is not None
        ):
            return super().search(resource_types, search_request, position=position)
        name = resource_types[0].name
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        # Not copies, unlike every other read: the service only renders them (see `render`).
        with self.lock:
            if search_request.filter is not None:
                found = self._matching(name, search_request.filter)
                return SearchPage(len(found), found[start:stop])
            ids = self._in_order(name)
            stored = self._resources.get(name, {})
            return SearchPage(len(ids), [stored[resource_id] for resource_id in ids[start:stop]])

    def _matching(self, name: str, scim_filter: ScimFilter[Any]) -> list[Resource[Any]]:
        """What a filter selects, as scim2-server finds it (through its index of the values an `eq`
        compares, the one filter the listings take) and orders it (by id)."""
        candidates = self._candidates([name], scim_filter)
        if not scim_filter.models and candidates:
            scim_filter = parametrize(ScimFilter, type(candidates[0]))(str(scim_filter))
        return sorted(
            (found for found in candidates if scim_filter.match(found)), key=lambda found: str(found.id)
        )

    def _in_order(self, name: str) -> list[str]:
        ordered = self._ordered.get(name)
        if ordered is None:
            ordered = self._ordered[name] = list(self._created.get(name, {}))
        return ordered

    # -- state JSON ------------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                key: [self._resources[name][rid].model_dump(mode="json") for rid in self._in_order(name)]
                for name, key in STATE_KEYS.items()
            }

    def load(self, state: Any) -> None:
        """Replace everything with `state` (ValueError, naming the resource, when it is not usable)."""
        if not isinstance(state, dict) or set(state) - set(STATE_KEYS.values()):
            raise ValueError(f"state must be an object with the keys {sorted(STATE_KEYS.values())}")
        resources: list[Resource[Any]] = []
        for name, key in STATE_KEYS.items():
            for index, raw in enumerate(state.get(key, [])):
                try:
                    resource = self.models[name].model_validate(raw)
                except ValueError as exc:
                    raise ValueError(f"{key}[{index}]: {exc}") from None
                if not resource.id or resource.meta is None or resource.meta.resource_type != name:
                    raise ValueError(f"{key}[{index}]: needs an id and meta.resourceType {name!r}")
                resources.append(resource)
        with self.lock:
            self.resources = resources
            self._created = {name: {} for name in STATE_KEYS}
            for resource in resources:
                assert resource.meta is not None
                self._created[str(resource.meta.resource_type)][str(resource.id)] = None
            self._ordered = {name: None for name in STATE_KEYS}
            self.revision += 1

    def clear(self) -> None:
        self.load({})
