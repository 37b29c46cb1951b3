"""Applying against the emulator: a client, a plan-and-apply step, and the site's state in comparable form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluence_provisioning.apply.applier import ApplyResult, apply
from confluence_provisioning.plan.planner import Plan, plan
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets.confluence_dc import ConfluenceClient, RetryPolicy
from sandbox.confluence import EmulatorServer
from tests.plan.states import State, desired

# Real waits, kept short: tests exercise the retries, not the patience.
FAST_RETRY = RetryPolicy(
    max_attempts=10, base_delay=0.005, max_delay=0.05, budget_seconds=60, retry_after_cap=0.05
)
OPEN_LIMITS = {"max_users_disabled_or_deleted": 1000, "max_users_disabled_or_deleted_percent": 100}


def team(*names: str) -> State:
    """Active users, all in group eng."""
    return desired(
        [(name, name.title(), f"{name}@example.org", True) for name in names],
        [("eng", True, True)],
        [("eng", name, False) for name in names],
    )


def people(count: int, teams: int) -> State:
    """``count`` users, each in one team and every other one in a second team."""
    users = [(f"user{i:03d}", f"User {i}", f"user{i:03d}@example.org", True) for i in range(count)]
    memberships = [(f"team{i % teams}", name, False) for i, (name, *_) in enumerate(users)]
    memberships += [(f"team{(i + 1) % teams}", name, False) for i, (name, *_) in enumerate(users) if i % 2]
    return desired(users, [(f"team{g}", True, True) for g in range(teams)], memberships)


def connect(server: EmulatorServer, **options: Any) -> ConfluenceClient:
    username, password = server.admin_auth
    return ConfluenceClient(
        server.base_url, **{"username": username, "password": password, "retry": FAST_RETRY, **options}
    )


def settings(**sections: Any) -> Settings:
    return Settings.model_validate({"limits": OPEN_LIMITS, **sections})


# one worker: the order of the answers, and so of the skips, is fixed
SERIAL = settings(target={"kind": "confluence_data_center", "max_in_flight": 1})


def rows(result: ApplyResult) -> list[tuple[str, str, str, str]]:
    """(operation, target, status, error or "") of each result row."""
    frame = result.results
    return list(
        zip(frame["operation"], frame["target"], frame["status"], frame["error"].fillna(""), strict=True)
    )


@dataclass(frozen=True)
class Run:
    plan: Plan
    result: ApplyResult
    writes: int  # non-GET requests the emulator served during apply


def sync(server: EmulatorServer, desired: Any, rules: Settings, **options: Any) -> Run:
    """Snapshot, plan and apply, as the DAG does; counts the writes the apply sent."""
    client = connect(server, dry_run=options.pop("dry_run", False))
    with client:
        managed = list(desired.groups["name"]) + list(rules.protected.groups)
        the_plan = plan(desired, client.snapshot(managed), rules, **options)
        server.emulator.counters.clear()
        result = apply(the_plan, client, rules, retry=FAST_RETRY)
        return Run(the_plan, result, writes(server))


def writes(server: EmulatorServer) -> int:
    methods = server.emulator.counters.as_json()["by_method"]
    return sum(count for method, count in methods.items() if method != "GET")


def site_state(server: EmulatorServer, *, skip: tuple[str, ...] = ("admin",)) -> dict[str, Any]:
    """Users (name -> display name, email, active), groups and memberships, without ``skip`` users."""
    state = server.state
    return {
        "users": {
            user["username"]: (user["displayName"], user["email"], user["active"])
            for user in state["users"]
            if user["username"] not in skip
        },
        "groups": set(state["groups"]),
        "memberships": {
            (group, member)
            for group, members in state["memberships"].items()
            for member in members
            if member not in skip
        },
    }


RESERVED_GROUPS = ("confluence-administrators", "confluence-users")


def desired_state(desired: Any) -> dict[str, Any]:
    """The same shape for desired frames (the site's reserved groups are always there)."""
    users = desired.users
    return {
        "users": {
            name: (display, email, bool(active))
            for name, display, email, active in zip(
                users["username"], users["display_name"], users["email"], users["active"], strict=True
            )
        },
        "groups": set(desired.groups["name"]) | set(RESERVED_GROUPS),
        "memberships": set(zip(desired.memberships["group"], desired.memberships["username"], strict=True)),
    }
