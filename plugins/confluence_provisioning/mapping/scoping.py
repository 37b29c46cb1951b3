"""Which IdP users are in scope, and the rule that put each one there.

A user is in scope when ``users.include`` is absent or any of its conditions
matches, and no condition of ``users.exclude`` matches (exclude wins):
- groups: membership of an IdP group of that name (ignoring case), nested
  membership included (the memberships frame is already flattened);
- dn_subtrees: the user's DN lies in the subtree, compared RDN by RDN;
- attributes: the pattern is found in a value of the attribute (any value of a
  multi-valued one; anchor with ^...$ for a whole-value match).
Disabled IdP accounts are scoped like any other: they become inactive users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from confluence_provisioning.mapping.dn import dn_key, dn_keys, in_subtree
from confluence_provisioning.mapping.naming import source_column
from confluence_provisioning.mapping.patterns import compile_pattern, search_all

if TYPE_CHECKING:
    from confluence_provisioning.settings import UserScope

ALL_USERS = "all users"


def scope_rules(
    users: pd.DataFrame,
    groups: pd.DataFrame,
    memberships: pd.DataFrame,
    include: UserScope | None,
    exclude: UserScope,
) -> pd.Series:
    """Per user row, the first include condition it meets (``<NA>``: out of scope)."""
    if include is None:
        rules = pd.Series(ALL_USERS, index=users.index, dtype="string")
    else:
        rules = _first_match(users, groups, memberships, include, "include")
    excluded = _first_match(users, groups, memberships, exclude, "exclude").notna()
    return rules.mask(excluded)


def _first_match(
    users: pd.DataFrame, groups: pd.DataFrame, memberships: pd.DataFrame, scope: UserScope, word: str
) -> pd.Series:
    """The label of the first condition each user meets: groups, subtrees, attributes, each as written."""
    found = pd.Series(pd.NA, index=users.index, dtype="string")
    if scope.groups:
        found = found.fillna(_by_group(users, groups, memberships, scope.groups, word))
    if scope.dn_subtrees:
        keys = dn_keys(users["dn"])
        for subtree in scope.dn_subtrees:
            label = f"{word} dn_subtree '{subtree}'"
            found = found.mask(found.isna() & in_subtree(keys, dn_key(subtree)).fillna(False), label)
    for attribute, pattern in scope.attributes.items():
        label = f"{word} attribute {attribute} ~ '{pattern}'"
        found = found.mask(found.isna() & _attribute_matches(users, attribute, pattern), label)
    return found


def _by_group(
    users: pd.DataFrame, groups: pd.DataFrame, memberships: pd.DataFrame, names: list[str], word: str
) -> pd.Series:
    positions: dict[str, int] = {}
    labels: dict[int, str] = {}
    for position, name in enumerate(names):
        if name.lower() not in positions:
            positions[name.lower()] = position
            labels[position] = f"{word} group '{name}'"  # the spelling the admin wrote
    wanted = groups.loc[groups["name"].str.lower().isin(positions), ["id", "name"]]
    wanted = wanted.assign(position=wanted["name"].str.lower().map(positions))
    hits = memberships[["group_id", "user_id"]].merge(wanted, left_on="group_id", right_on="id")
    first = hits.groupby("user_id")["position"].min()
    return users["id"].map(first.map(labels)).astype("string")


def _attribute_matches(users: pd.DataFrame, attribute: str, pattern: str) -> pd.Series:
    column = source_column(attribute)
    if column not in users.columns:
        raise ValueError(
            f"the IdP users frame has no column '{column}': "
            f"add '{attribute}' to directory.extra_attributes in the rules file"
        )
    # each value of a multi-valued attribute on its own line: (?m) anchors ^ and $ at every line
    return search_all(users[column], compile_pattern(f"(?m:{pattern})"))
