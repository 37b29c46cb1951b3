"""The contract every target kind keeps.

A target kind is a folder ``targets/<kind>/`` whose ``target`` module has ``CAPABILITIES``,
``open_target(settings, dry_run=...) -> Target`` and ``site(settings) -> str`` (where the
site is, e.g. its base URL: one sync at a time holds it). Its settings model is in
``settings/targets.py``. Adding a kind is that folder, its settings model and one line in
``targets.KINDS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from confluence_provisioning.apply.applier import ApplyResult
    from confluence_provisioning.frames import TargetSnapshot
    from confluence_provisioning.plan.operations import Operation


@dataclass(frozen=True)
class Capabilities:
    """What a target can do, so that a plan never holds an operation it cannot carry out."""

    delete_users: bool  # False: out-of-scope users are disabled, never deleted
    delete_groups: bool
    rename_groups: bool
    username_is_email: bool  # True: the account's username is the IdP email, not a rules-made name
    # True: accounts carry the IdP's immutable id (``TargetSnapshot.accounts``) and a username can
    # change, so a user is matched to an account by that id first and an email change renames it
    matches_users_by_idp_id: bool


class Target(Protocol):
    """One target site, opened for one task: reads it and carries out operations (a dry run records them)."""

    capabilities: Capabilities

    def read(self) -> TargetSnapshot:
        """Every user, group and membership, or an error: never a partial read."""
        ...

    def apply(
        self,
        operations: Sequence[Operation],
        *,
        not_created: Mapping[tuple[str, str], str] | None = None,
        accounts: Mapping[str, str] | None = None,
    ) -> ApplyResult:
        """One result row per operation, in order; failures are results, not exceptions.

        ``not_created``: ("user" | "group", name) -> why an earlier stage did not create it;
        operations on them are skipped with that reason (``apply.applier.not_created``).
        ``accounts``: the target's own ids of the accounts the run read (``TargetSnapshot.accounts``,
        user_id -> account_id), so a target that addresses accounts by id need not look them up.
        """
        ...

    def __enter__(self) -> Target: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...
