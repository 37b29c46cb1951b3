"""Saved tables patched with delta rounds give the frames of the tenant read in full (no HTTP).

A seeded tenant changes round after round as Graph reports it (users and groups removed, back,
renamed, becoming guests or losing their login; members added and removed, nested groups with
cycles, devices, members not read yet). After each round the patched tables must give exactly
the frames of the changed tenant read in full, with guests in or out.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from confluence_provisioning.settings import EntraSourceSettings
from confluence_provisioning.sources.entra.tenant import Delta, Tenant, TenantTables, property_columns

GRAPH = "#microsoft.graph."
LOGIN = "onPremisesSamAccountName"


def _apply(tenant: Tenant, users: list[dict[str, Any]], groups: list[dict[str, Any]]) -> None:
    """What the delta rounds mean, on the dicts of a full read (the specification)."""
    for item in users:
        if "@removed" in item:
            tenant.users.pop(item["id"], None)
            for members in tenant.members.values():
                members.pop(item["id"], None)
        else:
            properties = {k: v for k, v in item.items() if k != "id"}
            tenant.users[item["id"]] = {**tenant.users.get(item["id"], {}), **properties}
    for item in groups:
        if "@removed" in item:
            tenant.groups.pop(item["id"], None)
            tenant.members.pop(item["id"], None)
            continue
        if "displayName" in item:
            tenant.groups[item["id"]] = item["displayName"] or item["id"]
        else:
            tenant.groups.setdefault(item["id"], item["id"])
        members = tenant.members.setdefault(item["id"], {})
        for member in item.get("members@delta", []):
            if "@removed" in member:
                members.pop(member["id"], None)
            else:
                members[member["id"]] = member["@odata.type"].rsplit(".", 1)[-1]


def _user(rng: random.Random, user_id: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "userPrincipalName": f"{user_id}@example.com",
        "displayName": f"User {user_id}",
        "mail": rng.choice([f"{user_id}@example.com", None]),
        "accountEnabled": rng.random() > 0.2,
        "userType": "Guest" if rng.random() < 0.15 else "Member",
        LOGIN: user_id if rng.random() > 0.1 else None,
        "department": rng.choice(["sales", "eng", None, ["a", "b"]]),
    }


def _round(
    rng: random.Random, tenant: Tenant, step: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One round of Graph-shaped changes to ``tenant``."""
    known = sorted(tenant.users)
    users: list[dict[str, Any]] = []
    for user_id in rng.sample(known, 6):
        choice = rng.random()
        if choice < 0.3:
            users.append({"id": user_id, "@removed": {"reason": "deleted"}})
        elif choice < 0.6:
            users.append({"id": user_id, "displayName": f"Renamed {step}"})
        else:
            change = rng.choice([("userType", "Guest"), ("userType", "Member"), (LOGIN, None),
                                 (LOGIN, user_id), ("accountEnabled", False)])  # fmt: skip
            users.append({"id": user_id, change[0]: change[1]})
    # a member of a group becomes usable (no longer a guest, a login again): its groups change
    in_groups = {m for members in tenant.members.values() for m in members}
    unusable = [u for u in known if u in in_groups and (tenant.users[u].get("userType") == "Guest"
                                                        or not tenant.users[u].get(LOGIN))]  # fmt: skip
    users += [{"id": user_id, "userType": "Member", LOGIN: user_id} for user_id in unusable[:2]]
    users += [_user(rng, f"u-{step}-{n}") for n in range(3)]
    everyone = [u["id"] for u in users if "@removed" not in u] + known
    group_ids = sorted(tenant.groups)
    groups: list[dict[str, Any]] = []
    for group_id in rng.sample([g for g in group_ids if g != "g04"], 4):
        choice = rng.random()
        if choice < 0.15:
            groups.append({"id": group_id, "@removed": {"reason": "deleted"}})
            continue
        item: dict[str, Any] = {"id": group_id, "members@delta": []}
        if choice < 0.3:
            item["displayName"] = f"renamed-{step}"
        for _ in range(rng.randint(1, 5)):
            kind = rng.choice(["user", "user", "user", "group", "device"])
            member_id = (
                rng.choice(everyone if kind == "user" else group_ids) if kind != "device" else f"d-{step}"
            )
            member: dict[str, Any] = {"@odata.type": GRAPH + kind, "id": member_id}
            if rng.random() < 0.3:
                member["@removed"] = {"reason": "deleted"}
            item["members@delta"].append(member)
        groups.append(item)
    # a new group with a member no users round has named yet (it comes the round after)
    members = [{"@odata.type": GRAPH + "user", "id": m} for m in [rng.choice(known), f"u-{step}-late"]]
    groups.append({"id": f"g-{step}", "displayName": f"new-{step}", "members@delta": members})
    if step > 1:
        users.append(_user(rng, f"u-{step - 1}-late"))
    if step == 3:  # a nested group goes: its parent keeps its members no more
        groups.append({"id": "g04", "@removed": {"reason": "deleted"}})
    return users, groups


@pytest.mark.parametrize("include_guests", [False, True])
def test_patched_tables_give_the_frames_of_a_full_read(include_guests: bool) -> None:
    settings = EntraSourceSettings(
        login_attribute=LOGIN,
        extra_attributes=["department"],
        include_guests=include_guests,
        min_users=0,
    )
    rng = random.Random(12)
    tenant = Tenant()
    for n in range(60):
        tenant.users[f"u{n:03}"] = {k: v for k, v in _user(rng, f"u{n:03}").items() if k != "id"}
    for n in range(12):
        tenant.groups[f"g{n:02}"] = f"group-{n}"
        tenant.members[f"g{n:02}"] = {f"u{m:03}": "user" for m in rng.sample(range(60), 8)}
    for parent, child in [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (6, 6), (7, 3)]:  # a cycle, a chain, a loop
        tenant.members[f"g{parent:02}"][f"g{child:02}"] = "group"
    tenant.members["g08"]["d-0"] = "device"
    tables = TenantTables.of(tenant, settings)
    columns = property_columns(settings)
    for step in range(1, 6):
        users, groups = _round(rng, tenant, step)
        _apply(tenant, users, groups)
        delta = Delta(columns)
        for item in users:
            delta.add_user(item)
        for item in groups:
            delta.add_group(item)
        tables = TenantTables.from_state(tables.to_state({})).patched(delta, settings)
        patched, full = tables.frames(settings), TenantTables.of(tenant, settings).frames(settings)
        for name in ("users", "groups", "memberships", "rejects"):
            pd.testing.assert_frame_equal(
                getattr(patched, name), getattr(full, name), obj=f"round {step}: {name}"
            )
