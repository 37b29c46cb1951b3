"""The frame shapes every stage shares.

A stage hands the next one pandas DataFrames (and, between Airflow tasks,
Parquet files of them). Each shape is a fixed list of columns with a fixed
dtype, so a stage can trust its input and a Parquet round trip keeps types.

Directory frames describe what a system has, the IdP or Confluence alike:
- users:        id, dn, login, email, display_name, active
                (IdP users may carry extra columns ``attr.<name>`` for the
                attributes the rules ask for, e.g. ``attr.departmentnumber``)
- groups:       id, dn, name
- memberships:  group_id, user_id, direct   (nested groups already flattened;
                ``direct`` is False for a membership that came through nesting)
- rejects:      source, kind, dn, id, reason (entries left out, and why)

On the target side ``id`` is the lower-case username (users) or group
name (groups) and ``dn`` is empty: the REST API addresses both by name.
A target that keeps its own id and the IdP's id on each account (Atlassian
Cloud: the SCIM id and ``externalId``) lists them too:
- accounts:     user_id, account_id, idp_id   (``user_id`` as in users;
                ``idp_id`` <NA> for an account made without one)

Desired frames are what the mapping rules say Confluence should have:
- desired_users:        username, display_name, email, active, source_id, source_dn, rule
- desired_groups:       name, managed, prune_members, rule
- desired_memberships:  group, username, new_users_only, rule
- held_users:           username, reason   (the Confluence accounts of active in-scope
                        users the rules left out: a plan leaves them as they are)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where a frame is made: the rules' settings name columns without pandas
    import pandas as pd

STRING = "string"
BOOL = "bool"

USERS: dict[str, str] = {
    "id": STRING,
    "dn": STRING,
    "login": STRING,
    "email": STRING,  # may be missing (<NA>): Confluence can hide emails
    "display_name": STRING,
    "active": BOOL,
}
GROUPS: dict[str, str] = {"id": STRING, "dn": STRING, "name": STRING}
MEMBERSHIPS: dict[str, str] = {"group_id": STRING, "user_id": STRING, "direct": BOOL}
REJECTS: dict[str, str] = {
    "source": STRING,  # "idp" or "mapping"
    "kind": STRING,  # "user", "group" or "membership"
    "dn": STRING,
    "id": STRING,
    "reason": STRING,
}

DESIRED_USERS: dict[str, str] = {
    "username": STRING,
    "display_name": STRING,
    "email": STRING,
    "active": BOOL,
    "source_id": STRING,
    "source_dn": STRING,
    "rule": STRING,  # why this user is in scope
}
DESIRED_GROUPS: dict[str, str] = {
    "name": STRING,
    "managed": BOOL,  # only managed groups are ever changed by a plan
    "prune_members": BOOL,  # remove Confluence members the rules do not produce
    "rule": STRING,
}
DESIRED_MEMBERSHIPS: dict[str, str] = {
    "group": STRING,
    "username": STRING,
    "new_users_only": BOOL,  # default groups for new users: added only when the user is created
    "rule": STRING,
}

ACCOUNTS: dict[str, str] = {
    "user_id": STRING,  # the account's lower-case username, as users.id
    "account_id": STRING,  # the target's own, unchanging id (a SCIM id)
    "idp_id": STRING,  # the IdP's immutable id the account carries (externalId); <NA> when none
}

HELD_USERS: dict[str, str] = {
    "username": STRING,  # lower case, one row each
    "reason": STRING,  # the reject's reason
}

ATTRIBUTE_PREFIX = "attr."
# the users-frame columns every source has, which rules may name as attributes
USER_COLUMNS = ("login", "email", "display_name")


def empty(schema: Mapping[str, str]) -> pd.DataFrame:
    """An empty frame with the schema's columns and dtypes."""
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in schema.items()})


def from_records(records: Iterable[Mapping[str, Any]], schema: Mapping[str, str]) -> pd.DataFrame:
    """A frame of the schema from dict rows; extra ``attr.*`` keys are kept as string columns."""
    import pandas as pd

    frame = pd.DataFrame.from_records(list(records))
    if frame.empty and not len(frame.columns):
        return empty(schema)
    return conform(frame, schema)


def conform(frame: pd.DataFrame, schema: Mapping[str, str]) -> pd.DataFrame:
    """The frame with exactly the schema's columns (plus ``attr.*``) in order and dtype.

    Raises ValueError naming the missing columns: a stage that produced the
    wrong shape is a bug, and should fail loudly, not feed the next stage.
    """
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing columns {missing}; expected {list(schema)}")
    extra = sorted(c for c in frame.columns if c.startswith(ATTRIBUTE_PREFIX))
    conformed = frame[[*schema, *extra]].astype({**schema, **dict.fromkeys(extra, STRING)})
    return conformed.reset_index(drop=True)


@dataclass(frozen=True)
class SourceSnapshot:
    """One complete read of an identity provider: what every source kind returns."""

    users: pd.DataFrame  # USERS, plus attr.* columns
    groups: pd.DataFrame  # GROUPS
    memberships: pd.DataFrame  # MEMBERSHIPS, nesting flattened
    rejects: pd.DataFrame  # REJECTS with source "idp"


@dataclass(frozen=True)
class TargetSnapshot:
    """What a target site has at one moment: the three frames the planner diffs against."""

    users: pd.DataFrame  # USERS
    groups: pd.DataFrame  # GROUPS
    memberships: pd.DataFrame  # MEMBERSHIPS of the groups that were read
    # ACCOUNTS: empty for a target that keeps no ids of its own (Data Center names accounts)
    accounts: pd.DataFrame = field(default_factory=lambda: empty(ACCOUNTS))
