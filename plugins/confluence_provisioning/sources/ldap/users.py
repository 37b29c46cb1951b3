"""The user search: paged entries -> user columns, with rejects for entries that cannot be used.

Duplicate logins are kept: two entries with the same login are two users here,
and the mapping stage reports the collision on the Confluence username (it
knows the rewrites and lower-casing that decide whether names collide). A
duplicate *id* is a directory error: the later entry is rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ldap3
import numpy as np
import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.sources.ldap.entry_columns import EntryColumns, arrow_strings
from confluence_provisioning.sources.ldap.entry_values import (
    Unusable,
    entry_id,
    first_text,
    is_disabled,
    naming_value,
)
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile
from confluence_provisioning.sources.ldap.search import Search, entries
from confluence_provisioning.sources.rejects import RejectLog

PRIMARY_GROUP_ID = "primaryGroupID"


@dataclass
class UserColumns(EntryColumns):
    kind = "user"
    logins: list[str] = field(default_factory=list)
    emails: list[str | None] = field(default_factory=list)
    display_names: list[str | None] = field(default_factory=list)
    active: list[bool] = field(default_factory=list)
    extras: dict[str, list[str | None]] = field(default_factory=dict)  # attribute -> values, joined by \n
    primary_group_rids: list[int | None] = field(default_factory=list)  # Active Directory only

    def frame(self) -> pd.DataFrame:
        columns = {
            "id": arrow_strings(self.ids),
            "dn": arrow_strings(self.dns),
            "login": arrow_strings(self.logins),
            "email": arrow_strings(self.emails),
            "display_name": arrow_strings(self.display_names),
            "active": np.array(self.active, dtype=bool),
            **{
                f"{frames.ATTRIBUTE_PREFIX}{name.lower()}": arrow_strings(values)
                for name, values in self.extras.items()
            },
        }
        return frames.conform(pd.DataFrame(columns), frames.USERS)


def user_searches(
    profile: DirectoryProfile, bases: list[str], search_filter: str | None = None
) -> list[Search]:
    """One search per base, asking only for the attributes the extraction reads."""
    wanted = [
        profile.id_attribute,
        profile.login_attribute,
        profile.email_attribute,
        profile.display_name_attribute,
        profile.display_name_fallback,
        profile.disabled.attribute,
        *([PRIMARY_GROUP_ID] if profile.primary_group else []),
        *profile.extra_attributes,
    ]
    attributes = tuple({name.lower(): name for name in wanted}.values())
    return [Search("user search", base, search_filter or profile.user_filter, attributes) for base in bases]


def read_users(
    conn: ldap3.Connection, profile: DirectoryProfile, searches: list[Search], rejects: RejectLog
) -> UserColumns:
    users = UserColumns(rejects, extras={name: [] for name in profile.extra_attributes})
    names = _AttributeNames.of(profile)
    for entry in entries(conn, searches, profile.page_size):
        _add_user(users, entry, profile, names)
    return users


@dataclass(frozen=True)
class _AttributeNames:
    """The profile's attribute names in lower case, the keys of `_lower_keys`, worked out once."""

    login: str
    disabled: str
    email: str
    display_name: str
    display_name_fallback: str

    @classmethod
    def of(cls, profile: DirectoryProfile) -> _AttributeNames:
        return cls(
            profile.login_attribute.lower(),
            profile.disabled.attribute.lower(),
            profile.email_attribute.lower(),
            profile.display_name_attribute.lower(),
            profile.display_name_fallback.lower(),
        )


def _lower_keys(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict by lower-case name: each look-up in ldap3's case-insensitive dict costs several calls."""
    return {name.lower(): values for name, values in attributes.items()}


def _add_user(users: UserColumns, entry: dict, profile: DirectoryProfile, names: _AttributeNames) -> None:
    dn = entry["dn"]
    attributes = _lower_keys(entry["attributes"])
    try:
        user_id = entry_id(profile.id_attribute, entry["raw_attributes"])
        login = naming_value(
            dn, profile.login_attribute, attributes.get(names.login), "directory.login_attribute"
        )
        active = not is_disabled(profile.disabled, attributes.get(names.disabled))
        primary_group = _primary_group_rid(attributes) if profile.primary_group else None
    except Unusable as reason:
        users.reject(dn, None, str(reason))
        return
    if not users.keep(dn, user_id):
        return
    users.logins.append(login)
    users.emails.append(first_text(attributes.get(names.email)))
    users.display_names.append(
        first_text(attributes.get(names.display_name))
        or first_text(attributes.get(names.display_name_fallback))
    )
    users.active.append(active)
    users.primary_group_rids.append(primary_group)
    for name, column in users.extras.items():
        values = [value for value in attributes.get(name.lower()) or () if isinstance(value, str)]
        column.append("\n".join(values) if values else None)


def _primary_group_rid(attributes: dict[str, Any]) -> int | None:
    """The primaryGroupID of `attributes` (keys in lower case, see `_lower_keys`)."""
    value = first_text(attributes.get(PRIMARY_GROUP_ID.lower()))
    if value is None:
        return None
    if not value.isdigit():
        raise Unusable(f"its {PRIMARY_GROUP_ID} {value!r} is not a number")
    return int(value)
