"""The user diff: create, re-enable, update, disable and delete, as the user rules allow."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.columns import isin
from confluence_provisioning.plan.inputs import Inputs
from confluence_provisioning.plan.operations import NOT_CREATED, OperationKind, operations_frame
from confluence_provisioning.plan.text import first_names
from confluence_provisioning.settings import OutOfScopeAction, UserRules

NOT_CREATED_DISABLED = "not created: disabled in the directory"
NOT_CREATED_SWITCHED_OFF = "not created: users.operations.create is false"


@dataclass(frozen=True)
class UserPlan:
    operations: list[pd.DataFrame]
    created: frozenset[str]  # usernames this plan creates (they get new-users-only groups)
    active_after: frozenset[str]  # users active after this plan: the only ones memberships are added for
    deleted: frozenset[str]  # users this plan deletes: their memberships go with the account
    not_created: pd.DataFrame  # operations.NOT_CREATED: desired users without an account that get none
    notes: list[str]


def plan_users(
    inputs: Inputs, rules: UserRules, known_email: pd.Series, *, delete_users: bool = True
) -> UserPlan:
    """Operations for every user whose Confluence account differs from the desired one.

    ``known_email`` (aligned with ``inputs.current_users``) is the email to compare with;
    <NA> where it is not known. ``delete_users``: whether the target can delete users (else
    out-of-scope users are disabled, whatever the rules say). An account ``plan.identity``
    renamed is updated to its new username; its operations carry ``user_name_now``.
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
    created = _allowed(switches.create, to_create, "created", "create", notes)
    not_created = _not_created(new, created, notes)
    if created:
        reason = _idp_reason(to_create, "is in scope and not in Confluence")
        parts.append(
            operations_frame(
                OperationKind.create_user, to_create["username"], reason, payloads=_profiles(to_create)
            )
        )

    to_reenable = both[both["active"] & ~both["active_now"]]
    reenabled = _allowed(switches.reenable, to_reenable, "re-enabled", "reenable", notes)
    if reenabled:
        reason = _idp_reason(to_reenable, "is active and the Confluence account is disabled")
        parts.append(
            operations_frame(
                OperationKind.reenable_user,
                to_reenable["username"],
                reason,
                payloads=_renamed_from(to_reenable["user_name_now"]),
            )
        )

    drift = _drift(both[both["active"]])
    if _allowed(switches.update, drift, "updated", "update", notes):
        parts.append(
            operations_frame(
                OperationKind.update_user,
                drift["username"],
                "rule " + drift["rule"] + ": " + drift["changes"],
                payloads=_changed_fields(drift),
            )
        )

    to_disable = both[~both["active"] & both["active_now"]]
    if _allowed(switches.disable, to_disable, "disabled", "disable", notes):
        reason = _idp_reason(to_disable, "is disabled")
        parts.append(operations_frame(OperationKind.disable_user, to_disable["username"], reason))

    action = _out_of_scope_action(rules, notes, delete_users)
    leaving = gone if action is OutOfScopeAction.delete else gone[gone["active"]]
    if action is not OutOfScopeAction.keep:
        kind = OperationKind.delete_user if action is OutOfScopeAction.delete else OperationKind.disable_user
        reason = f"no rule puts this Confluence user in scope (users.out_of_scope: {action.value})"
        parts.append(operations_frame(kind, leaving["username"], [reason] * len(leaving)))
    staying = gone if action is OutOfScopeAction.keep else gone.iloc[0:0]

    # Memberships are added only for accounts active after this plan that the IdP does not
    # report disabled (removals from pruned groups apply to every account: see plan.groups).
    stays_active = both["active"] & (both["active_now"] | reenabled)
    new_users = frozenset(to_create["username"]) if created else frozenset()
    active_after = (
        new_users
        | frozenset(both.loc[stays_active, "username"])
        | frozenset(staying.loc[staying["active"], "username"])
    )
    deleted = frozenset(leaving["username"]) if action is OutOfScopeAction.delete else frozenset()
    return UserPlan(parts, new_users, active_after, deleted, not_created, notes)


def _not_created(new: pd.DataFrame, created: bool, notes: list[str]) -> pd.DataFrame:
    """Desired users Confluence does not have and this plan does not create, each with the reason.

    A user the IdP reports disabled is never created; the others only when users.operations.create
    is false (``_allowed`` notes those already).
    """
    disabled = new[~new["active"]]
    if len(disabled):
        notes.append(f"{len(disabled)} users {NOT_CREATED_DISABLED}: {first_names(disabled['username'])}")
    skipped = disabled if created else new
    reasons = pd.Series(NOT_CREATED_DISABLED, index=skipped.index, dtype="string").where(
        ~skipped["active"], NOT_CREATED_SWITCHED_OFF
    )
    return frames.conform(pd.DataFrame({"username": skipped["username"], "reason": reasons}), NOT_CREATED)


def _idp_name(users: pd.DataFrame) -> pd.Series:
    """How a reason names the IdP entry: its DN, else its stable id."""
    dn = users["source_dn"].mask(users["source_dn"] == "")
    return dn.fillna(users["source_id"]).fillna("(unknown)")


def _idp_reason(users: pd.DataFrame, fact: str) -> pd.Series:
    """``rule R: IdP user uid=alice,... <fact>``."""
    return "rule " + users["rule"] + ": IdP user " + users["idp"] + " " + fact


def _profiles(users: pd.DataFrame) -> Iterable[dict[str, str | None]]:
    """What a new account is made with; ``external_id`` (the IdP's immutable id) for targets that keep it."""
    rows = zip(users["display_name"], users["email"], users["source_id"], strict=True)
    for name, email, source_id in rows:
        yield {
            "full_name": name,
            "email": None if pd.isna(email) else email,
            "external_id": None if pd.isna(source_id) else source_id,
        }


def _changed_fields(drift: pd.DataFrame) -> Iterable[dict[str, str | None]]:
    """Only what changes (None: left as it is), so an email nobody can see is never overwritten blindly."""
    rows = zip(
        drift["display_name"],
        drift["email"],
        drift["name_differs"],
        drift["email_differs"],
        drift["user_name_now"],
        strict=True,
    )
    for name, email, name_differs, email_differs, name_now in rows:
        fields = {"full_name": name if name_differs else None, "email": email if email_differs else None}
        yield fields if pd.isna(name_now) else {**fields, "user_name_now": name_now}


def _renamed_from(names_now: pd.Series) -> Iterable[dict[str, str]]:
    """The payload of an operation on an account: the name the target knows a renamed one by."""
    for name_now in names_now:
        yield {} if pd.isna(name_now) else {"user_name_now": name_now}


def _drift(users: pd.DataFrame) -> pd.DataFrame:
    """The users whose display name, (known) email or username differs, with ``changes`` saying how."""
    name_differs = (users["display_name"] != users["display_name_now"]).fillna(False)
    known, wanted = users["known_email"], users["email"]
    email_differs = (known.str.lower() != wanted.str.lower()).fillna(False)
    renamed = users["user_name_now"].notna()
    said = [
        (
            "display name '" + users["display_name_now"].fillna("") + "' -> '" + users["display_name"] + "'",
            name_differs,
        ),
        ("email '" + known.fillna("") + "' -> '" + wanted.fillna("") + "'", email_differs),
        (
            "username '"
            + users["user_name_now"].fillna("")
            + "' -> '"
            + users["username"]
            + "' (the same account: it carries the user's IdP id)",
            renamed,
        ),
    ]
    changes = pd.Series("", index=users.index, dtype=frames.STRING)
    for text, differs in said:
        separator = pd.Series("; ", index=users.index).where((changes != "") & differs, "")
        changes = changes + separator + text.where(differs, "")
    drifted = users.assign(changes=changes, name_differs=name_differs, email_differs=email_differs)
    return drifted[name_differs | email_differs | renamed]


def _allowed(switch: bool, users: pd.DataFrame, done: str, key: str, notes: list[str]) -> bool:
    """Whether the switch allows these operations; a note says what was held back when not."""
    if not switch and len(users):
        notes.append(
            f"{len(users)} users would be {done} but users.operations.{key} is false: "
            f"{first_names(users['username'])}"
        )
    return switch


def _out_of_scope_action(rules: UserRules, notes: list[str], delete_users: bool) -> OutOfScopeAction:
    """users.out_of_scope, narrowed by the operation switches and the target (delete falls back to
    disable)."""
    action = rules.out_of_scope
    if action is OutOfScopeAction.delete and not delete_users:
        notes.append("the target cannot delete users: out-of-scope users are disabled instead")
        action = OutOfScopeAction.disable
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
