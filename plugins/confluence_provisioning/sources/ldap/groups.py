"""The group search: paged entries -> group columns and each group's raw member values."""

from __future__ import annotations

from dataclasses import dataclass, field

import ldap3
import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.sources.ldap.entry_columns import EntryColumns, arrow_strings
from confluence_provisioning.sources.ldap.entry_values import Unusable, entry_id, naming_value
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile
from confluence_provisioning.sources.ldap.ranges import all_values
from confluence_provisioning.sources.ldap.search import Search, entries
from confluence_provisioning.sources.rejects import RejectLog

OBJECT_SID = "objectSid"


@dataclass
class GroupColumns(EntryColumns):
    kind = "group"
    names: list[str] = field(default_factory=list)
    # per group: (member attribute, its values), values complete (ranges fetched)
    members: list[list[tuple[str, list[str]]]] = field(default_factory=list)
    rids: list[int | None] = field(default_factory=list)  # Active Directory: the RID of the objectSid

    def frame(self) -> pd.DataFrame:
        columns = {
            "id": arrow_strings(self.ids),
            "dn": arrow_strings(self.dns),
            "name": arrow_strings(self.names),
        }
        return frames.conform(pd.DataFrame(columns), frames.GROUPS)


def group_searches(profile: DirectoryProfile, bases: list[str]) -> list[Search]:
    wanted = [
        profile.id_attribute,
        profile.group_name_attribute,
        *profile.member_attributes,
        *([OBJECT_SID] if profile.primary_group else []),
    ]
    attributes = tuple({name.lower(): name for name in wanted}.values())
    return [
        Search(
            "group search",
            base,
            profile.group_filter,
            attributes,
            base_setting="directory.group_base_dn",
            filter_setting="directory.group_filter",
        )
        for base in bases
    ]


def read_groups(
    conn: ldap3.Connection, profile: DirectoryProfile, searches: list[Search], rejects: RejectLog
) -> GroupColumns:
    groups = GroupColumns(rejects)
    for entry in entries(conn, searches, profile.page_size):
        _add_group(conn, groups, entry, profile)
    return groups


def _add_group(conn: ldap3.Connection, groups: GroupColumns, entry: dict, profile: DirectoryProfile) -> None:
    dn = entry["dn"]
    attributes = entry["attributes"]
    try:
        group_id = entry_id(profile.id_attribute, entry["raw_attributes"])
        name = naming_value(
            dn,
            profile.group_name_attribute,
            attributes.get(profile.group_name_attribute),
            "directory.group_name_attribute",
        )
        rid = sid_rid(entry["raw_attributes"].get(OBJECT_SID)) if profile.primary_group else None
    except Unusable as reason:
        groups.reject(dn, None, str(reason))
        return
    if not groups.keep(dn, group_id):
        return
    groups.names.append(name)
    groups.rids.append(rid)
    groups.members.append(
        [(attribute, all_values(conn, dn, attribute, attributes)) for attribute in profile.member_attributes]
    )


def sid_rid(values: list[bytes] | None) -> int | None:
    """The relative id (last sub-authority) of a binary SID; None when there is no SID."""
    if not values:
        return None
    sid = values[0]
    # revision (1 byte), sub-authority count (1), authority (6), sub-authorities (4 each, little-endian)
    if len(sid) < 12 or len(sid) != 8 + 4 * sid[1]:
        raise Unusable(f"its {OBJECT_SID} is not a valid SID")
    return int.from_bytes(sid[-4:], "little")
