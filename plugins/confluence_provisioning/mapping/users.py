"""IdP users -> desired Confluence users, and the users that cannot be synced, with the reason.

In-scope users (see scoping.py) are named (see naming.py). A user is left out,
as a reject row, when
- Confluence would refuse its username, display name or email;
- it is a protected user (``protected.users``): a sync never touches those;
- another in-scope user ends up with the same username, or the same email
  (ignoring case): all are left out, each naming the others, so nobody is
  merged into someone else's account.

A rejected user that the IdP reports active and whose username could be computed
is *held*: its Confluence account, if any, is not the account of a leaver but of
someone the rules could not name, so the plan leaves it as it is. A disabled one
is a leaver whatever its data: its account is out of scope (users.out_of_scope).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.mapping.naming import (
    display_name_problems,
    email_problems,
    field_values,
    username_problems,
)
from confluence_provisioning.mapping.scoping import scope_rules

if TYPE_CHECKING:
    from confluence_provisioning.settings import Protected, UserRules

NAMED_COLLISIONS = 3  # a reason names this many others: 5,000 users sharing noreply@ must not each list all


def map_users(
    users: pd.DataFrame,
    groups: pd.DataFrame,
    memberships: pd.DataFrame,
    rules: UserRules,
    protected: Protected,
    *,
    username_is_email: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(desired users, rejects, held users) for the IdP users frame, all unsorted.

    ``username_is_email``: the target names accounts by email (Atlassian Cloud), so the username is
    the lower-cased email and the ``users.username`` rule and Data Center's username limits do not apply.
    """
    rules_column = scope_rules(users, groups, memberships, rules.include, rules.exclude)
    scoped = users[rules_column.notna()]
    email = field_values(scoped, rules.email, "email")
    username = email.str.lower() if username_is_email else field_values(scoped, rules.username, "login")
    display_name = field_values(scoped, rules.display_name, "display_name")
    display_name = display_name.where(display_name.str.strip().str.len().gt(0).fillna(False), username)
    named = pd.DataFrame(
        {
            "username": username,
            "display_name": display_name,
            "email": email,
            "active": scoped["active"],
            "source_id": scoped["id"],
            "source_dn": scoped["dn"],
            "rule": rules_column[scoped.index],
        }
    )
    reasons = _reasons(named, {name.lower() for name in protected.users}, username_is_email)
    rejected = reasons.notna()
    rejects = pd.DataFrame(
        {
            "source": "mapping",
            "kind": "user",
            "dn": named.loc[rejected, "source_dn"],
            "id": named.loc[rejected, "source_id"],
            "reason": reasons[rejected],
        }
    )
    desired = named[~rejected]
    held = _held(named[rejected], reasons[rejected], desired["username"])
    return desired, frames.conform(rejects, frames.REJECTS), held


def _held(rejected: pd.DataFrame, reasons: pd.Series, desired: pd.Series) -> pd.DataFrame:
    """frames.HELD_USERS: the usernames of active rejected users, lower-cased as Confluence keys them.

    A name a desired user has is that user's; of users sharing a name (a collision) one row is kept.
    """
    username = rejected["username"].str.lower()
    computed = username.str.strip().str.len().gt(0).fillna(False)
    keep = rejected["active"] & computed & ~username.isin(desired)  # desired names are lower case
    held = pd.DataFrame({"username": username[keep], "reason": reasons[keep]})
    return held.sort_values(["username", "reason"]).drop_duplicates("username")


def _reasons(named: pd.DataFrame, protected: set[str], username_is_email: bool) -> pd.Series:
    """Per user, every reason it cannot be synced, joined by '; ' (``<NA>``: none)."""
    bad_email = email_problems(named["email"])
    # an email username has the email's problems and collisions, told once
    bad_username = (
        pd.Series(pd.NA, index=named.index, dtype=object)
        if username_is_email
        else username_problems(named["username"])
    )
    username_collisions = (
        bad_username
        if username_is_email
        else _collisions(named, named["username"], bad_username.isna(), "username")
    )
    is_protected = named["username"].str.lower().isin(protected).fillna(False)
    found = pd.concat(
        [
            bad_username,
            display_name_problems(named["display_name"]),
            bad_email,
            ("'" + named["username"] + "' is a protected user (protected.users), which a sync never changes")
            .where(is_protected)
            .astype(object),
            username_collisions,
            _collisions(named, named["email"].str.lower(), bad_email.isna(), "email"),
        ],
        axis=1,
    )
    troubled = found[found.notna().any(axis=1)]
    joined = pd.Series(
        [
            "; ".join(part for part in row if isinstance(part, str))
            for row in troubled.itertuples(index=False)
        ],
        index=troubled.index,
        dtype="string",
    )
    return ("left out: " + joined).reindex(named.index).astype("string")


def _collisions(named: pd.DataFrame, keys: pd.Series, usable: pd.Series, field: str) -> pd.Series:
    """Users whose key another usable user shares: the reason names the others by DN (the first few)."""
    candidates = keys[usable & keys.notna()]
    shared = candidates[candidates.duplicated(keep=False)]
    reasons = pd.Series(None, index=named.index, dtype=object)
    for key, rows in shared.groupby(shared, sort=True).groups.items():
        dns = named.loc[rows, "source_dn"].sort_values()
        first = list(dns.head(NAMED_COLLISIONS + 1).items())
        for row in rows:
            others = [f"'{dn}'" for other, dn in first if other != row][:NAMED_COLLISIONS]
            more = len(rows) - 1 - len(others)
            listed = ", ".join(others) + (f" and {more} more" if more else "")
            reasons[row] = f"its {field} '{key}' is also the {field} of {listed}; nobody is merged"
    return reasons
