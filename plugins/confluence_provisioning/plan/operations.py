"""Typed operations and the ordered, stable plan that holds them.

A plan is kept as one DataFrame (kind, target, group, payload, reason): compact for
50,000 operations, and what the DAG stores as Parquet. ``Operation`` objects are made
on demand for code that handles one operation at a time (the applier).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

import pandas as pd

from confluence_provisioning import frames


class OperationKind(StrEnum):
    """Every kind of write, in the order the stages run."""

    create_group = "create_group"
    create_user = "create_user"
    reenable_user = "reenable_user"
    update_user = "update_user"
    add_membership = "add_membership"
    remove_membership = "remove_membership"
    disable_user = "disable_user"
    delete_user = "delete_user"
    delete_group = "delete_group"


KIND_ORDER: dict[str, int] = {kind.value: index for index, kind in enumerate(OperationKind)}

# Stages run one after the other: groups and users exist before members are added,
# and everything that takes access away comes last.
STAGES: tuple[tuple[str, tuple[OperationKind, ...]], ...] = (
    ("create groups", (OperationKind.create_group,)),
    (
        "create and update users",
        (OperationKind.create_user, OperationKind.reenable_user, OperationKind.update_user),
    ),
    ("add memberships", (OperationKind.add_membership,)),
    ("remove memberships", (OperationKind.remove_membership,)),
    ("disable users", (OperationKind.disable_user,)),
    ("delete users", (OperationKind.delete_user,)),
    ("delete groups", (OperationKind.delete_group,)),
)

# The plan frame: payload is a JSON object (text) so the frame round-trips through Parquet.
PLAN: dict[str, str] = {
    "kind": frames.STRING,
    "target": frames.STRING,  # username, or group name for group operations
    "group": frames.STRING,  # the group of a membership operation, else <NA>
    "payload": frames.STRING,
    "reason": frames.STRING,
}

EmailSource = Literal["confluence", "ledger", "none"]

# Accounts a plan matched by username, to be linked to their IdP id (plan.identity)
LINKS: dict[str, str] = {"account_id": frames.STRING, "idp_id": frames.STRING}

# Desired users Confluence does not have and the plan does not create (a report line each).
NOT_CREATED: dict[str, str] = {"username": frames.STRING, "reason": frames.STRING}


@dataclass(frozen=True, slots=True)
class Operation:
    kind: OperationKind
    target: str
    group: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""

    def describe(self) -> str:
        """``add membership alice -> eng``: how logs and reports name one operation."""
        action = self.kind.value.replace("_", " ")
        return f"{action} {self.target} -> {self.group}" if self.group else f"{action} {self.target}"


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    operations: tuple[Operation, ...]


def operations_frame(
    kind: OperationKind,
    targets: Iterable[str],
    reasons: Iterable[str],
    *,
    groups: Iterable[str] | None = None,
    payloads: Iterable[Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """A plan frame of one kind from parallel columns (vectorised callers pass Series)."""
    frame = pd.DataFrame({"target": pd.Series(targets, dtype=frames.STRING).reset_index(drop=True)})
    frame["kind"] = kind.value
    frame["group"] = (
        pd.Series(pd.NA, index=frame.index, dtype=frames.STRING)
        if groups is None
        else pd.Series(groups, dtype=frames.STRING).reset_index(drop=True)
    )
    frame["payload"] = "{}" if payloads is None else [json.dumps(dict(p), sort_keys=True) for p in payloads]
    frame["reason"] = pd.Series(reasons, dtype=frames.STRING).reset_index(drop=True)
    return frames.conform(frame, PLAN)


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Stage order, then group, then target: the same inputs always give the same plan."""
    order = frame["kind"].map(KIND_ORDER).astype("int64")
    keyed = frame.assign(_order=order, _group=frame["group"].fillna(""))
    keyed = keyed.sort_values(["_order", "_group", "target"], kind="stable")
    return frames.conform(keyed, PLAN)


@dataclass(frozen=True)
class Plan:
    """Ordered operations, where the email comparison came from, and notes for the admin.

    ``not_created`` (NOT_CREATED) and ``users`` (desired = existing + created + not created)
    account for every desired user; ``links`` (account_id, idp_id) are accounts matched by username
    for the audit store to link to their IdP id (``plan.identity``); a plan read back from its
    frame alone has none of them.
    """

    frame: pd.DataFrame
    email_source: EmailSource = "none"
    notes: tuple[str, ...] = ()
    not_created: pd.DataFrame = field(default_factory=lambda: frames.empty(NOT_CREATED))
    users: Mapping[str, int] = field(default_factory=dict)
    links: pd.DataFrame = field(default_factory=lambda: frames.empty(LINKS))

    @classmethod
    def of(
        cls,
        parts: Iterable[pd.DataFrame],
        email_source: EmailSource = "none",
        notes: Iterable[str] = (),
        *,
        not_created: pd.DataFrame | None = None,
        users: Mapping[str, int] | None = None,
    ) -> Plan:
        frame = pd.concat([frames.empty(PLAN), *parts], ignore_index=True)
        missing = frames.empty(NOT_CREATED) if not_created is None else not_created
        return cls(
            ordered(frame),
            email_source,
            tuple(notes),
            frames.conform(missing, NOT_CREATED),
            dict(users or {}),
        )

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def operations(self) -> tuple[Operation, ...]:
        return tuple(to_operations(self.frame))

    def stages(self) -> list[Stage]:
        """Every stage in run order, empty ones included, so callers can wire a fixed pipeline."""
        by_kind: dict[OperationKind, list[Operation]] = {kind: [] for kind in OperationKind}
        for operation in self.operations:
            by_kind[operation.kind].append(operation)
        return [Stage(name, tuple(op for kind in kinds for op in by_kind[kind])) for name, kinds in STAGES]

    def summary(self) -> dict[str, int]:
        """Operations per kind (every kind, zeros included), in stage order."""
        counts = self.frame["kind"].value_counts()
        return {kind.value: int(counts.get(kind.value, 0)) for kind in OperationKind}

    def to_frame(self) -> pd.DataFrame:
        """The plan frame, with the email source and notes in ``attrs`` (kept by Parquet)."""
        frame = self.frame.copy()
        frame.attrs = {"email_source": self.email_source, "notes": list(self.notes)}
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Plan:
        attrs = frame.attrs
        return cls(
            ordered(frames.conform(frame, PLAN)),
            attrs.get("email_source", "none"),
            tuple(attrs.get("notes", ())),
        )


def to_operations(frame: pd.DataFrame) -> Iterable[Operation]:
    """Operations from plan-frame rows (in the frame's order)."""
    for kind, target, group, payload, reason in frame[list(PLAN)].itertuples(index=False):
        yield Operation(
            OperationKind(kind),
            target,
            None if pd.isna(group) else group,
            json.loads(payload),
            reason,
        )
