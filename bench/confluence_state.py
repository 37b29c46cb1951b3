"""Confluence starting points in the emulator's state JSON, made by the real mapping and planner.

"In sync" is what one run of the pipeline leaves on a fresh site: the desired
frames (``mapping.map_rules`` on the IdP frames) planned against the fresh site
(``planner.plan``), and that plan's group creations, user creations and
membership additions laid onto the fresh site. Nothing here re-states a rule,
so a noop run against it must plan zero operations.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

from bench.company_frames import IdpFrames
from confluence_provisioning import frames
from confluence_provisioning.frames import TargetSnapshot
from confluence_provisioning.mapping.stage import map_rules
from confluence_provisioning.plan.planner import OperationKind, plan
from confluence_provisioning.settings import Settings

STATE_VERSION = 1
# A fresh Confluence site: its admin account in the two reserved groups (as the emulator starts).
ADMIN = "admin"
FRESH_SITE: dict[str, Any] = {
    "version": STATE_VERSION,
    "users": [
        {"username": ADMIN, "userKey": "0" * 32, "displayName": ADMIN, "email": f"{ADMIN}@example.com"}
    ],
    "groups": ["confluence-administrators", "confluence-users"],
    "memberships": {"confluence-administrators": [ADMIN], "confluence-users": [ADMIN]},
}


def in_sync_state(idp: IdpFrames, settings: Settings) -> dict[str, Any]:
    """The state a fresh site is in after the pipeline synced ``idp`` with ``settings``."""
    desired = map_rules(idp, settings)
    first_run = plan(desired, snapshot_of(FRESH_SITE), settings, allow_over_limits=True).frame
    return _applied(FRESH_SITE, first_run)


def snapshot_of(state: dict[str, Any]) -> TargetSnapshot:
    """The frames the client reads from a site in ``state`` (every group's members read)."""
    users = state["users"]
    memberships = [(group, user) for group, members in state["memberships"].items() for user in members]
    return TargetSnapshot(
        users=frames.conform(
            pd.DataFrame(
                {
                    "id": [u["username"] for u in users],
                    "dn": [""] * len(users),
                    "login": [u["username"] for u in users],
                    "email": [u.get("email", "") for u in users],
                    "display_name": [u["displayName"] for u in users],
                    "active": [u.get("active", True) for u in users],
                }
            ),
            frames.USERS,
        ),
        groups=frames.conform(
            pd.DataFrame({"id": state["groups"], "dn": [""] * len(state["groups"]), "name": state["groups"]}),
            frames.GROUPS,
        ),
        memberships=frames.conform(
            pd.DataFrame(memberships, columns=["group_id", "user_id"]).assign(direct=True),
            frames.MEMBERSHIPS,
        ),
    )


def user_key(username: str) -> str:
    """A stable 32-hex userKey, so the same company always gives the same state file."""
    return hashlib.sha256(username.encode("utf-8")).hexdigest()[:32]


def _applied(site: dict[str, Any], first_run: pd.DataFrame) -> dict[str, Any]:
    """``site`` after the creations and additions of a first run (the only kinds one has)."""
    kinds = set(first_run["kind"])
    unexpected = kinds - {OperationKind.create_group, OperationKind.create_user, OperationKind.add_membership}
    if unexpected:
        raise ValueError(f"a first run against a fresh site planned {sorted(unexpected)}: check bench rules")
    by_kind = {kind: rows for kind, rows in first_run.groupby("kind", sort=False)}
    empty = first_run.iloc[0:0]
    created = by_kind.get(OperationKind.create_user.value, empty)
    users = list(site["users"])
    for name, payload in zip(created["target"], created["payload"], strict=True):
        profile = json.loads(payload)
        users.append(
            {
                "username": name,
                "userKey": user_key(name),
                "displayName": profile["full_name"],
                "email": profile.get("email") or "",
            }
        )
    groups = sorted({*site["groups"], *by_kind.get(OperationKind.create_group.value, empty)["target"]})
    memberships = {group: list(members) for group, members in site["memberships"].items()}
    added = by_kind.get(OperationKind.add_membership.value, empty)
    for group, rows in added.groupby("group", sort=True):
        memberships[group] = sorted({*memberships.get(group, ()), *rows["target"]})
    return {"version": STATE_VERSION, "users": users, "groups": groups, "memberships": memberships}
