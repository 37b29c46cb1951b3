"""Plan: the pure diff of desired against current Confluence state, with its safety guards.

``plan(desired, current, settings)`` returns a ``Plan``: typed operations in stage order
(create groups; create, re-enable and update users; add memberships; remove memberships;
disable users; delete users; delete groups), each with the reason it exists. Nothing that
is already true is planned. No I/O, no Airflow: frames and settings in, a plan out.

Choices, for the admin reading a plan:

- Out-of-scope users are every Confluence user that no rule produces and that is not
  protected, local accounts included: they get ``users.out_of_scope`` (disable by
  default; delete only when ``users.operations.delete`` is also true, else disable).
  A first run against a site full of local accounts would therefore disable them,
  which is why the count and percent guards exist: such a plan stops with a
  GuardError listing who would go, and the admin either protects those accounts
  (``protected.users``), sets ``users.out_of_scope: keep``, or passes the run once with
  ``allow_over_limits``. The percent is of all non-protected Confluence users.
- Held users (``desired.held``: the accounts of active IdP users the rules left out, e.g.
  two users whose usernames collide, or one whose email was removed) are not out of
  scope: like protected users they get no operation at all, memberships included, and a
  note lists those Confluence has. Users excluded by a scope rule or gone from the IdP
  are out of scope as above.
- Users the IdP reports disabled are disabled in Confluence (``users.operations.disable``)
  and are never created: each is in ``Plan.not_created`` ("not created: disabled in the
  directory") and a note, so every desired user is existing, created or not created
  (``Plan.users``).
- Memberships are added only to managed groups (``desired_groups.managed``), and only for
  accounts active after the plan; new-users-only memberships (default groups for new
  users) only for users this plan creates. A managed group with ``prune_members`` ends the
  run holding exactly the members the rules put there: every other member is removed,
  disabled accounts (disabled now or earlier) included, and a member the IdP reports
  disabled but still lists in the mapped groups stays. Groups that do not prune only gain.
- Groups are deleted only when an earlier run created them (``previously_managed_groups``,
  from the audit store), no rule produces them now and ``limits.max_group_deletions`` is
  above 0; with 0 (the default) such groups are kept and the plan says so in a note. No
  other group outside the rules is ever changed.
- Emails: compared with Confluence's when it shows any; when it hides them all, with
  ``ledger`` (what this sync last pushed), else not at all (``Plan.email_source`` and
  ``Plan.notes`` say which). Emails compare case-insensitively.
- The target's ``Capabilities`` bound the plan: a target that cannot delete users gets their
  disables instead (with a note), one that cannot delete groups keeps them; groups are never
  renamed on any target (no operation does it). On a target whose accounts carry the IdP's id
  (Atlassian Cloud), users are matched by that id before their username, so an email change is
  an update of the same account (``plan.identity``); ``Plan.links`` are the accounts matched by
  username that the audit store should link to their IdP id.
- ``only_users`` narrows a plan to those users' operations and memberships, the group
  creations they need, and no group deletions; guards then judge that narrower plan.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.columns import isin
from confluence_provisioning.plan.emails import known_emails
from confluence_provisioning.plan.groups import plan_groups
from confluence_provisioning.plan.guards import GuardError, check_guards
from confluence_provisioning.plan.identity import match_by_idp_id
from confluence_provisioning.plan.inputs import CurrentState, DesiredState, Inputs, prepare
from confluence_provisioning.plan.operations import (
    LINKS,
    STAGES,
    EmailSource,
    Operation,
    OperationKind,
    Plan,
    Stage,
)
from confluence_provisioning.plan.users import plan_users
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets import capabilities_of
from confluence_provisioning.targets.base import Capabilities

__all__ = [
    "STAGES",
    "EmailSource",
    "GuardError",
    "Operation",
    "OperationKind",
    "Plan",
    "Stage",
    "plan",
]


def plan(
    desired: DesiredState,
    current: CurrentState,
    settings: Settings,
    *,
    capabilities: Capabilities | None = None,
    ledger: pd.DataFrame | None = None,
    previously_managed_groups: Collection[str] | None = None,
    account_links: Mapping[str, str] | None = None,
    allow_over_limits: bool = False,
    only_users: Collection[str] | None = None,
) -> Plan:
    """The operations that bring ``current`` to ``desired``; raises GuardError over the limits.

    ``capabilities``: what the target can do (default: those of the kind the settings name).
    ``ledger``: what this sync last pushed (username, email, display_name, pushed_at), used
    when Confluence hides emails. ``previously_managed_groups``: groups earlier runs managed.
    ``account_links``: account id -> IdP id, the links the audit store kept (``Plan.links``).
    """
    can = capabilities or capabilities_of(settings.target.kind)
    inputs = prepare(desired, current, settings.protected)
    links = frames.empty(LINKS)
    if can.matches_users_by_idp_id:
        inputs, links = _matched(
            inputs, current, account_links or {}, renames=settings.users.operations.update
        )
    emails, email_source, email_notes = known_emails(inputs.current_users, ledger)
    users = plan_users(inputs, settings.users, emails, delete_users=can.delete_users)
    groups = plan_groups(
        inputs,
        users,
        previously_managed=previously_managed_groups,
        max_group_deletions=settings.limits.max_group_deletions,
        delete_groups=can.delete_groups,
    )
    parts = [*users.operations, *groups.operations]
    notes = [*inputs.notes, *email_notes, *users.notes, *groups.notes]
    result = replace(Plan.of(parts, email_source, notes), links=links)
    desired_users = inputs.desired_users["username"]
    if only_users is not None:
        result = _narrowed(result, only_users)
        desired_users = desired_users[isin(desired_users, {name.lower() for name in only_users})]
    result = _accounted(result, desired_users, inputs.current_users["username"], users.not_created)
    check_guards(result, inputs, settings.limits, allow_over_limits=allow_over_limits)
    return result


def _matched(
    inputs: Inputs, current: CurrentState, stored: Mapping[str, str], *, renames: bool
) -> tuple[Inputs, pd.DataFrame]:
    """The inputs with accounts matched by IdP id (``plan.identity``), and the links to keep."""
    matched = match_by_idp_id(
        inputs.desired_users,
        inputs.desired_memberships,
        inputs.current_users,
        inputs.current_memberships,
        current.accounts,
        stored,
        renames=renames,
    )
    updated = replace(
        inputs,
        desired_users=matched.desired_users,
        desired_memberships=matched.desired_memberships,
        current_users=matched.current_users,
        current_memberships=matched.current_memberships,
        notes=[*inputs.notes, *matched.notes],
    )
    return updated, matched.links


def _accounted(result: Plan, desired: pd.Series, current: pd.Series, not_created: pd.DataFrame) -> Plan:
    """The plan with its not-created users and the count of each desired user's outcome."""
    missing = not_created[isin(not_created["username"], desired)]
    users = {
        "desired": len(desired),
        "existing": int(isin(desired, current).sum()),
        "created": int((result.frame["kind"] == OperationKind.create_user.value).sum()),
        "not created": len(missing),
    }
    return replace(result, not_created=missing.reset_index(drop=True), users=users)


def _narrowed(full: Plan, only_users: Collection[str]) -> Plan:
    frame = full.frame
    names = {name.lower() for name in only_users}
    is_group_op = isin(frame["kind"], [OperationKind.create_group.value, OperationKind.delete_group.value])
    user_ops = frame[~is_group_op & isin(frame["target"], names)]
    needed = user_ops.loc[user_ops["kind"] == OperationKind.add_membership.value, "group"]
    creations = frame[(frame["kind"] == OperationKind.create_group.value) & isin(frame["target"], needed)]
    note = f"narrowed to {len(names)} users (only_users): {', '.join(sorted(names)[:10])}"
    return replace(Plan.of([creations, user_ops], full.email_source, [*full.notes, note]), links=full.links)
