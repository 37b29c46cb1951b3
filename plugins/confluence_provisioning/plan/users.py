"""The user diff: create, re-enable, update, disable and delete, as the user rules allow."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.columns import isin
from confluence_provisioning.plan.inputs import Inputs
from confluence_provisioning.plan.operations import OperationKind, operations_frame
from confluence_provisioning.plan.text import first_names
from confluence_provisioning.settings import OutOfScopeAction, UserRules


@dataclass(frozen=True)
class UserPlan:
    operations: list[pd.DataFrame]
    created: frozenset[str]  # usernames this plan creates (they get new-users-only groups)
    membership_users: frozenset[str]  # users whose memberships this plan may change
    notes: list[str]


def plan_users(inputs: Inputs, rules: UserRules, known_email: pd.Series) -> UserPlan:
    """Operations for every user whose Confluence account differs from the desired one.

    ``known_email`` (aligned with ``inputs.current_users``) is the email to compare with;
    <NA> where it is not known.
    """
    desired = inputs.desired_users.assign(idp=_idp_name(inputs.desired_users))
    current = inputs.current_users.assign(known_email=known_email)
    is_current = isin(desired["username"], current["username"])
    new = desired[~is_current]
    gone = current[~isin(current["username"], desired["username"])]
    both = desired[is_current].merge(current, on="username", suffixes=("", "_now"))
    switches = rules.operations
    notes: list[str] = []
    parts: list[pd.DataFrame] = []

    to_create = new[new["active"]]
    if _allowed(switches.create, to_create, "created", "create", notes):
        parts.append(
            operations_frame(
                OperationKind.create_user,
                to_create["username"],
                "rule "
                + to_create["rule"]
                + ": IdP user "
                + to_create["idp"]
                + " is in scope and not in Confluence",
                payloads=_profiles(to_create),
            )
        )
    created = frozenset(to_create["username"]) if switches.create else frozenset()

    to_reenable = both[both["active"] & ~both["active_now"]]
    reenabled = _allowed(switches.reenable, to_reenable, "re-enabled", "reenable", notes)
    if reenabled:
        parts.append(
            operations_frame(
                OperationKind.reenable_user,
                to_reenable["username"],
                "rule "
                + to_reenable["rule"]
                + ": IdP user "
                + to_reenable["idp"]
                + " is active and the Confluence account is disabled",
            )
        )

    to_update = both[both["active"]]
    changes = _changes(to_update)
    to_update = to_update[changes.str.len() > 0]
    if _allowed(switches.update, to_update, "updated", "update", notes):
        parts.append(
            operations_frame(
                OperationKind.update_user,
                to_update["username"],
                "rule " + to_update["rule"] + ": " + changes[changes.str.len() > 0],
                payloads=_profiles(to_update),
            )
        )

    to_disable = both[~both["active"] & both["active_now"]]
    if _allowed(switches.disable, to_disable, "disabled", "disable", notes):
        parts.append(
            operations_frame(
                OperationKind.disable_user,
                to_disable["username"],
                "rule " + to_disable["rule"] + ": IdP user " + to_disable["idp"] + " is disabled",
            )
        )

    action = _out_of_scope_action(rules, notes)
    if action is OutOfScopeAction.delete:
        out = gone
        parts.append(
            operations_frame(OperationKind.delete_user, out["username"], _out_of_scope_reason(out, "delete"))
        )
    elif action is OutOfScopeAction.disable:
        out = gone[gone["active"]]
        parts.append(
            operations_frame(
                OperationKind.disable_user, out["username"], _out_of_scope_reason(out, "disable")
            )
        )
    else:
        out = gone.iloc[0:0]

    # Memberships change only for accounts that are active after this plan and that the
    # IdP does not report disabled: a disabled account keeps its groups for a re-enable.
    stays_active = both["active"] & (both["active_now"] | reenabled)
    membership_users = (
        created
        | frozenset(both.loc[stays_active, "username"])
        | frozenset(gone.loc[gone["active"] & ~isin(gone["username"], out["username"]), "username"])
    )
    return UserPlan(parts, created, membership_users, notes)


def _idp_name(users: pd.DataFrame) -> pd.Series:
    """How a reason names the IdP entry: its DN, else its stable id."""
    dn = users["source_dn"].mask(users["source_dn"] == "")
    return dn.fillna(users["source_id"]).fillna("(unknown)")


def _profiles(users: pd.DataFrame) -> Iterable[dict[str, str | None]]:
    """The full profile Confluence takes on create and update (its update sets both fields)."""
    for name, email in zip(users["display_name"], users["email"], strict=True):
        yield {"full_name": name, "email": None if pd.isna(email) else email}


def _changes(both: pd.DataFrame) -> pd.Series:
    """Per user, what differs (``display name 'A' -> 'B'; email 'x' -> 'y'``), or ''."""
    name_differs = (both["display_name"] != both["display_name_now"]).fillna(False)
    known, wanted = both["known_email"], both["email"]
    email_differs = (known.str.lower() != wanted.str.lower()).fillna(False)
    name_text = (
        "display name '"
        + both["display_name_now"].fillna("")
        + "' -> '"
        + both["display_name"].fillna("")
        + "'"
    )
    email_text = "email '" + known.fillna("") + "' -> '" + wanted.fillna("") + "'"
    name_part = name_text.where(name_differs, "")
    email_part = email_text.where(email_differs, "")
    joiner = pd.Series("", index=both.index, dtype=frames.STRING).where(~(name_differs & email_differs), "; ")
    return (name_part + joiner + email_part).astype(frames.STRING)


def _allowed(switch: bool, users: pd.DataFrame, done: str, key: str, notes: list[str]) -> bool:
    """Whether the switch allows these operations; a note says what was held back when not."""
    if not switch and len(users):
        notes.append(
            f"{len(users)} users would be {done} but users.operations.{key} is false: "
            f"{first_names(users['username'])}"
        )
    return switch


def _out_of_scope_action(rules: UserRules, notes: list[str]) -> OutOfScopeAction:
    """users.out_of_scope, narrowed by the operation switches (delete falls back to disable)."""
    action = rules.out_of_scope
    if action is OutOfScopeAction.delete and not rules.operations.delete:
        notes.append(
            "users.out_of_scope is delete but users.operations.delete is false: "
            "out-of-scope users are disabled instead"
        )
        action = OutOfScopeAction.disable
    if action is OutOfScopeAction.disable and not rules.operations.disable:
        notes.append("users.operations.disable is false: out-of-scope users are left as they are")
        action = OutOfScopeAction.keep
    return action


def _out_of_scope_reason(users: pd.DataFrame, action: str) -> pd.Series:
    return pd.Series(
        f"no rule puts this Confluence user in scope (users.out_of_scope: {action})",
        index=users.index,
        dtype=frames.STRING,
    )
