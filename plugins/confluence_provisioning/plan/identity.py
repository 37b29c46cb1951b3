"""Which account is which desired user, on a target whose accounts carry the IdP's immutable id.

Atlassian Cloud names an account by its email, and emails change; the IdP's id (entryUUID,
objectGUID, ...) does not, and the sync gives it to every account it creates (``externalId``).
So, when the target ``matches_users_by_idp_id``:

- A desired user is matched first to the account carrying its IdP id, then by username. The
  id an account carries is the audit store's link when it has one (``stored_links``: made for
  accounts matched by username before), else its ``externalId``.
- An active desired user matched to an account under another username renames that account:
  the planner's current frames call it by the desired name, and ``user_name_now`` keeps the
  name the target knows it by, so the update that renames it (and a re-enable) can find it.
  An email change is one update of the same account, never a second account and a disable.
- A desired user the IdP reports disabled keeps the account's current name instead (nothing is
  renamed for an account that is to be disabled).
- No rename where another account already has the desired username (that account is the
  match), nor when ``users.operations.update`` is false (the rename is an update).
- An account matched by username whose id is missing or another is linked to the desired
  user's id (``links``), for the audit store: where the API cannot set ``externalId`` on an
  existing account, the next run still knows it after an email change.

Pure: frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.columns import isin
from confluence_provisioning.plan.operations import LINKS
from confluence_provisioning.plan.text import first_names


@dataclass(frozen=True)
class Matched:
    desired_users: pd.DataFrame
    desired_memberships: pd.DataFrame
    current_users: pd.DataFrame  # ``user_name_now``: the target's name of a renamed account, else <NA>
    current_memberships: pd.DataFrame
    links: pd.DataFrame  # LINKS
    notes: list[str]


def match_by_idp_id(
    desired_users: pd.DataFrame,
    desired_memberships: pd.DataFrame,
    current_users: pd.DataFrame,
    current_memberships: pd.DataFrame,
    accounts: pd.DataFrame,
    stored_links: Mapping[str, str],
    *,
    renames: bool,
) -> Matched:
    """The inputs with matched accounts named as their desired users; see the module docstring.

    All names are lower case; ``current_users`` has a ``user_name_now`` column (all <NA>).
    """
    ids = _account_ids(current_users["username"], accounts, stored_links)
    notes: list[str] = []
    pairs = _renames(desired_users, current_users, ids, notes) if renames else _NO_PAIRS
    active = pairs[pairs["active"]]
    inactive = pairs[~pairs["active"] & ~isin(pairs["username_now"], desired_users["username"])]

    to_desired = dict(zip(active["username_now"], active["username"], strict=True))
    to_current = dict(zip(inactive["username"], inactive["username_now"], strict=True))
    renamed_users = current_users.assign(
        username=_renamed(current_users["username"], to_desired),
        user_name_now=current_users["username"].where(isin(current_users["username"], to_desired)),
    )
    renamed_ids = ids.assign(username=_renamed(ids["username"], to_desired))
    desired_users = desired_users.assign(username=_renamed(desired_users["username"], to_current))
    if len(active):
        listed = active["username_now"] + " -> " + active["username"]
        notes.append(
            f"{len(active)} accounts carry the IdP id of a user whose email changed: renamed, "
            f"not created again: {first_names(listed)}"
        )
    return Matched(
        desired_users=desired_users,
        desired_memberships=desired_memberships.assign(
            username=_renamed(desired_memberships["username"], to_current)
        ),
        current_users=renamed_users,
        current_memberships=current_memberships.assign(
            username=_renamed(current_memberships["username"], to_desired)
        ),
        links=_new_links(desired_users, renamed_ids),
        notes=notes,
    )


_NO_PAIRS = pd.DataFrame(
    {
        "username": pd.Series(dtype=frames.STRING),
        "username_now": pd.Series(dtype=frames.STRING),
        "active": pd.Series(dtype=frames.BOOL),
    }
)


def _account_ids(usernames: pd.Series, accounts: pd.DataFrame, stored: Mapping[str, str]) -> pd.DataFrame:
    """username, account_id, idp_id of every current user (<NA> where the target lists none)."""
    accounts = frames.conform(accounts, frames.ACCOUNTS)
    accounts = accounts.assign(username=accounts["user_id"].str.lower()).drop_duplicates("username")
    linked = accounts["account_id"].map(pd.Series(dict(stored), dtype=frames.STRING)).astype(frames.STRING)
    carried = accounts["idp_id"].mask(accounts["idp_id"] == "")
    accounts = accounts.assign(idp_id=linked.fillna(carried))
    frame = pd.DataFrame({"username": usernames})
    return frame.merge(accounts[["username", "account_id", "idp_id"]], on="username", how="left")


def _renames(
    desired: pd.DataFrame, current: pd.DataFrame, ids: pd.DataFrame, notes: list[str]
) -> pd.DataFrame:
    """username (desired), username_now (the account's), active (desired): each account whose IdP
    id is a desired user's while its username is not."""
    carried = ids.dropna(subset=["idp_id"]).rename(columns={"username": "username_now"})
    wanted = desired.dropna(subset=["source_id"])[["username", "source_id", "active"]]
    pairs = wanted.merge(carried, left_on="source_id", right_on="idp_id")
    pairs = pairs[pairs["username"] != pairs["username_now"]]
    taken = isin(pairs["username"], current["username"])
    if taken.any():
        held = pairs[taken]
        notes.append(
            f"{len(held)} accounts carry the IdP id of a user whose username another account has: "
            f"that account is the match, these are left to the out-of-scope rule: "
            f"{first_names(held['username_now'] + ' (IdP id of ' + held['username'] + ')')}"
        )
    pairs = pairs[~taken].sort_values(["username", "username_now"], kind="stable")
    pairs = pairs.drop_duplicates("username").drop_duplicates("username_now")
    return pairs[["username", "username_now", "active"]].reset_index(drop=True)


def _renamed(names: pd.Series, renames: Mapping[str, str]) -> pd.Series:
    if not renames:
        return names
    return names.map(renames).fillna(names).astype(frames.STRING)


def _new_links(desired: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    """Accounts matched by username that do not carry the desired user's IdP id yet."""
    matched = desired.dropna(subset=["source_id"]).merge(ids.dropna(subset=["account_id"]), on="username")
    unlinked = matched[(matched["idp_id"] != matched["source_id"]).fillna(True)]
    links = pd.DataFrame({"account_id": unlinked["account_id"], "idp_id": unlinked["source_id"]})
    return frames.conform(links.sort_values("account_id"), LINKS)
