"""Safety guards: a plan that would take away too much fails before anything is written.

Count and percent limits (users disabled or deleted, membership removals, group
deletions) can be passed once with the DAG param ``allow_over_limits``. Emptying a group
needs ``limits.allow_emptying_groups`` in the rules file. Protected users and groups and
unmanaged groups never reach a plan at all (see ``plan.inputs`` and ``plan.groups``).
"""

from __future__ import annotations

import pandas as pd

from confluence_provisioning.plan.inputs import Inputs
from confluence_provisioning.plan.operations import OperationKind, Plan
from confluence_provisioning.plan.text import first_names
from confluence_provisioning.settings import Limits

OVERRIDE = "trigger the DAG once with the param allow_over_limits=true"


class GuardError(Exception):
    """The plan breaks safety guards. ``plan`` is what would have been applied; nothing was."""

    def __init__(self, violations: list[str], plan: Plan) -> None:
        self.violations = violations
        self.plan = plan
        listed = "\n".join(f"- {text}" for text in violations)
        super().__init__(
            f"the plan breaks {len(violations)} safety guard{'s' if len(violations) > 1 else ''}; "
            f"nothing was applied:\n{listed}"
        )

    def __reduce__(self) -> tuple[type[GuardError], tuple[list[str], Plan]]:
        # rebuilt from its parts, so it survives pickling (process pools, Airflow's executors)
        return GuardError, (self.violations, self.plan)


def check_guards(plan: Plan, inputs: Inputs, limits: Limits, *, allow_over_limits: bool) -> None:
    """Raise GuardError listing every broken guard (not just the first)."""
    frame = plan.frame
    violations = [] if allow_over_limits else _over_limits(frame, len(inputs.current_users), limits)
    if not limits.allow_emptying_groups:
        violations += _emptied_groups(frame, inputs.members_per_group)
    if violations:
        raise GuardError(violations, plan)


def _over_limits(frame: pd.DataFrame, user_count: int, limits: Limits) -> list[str]:
    violations = []
    removed = frame[frame["kind"].isin([OperationKind.disable_user, OperationKind.delete_user])]
    percent = 100 * len(removed) / user_count if user_count else 0.0
    broken = []
    if len(removed) > limits.max_users_disabled_or_deleted:
        broken.append(f"limits.max_users_disabled_or_deleted is {limits.max_users_disabled_or_deleted}")
    max_percent = limits.max_users_disabled_or_deleted_percent
    if percent > max_percent:
        broken.append(f"limits.max_users_disabled_or_deleted_percent is {max_percent:g}%")
    if broken:
        violations.append(
            f"{len(removed)} users would be disabled or deleted, {percent:.1f}% of {user_count} "
            f"Confluence users; {' and '.join(broken)}: {first_names(removed['target'])}. "
            f"To allow it, raise {'these limits' if len(broken) > 1 else 'that limit'} in the rules file "
            f"or {OVERRIDE}"
        )
    removals = frame[frame["kind"] == OperationKind.remove_membership]
    if len(removals) > limits.max_membership_removals:
        pairs = removals["target"] + " from " + removals["group"]
        violations.append(
            f"{len(removals)} memberships would be removed; limits.max_membership_removals is "
            f"{limits.max_membership_removals}: {first_names(pairs)}. "
            f"To allow it, raise that limit in the rules file or {OVERRIDE}"
        )
    deletions = frame[frame["kind"] == OperationKind.delete_group]
    if len(deletions) > limits.max_group_deletions:
        violations.append(
            f"{len(deletions)} groups would be deleted; limits.max_group_deletions is "
            f"{limits.max_group_deletions}: {first_names(deletions['target'])}. "
            f"To allow it, raise that limit in the rules file or {OVERRIDE}"
        )
    return violations


def _emptied_groups(frame: pd.DataFrame, members_per_group: pd.Series) -> list[str]:
    removed = frame.loc[frame["kind"] == OperationKind.remove_membership, "group"].value_counts()
    if removed.empty:
        return []
    added = frame.loc[frame["kind"] == OperationKind.add_membership, "group"].value_counts()
    before = members_per_group.reindex(removed.index, fill_value=0)
    after = before - removed + added.reindex(removed.index, fill_value=0)
    emptied = sorted(after[after <= 0].index)
    if not emptied:
        return []
    listed = [f"{group} ({removed[group]} removed)" for group in emptied]
    return [
        f"{len(emptied)} group{'s' if len(emptied) > 1 else ''} would be left with no members: "
        f"{first_names(listed)}. To allow it, set limits.allow_emptying_groups: true in the rules file "
        f"(allow_over_limits does not cover this)"
    ]
