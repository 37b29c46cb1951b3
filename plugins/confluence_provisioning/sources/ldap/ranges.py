"""Ranged attribute values (Active Directory): ``member;range=0-1499`` and the rest, fetched completely.

Active Directory returns at most MaxValRange values of a large attribute and
names the slice in the attribute (``member;range=0-1499``); the client asks for
``member;range=1500-*`` and so on until a slice ends in ``*``. ldap3's own
auto_range stops silently when a step fails, so each step here is a checked
base search: a group's members are complete, or the read fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ldap3

from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.search import Search, base_entry

_RANGE = re.compile(r";range=(\d+)-(\d+|\*)$", re.IGNORECASE)


def all_values(conn: ldap3.Connection, dn: str, attribute: str, attributes: Mapping[str, Any]) -> list[Any]:
    """Every value of ``attribute`` of the entry ``dn``, whose first answer was ``attributes``."""
    values = list(attributes.get(attribute) or ())
    ranged = _ranged_key(attribute, attributes)
    while ranged is not None:
        key, high = ranged
        values.extend(attributes[key])
        if high == "*":
            break
        attributes = base_entry(
            conn,
            Search(
                what=f"ranged read of {attribute} of group {dn!r}",
                base=dn,
                filter="(objectClass=*)",
                attributes=(f"{attribute};range={int(high) + 1}-*",),
                base_setting="directory.group_base_dn",
                filter_setting="directory.group_filter",
            ),
        )["attributes"]
        ranged = _ranged_key(attribute, attributes)
        if ranged is None:
            raise IdpReadError(
                f"LDAP ranged read of {attribute} of group {dn!r} stopped after {len(values)} values "
                "without a last range; the group may have changed during the read. Nothing was read."
            )
    return values


def _ranged_key(attribute: str, attributes: Mapping[str, Any]) -> tuple[str, str] | None:
    """The ``attribute;range=low-high`` key of ``attributes`` and its high end, if there is one."""
    prefix = attribute.lower() + ";"
    for key in attributes:
        if key.lower().startswith(prefix):
            match = _RANGE.search(key)
            if match:
                return key, match.group(2)
    return None
