"""Read Entra ID through Microsoft Graph: a full read, or the changes since the last one (delta).

Full read: users and groups with ``$select`` and the largest page, then every group's members
(direct, or transitive when the rules say so), batched twenty groups to a JSON ``$batch``.
Before it, when reads are incremental, the read asks both delta functions for a link from now
(``$deltatoken=latest``), so whatever changes while it reads comes again next time.

Incremental read: the users delta link and the groups delta link (``$select=displayName,members``)
each give a round of changed and removed objects and ``members@delta``; they are collected as a
``Delta`` and patched into the saved tables (``TenantTables.patched``), and the new links are
kept. A stale link (410, ``resyncRequired``,
``syncStateNotFound``) makes it a full read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.settings import EntraSourceSettings
from confluence_provisioning.sources import SourceContext
from confluence_provisioning.sources.entra.client import GraphClient
from confluence_provisioning.sources.entra.errors import EntraReadError
from confluence_provisioning.sources.entra.hook import EntraHook
from confluence_provisioning.sources.entra.tenant import (
    GROUP_PROPERTIES,
    Delta,
    Tenant,
    TenantTables,
    member_kind,
    property_columns,
    user_properties,
)
from confluence_provisioning.sources.incremental import SourceState, fingerprint, read_state

log = logging.getLogger("confluence_provisioning.sources.entra")

TABLES_LAYOUT = 2  # the saved tables' layout (``tenant``): a state of another layout is read in full


def read_source(settings: EntraSourceSettings, context: SourceContext) -> SourceSnapshot:
    """The source contract (``sources.read_source``)."""
    hook = EntraHook(settings.connection_id)
    with hook.get_conn(settings.retry) as client:
        reader = EntraReader(client, settings)
        tables, how = reader.read(context)
        log.info("Read Entra ID (%s) with %d requests", how, client.requests)
    return tables.frames(settings)


class EntraReader:
    def __init__(self, client: GraphClient, settings: EntraSourceSettings) -> None:
        self.client = client
        self.settings = settings
        self.user_select = ",".join(user_properties(settings))
        self.group_select = ",".join(GROUP_PROPERTIES)

    @property
    def incremental(self) -> bool:
        return self.settings.incremental and self.settings.memberships == "direct"

    @property
    def state_key(self) -> str:
        """Where this tenant's saved state is kept (``SourceStates``)."""
        return f"entra_id:{self.client.options.tenant_id}:{self.settings.connection_id}"

    @property
    def state_digest(self) -> str:
        """The settings a saved state depends on: the saved tables hold the flattened memberships
        of usable users, so what decides those too."""
        return fingerprint(
            graph=self.client.options.graph_url,
            users=self.user_select,
            groups=self.group_select,
            include_guests=self.settings.include_guests,
            nested_groups=self.settings.nested_groups,
            tables=TABLES_LAYOUT,
        )

    def read(self, context: SourceContext) -> tuple[TenantTables, str]:
        """The tenant now, and how it was read ("full", "incremental", "full (why)")."""
        if not self.incremental:
            return TenantTables.of(self.read_all(with_links=False)[0], self.settings), "full"
        read: list[TenantTables] = []  # the tables as read: no need to load them back

        def read_all() -> SourceState:
            tenant, cursor = self.read_all(with_links=context.states is not None)
            read.append(TenantTables.of(tenant, self.settings))
            return read[-1].to_state(cursor)

        def read_changes(saved: SourceState) -> SourceState:
            delta, cursor = self.read_changes(saved.cursor)
            read.append(TenantTables.from_state(saved).patched(delta, self.settings))
            return read[-1].to_state(cursor)

        _, how = read_state(
            context.states,
            self.state_key,
            self.state_digest,
            full_read=context.full_read,
            read_all=read_all,
            read_changes=read_changes,
        )
        return read[-1], how

    # -- full read ------------------------------------------------------------------------------

    def read_all(self, *, with_links: bool) -> tuple[Tenant, dict[str, str]]:
        """The whole tenant, and delta links from before the read (when ``with_links``)."""
        size = self.settings.page_size
        cursor: dict[str, str] = {}
        if with_links:  # taken first: what changes during the read comes again next time
            cursor = {
                "users": self._latest(f"users/delta?$select={self.user_select}"),
                "groups": self._latest("groups/delta?$select=displayName,members"),
            }
        tenant = Tenant()
        for page in self.client.pages(f"users?$select={self.user_select}&$top={size}"):
            for user in page["value"]:
                tenant.users[user["id"]] = self._user(user)
        for page in self.client.pages(f"groups?$select={self.group_select}&$top={size}"):
            for group in page["value"]:
                tenant.groups[group["id"]] = group.get("displayName") or group["id"]
        relation = "transitiveMembers" if self.settings.memberships == "transitive" else "members"
        for group_id, members in self._members(list(tenant.groups), relation):
            tenant.members[group_id] = members
        return tenant, cursor

    def _latest(self, path: str) -> str:
        page = self.client.get_json(f"{path}&$deltatoken=latest")
        link = page.get("@odata.deltaLink")
        if not link:
            raise EntraReadError(f"GET {path.split('?')[0]} with $deltatoken=latest gave no deltaLink")
        return str(link)

    def _user(self, user: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in user.items() if k != "id" and not k.startswith("@")}

    def _members(self, group_ids: list[str], relation: str) -> Iterator[tuple[str, dict[str, str]]]:
        """(group id, {member id: kind}) of every group, twenty groups' pages to a $batch."""
        found: dict[str, dict[str, str]] = {g: {} for g in group_ids}
        prefix = f"{self.client.options.graph_url}/v1.0/"
        pending = [
            (g, f"groups/{quote(g)}/{relation}?$select=id&$top={self.settings.page_size}") for g in group_ids
        ]
        while pending:
            chunk, pending = pending[: self.settings.batch_size], pending[self.settings.batch_size :]
            for (group_id, _), body in zip(
                chunk, self.client.batch([path for _, path in chunk]), strict=True
            ):
                for member in body.get("value", []):
                    found[group_id][member["id"]] = member_kind(member.get("@odata.type"))
                link = body.get("@odata.nextLink")
                if link:
                    if not link.startswith(prefix):
                        raise EntraReadError(
                            f"a member page links outside the Graph URL: {link.split('?')[0]}"
                        )
                    pending.append((group_id, link.removeprefix(prefix)))
        yield from found.items()

    # -- incremental read -----------------------------------------------------------------------

    def read_changes(self, cursor: Any) -> tuple[Delta, dict[str, str]]:
        """The changes since ``cursor``, and the links for next time."""
        links: dict[str, str] = {}
        delta = Delta(property_columns(self.settings))
        for item in self._round(cursor["users"], "users", links):
            delta.add_user(item)
        for item in self._round(cursor["groups"], "groups", links):
            delta.add_group(item)
        return delta, links

    def _round(self, link: str, name: str, links: dict[str, str]) -> Iterator[dict[str, Any]]:
        """The objects of one delta round; its final deltaLink goes into ``links[name]``."""
        end = None
        for page in self.client.pages(link):
            yield from page.get("value", [])
            end = page.get("@odata.deltaLink")
        if not end:
            raise EntraReadError(f"the {name} delta round ended without a deltaLink")
        links[name] = end
