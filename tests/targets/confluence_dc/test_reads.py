"""Paged reads against the emulator over real HTTP: exact frames, exact requests, fail closed."""

from __future__ import annotations

import pandas as pd
import pytest

from confluence_provisioning import frames
from confluence_provisioning.frames import TargetSnapshot
from confluence_provisioning.targets.confluence_dc import RetryPolicy, TransientError
from sandbox.confluence import EmulatorServer, ListCaps
from tests.targets.confluence_dc.conftest import routes

ADMIN = {
    "id": "admin",
    "dn": "",
    "login": "admin",
    "email": "admin@example.com",
    "display_name": "admin",
    "active": True,
}


def user(name: str, display_name: str, email: str | None, active: bool = True) -> dict:
    return {
        "id": name,
        "dn": "",
        "login": name,
        "email": email,
        "display_name": display_name,
        "active": active,
    }


def group(name: str) -> dict:
    return {"id": name, "dn": "", "name": name}


def add_users(server: EmulatorServer, count: int, group: str | None = None) -> list[str]:
    names = [f"user{i:04d}" for i in range(count)]
    directory = server.directory
    if group:
        directory.create_group(group)
    for name in names:
        directory.create_user(name, f"User {name}", f"{name}@example.com", None)
        if group:
            directory.add_member(name, group)
    return names


def test_users_with_status_and_emails(confluence, client) -> None:
    directory = confluence.directory
    directory.create_user("alice", "Alice Smith", "alice@example.com", "pw")
    directory.create_user("bob", "Bob Jones", "Bob.Jones@Example.com", "pw")
    directory.set_active("bob", False)

    expected = frames.from_records(
        [
            ADMIN,
            user("alice", "Alice Smith", "alice@example.com"),
            user("bob", "Bob Jones", "Bob.Jones@Example.com", active=False),
        ],
        frames.USERS,
    )
    pd.testing.assert_frame_equal(client.users(), expected)
    assert routes(confluence) == {"GET /rest/api/user/list": 1}


def test_hidden_emails_are_missing_not_empty(confluence_server, make_client) -> None:
    server = confluence_server(show_emails=False)
    server.directory.create_user("alice", "Alice Smith", "alice@example.com", "pw")

    users = make_client(server).users()

    expected = frames.from_records(
        [
            {**ADMIN, "email": None},
            user("alice", "Alice Smith", None),
        ],
        frames.USERS,
    )
    pd.testing.assert_frame_equal(users, expected)
    assert users["email"].isna().all()


def test_groups_and_members(confluence, client) -> None:
    directory = confluence.directory
    directory.create_user("alice", "Alice", "alice@example.com", None)
    directory.create_group("eng")
    directory.create_group("ops team")
    directory.add_member("alice", "eng")
    directory.add_member("admin", "eng")

    expected = frames.from_records(
        [group("confluence-administrators"), group("confluence-users"), group("eng"), group("ops team")],
        frames.GROUPS,
    )
    pd.testing.assert_frame_equal(client.groups(), expected)
    assert client.members("eng") == ["admin", "alice"]
    assert client.members("ops team") == []


def test_server_capped_limit_is_followed_page_by_page(confluence_server, make_client) -> None:
    # we ask for 200 a page; the server gives 3 and its next links say so
    server = confluence_server(caps=ListCaps(users=3, groups=3, members=3))
    names = add_users(server, 7, group="eng")

    client = make_client(server, page_size=200)

    assert client.members("eng") == names
    assert client.users()["id"].tolist() == ["admin", *names]
    assert client.groups()["id"].tolist() == ["confluence-administrators", "confluence-users", "eng"]
    assert routes(server) == {
        "GET /rest/api/group/{groupName}/member": 3,  # 3 + 3 + 1, the last page has no next
        "GET /rest/api/user/list": 3,  # 3 + 3 + 2
        "GET /rest/api/group": 1,
    }


def test_relative_next_links_join_the_base_with_its_context_path(confluence_server, make_client) -> None:
    server = confluence_server(context_path="/confluence", caps=ListCaps(users=2))
    names = add_users(server, 5)
    assert server.base_url.endswith("/confluence")

    users = make_client(server).users()

    assert users["id"].tolist() == ["admin", *names]
    assert routes(server) == {"GET /rest/api/user/list": 3}


def test_walk_stops_on_an_empty_page_when_next_lies(confluence_server, make_client) -> None:
    # CONFSERVER-95396: above 200 items size claims a full page and next is always there
    server = confluence_server(buggy_paging=True, caps=ListCaps(users=100, members=100))
    names = add_users(server, 250, group="big")

    client = make_client(server, page_size=100)

    assert client.users()["id"].tolist() == ["admin", *names]
    assert client.members("big") == names
    assert routes(server) == {
        "GET /rest/api/user/list": 4,  # 100 + 100 + 51, then the empty page that ends it
        "GET /rest/api/group/{groupName}/member": 4,  # 100 + 100 + 50, then empty
    }


def test_snapshot_reads_members_of_the_groups_asked_for_that_exist(confluence, client) -> None:
    directory = confluence.directory
    for name in ("alice", "bob"):
        directory.create_user(name, name.title(), f"{name}@example.com", None)
    for name in ("eng", "ops", "sales"):
        directory.create_group(name)
    directory.add_member("alice", "eng")
    directory.add_member("bob", "eng")
    directory.add_member("bob", "ops")
    directory.add_member("alice", "sales")

    snapshot = client.snapshot(["ENG", "ops", "not-created-yet"])

    assert isinstance(snapshot, TargetSnapshot)
    assert snapshot.users["id"].tolist() == ["admin", "alice", "bob"]
    assert snapshot.groups["id"].tolist() == [
        "confluence-administrators",
        "confluence-users",
        "eng",
        "ops",
        "sales",
    ]
    expected = frames.from_records(
        [
            {"group_id": "eng", "user_id": "alice", "direct": True},
            {"group_id": "eng", "user_id": "bob", "direct": True},
            {"group_id": "ops", "user_id": "bob", "direct": True},
        ],
        frames.MEMBERSHIPS,
    )
    pd.testing.assert_frame_equal(snapshot.memberships, expected)
    assert routes(confluence)["GET /rest/api/group/{groupName}/member"] == 2


def test_snapshot_of_all_groups(confluence, client) -> None:
    confluence.directory.create_group("eng")
    confluence.directory.add_member("admin", "eng")

    memberships = client.snapshot().memberships

    assert sorted(zip(memberships["group_id"], memberships["user_id"], strict=True)) == [
        ("confluence-administrators", "admin"),
        ("confluence-users", "admin"),
        ("eng", "admin"),
    ]


def test_an_empty_group_list_gives_empty_frames_of_the_right_shape(confluence, client) -> None:
    memberships = client.snapshot([]).memberships
    pd.testing.assert_frame_equal(memberships, frames.empty(frames.MEMBERSHIPS))


def test_a_transient_page_error_is_retried(confluence, client, sleeps) -> None:
    confluence.emulator.set_faults(
        [{"path": "/rest/api/user/list", "error_rate": 1, "statuses": [503], "limit": 2}]
    )
    assert client.users()["id"].tolist() == ["admin"]
    assert len(sleeps) == 2
    assert confluence.emulator.counters.as_json()["by_status"] == {"200": 1, "503": 2}


def test_a_dropped_connection_is_retried(confluence, client, sleeps) -> None:
    confluence.emulator.set_faults([{"path": "/rest/api/group", "drop_rate": 1, "limit": 1}])
    assert client.groups()["id"].tolist() == ["confluence-administrators", "confluence-users"]
    assert len(sleeps) == 1


def test_a_read_that_keeps_failing_fails_the_whole_snapshot(confluence, client) -> None:
    directory = confluence.directory
    for name in ("eng", "ops"):
        directory.create_group(name)
        directory.add_member("admin", name)
    confluence.emulator.set_faults(
        [{"path": "/rest/api/group/ops/member", "error_rate": 1, "statuses": [502]}]
    )

    with pytest.raises(TransientError) as raised:
        client.snapshot()

    assert str(raised.value) == "list members 'ops': HTTP 502: Injected fault"
    assert raised.value.attempts == 4
    assert routes(confluence)["GET /rest/api/group/{groupName}/member"] >= 4


def test_a_429_burst_on_a_read_waits_as_retry_after_says(confluence, client, sleeps) -> None:
    confluence.emulator.set_faults(
        [{"path": "/rest/api/group", "limit": 2, "burst_429": {"rate": 1, "length": 2, "retry_after": 3}}]
    )
    assert client.groups()["id"].tolist() == ["confluence-administrators", "confluence-users"]
    assert sleeps == [3, 3]
    assert confluence.emulator.counters.as_json()["by_status"] == {"200": 1, "429": 2}


def test_retry_after_beyond_the_cap_waits_only_the_cap(confluence, make_client, sleeps) -> None:
    confluence.emulator.set_faults(
        [{"path": "/rest/api/group", "limit": 1, "burst_429": {"rate": 1, "length": 1, "retry_after": 3600}}]
    )
    client = make_client(confluence, retry=RetryPolicy(retry_after_cap=7))
    client.groups()
    assert sleeps == [7]
