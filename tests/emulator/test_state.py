"""State: dump and load, reset, the --state file across restarts, and the HTML page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from sandbox.confluence import EmulatorServer
from tests.emulator.conftest import Client, new_user

STATE = {
    "version": 1,
    "users": [
        {
            "username": "admin",
            "userKey": "a" * 32,
            "displayName": "Admin",
            "email": "admin@example.com",
            "active": True,
            "password": "admin",
        },
        {
            "username": "alice",
            "userKey": "b" * 32,
            "displayName": "Alice",
            "email": "a@example.com",
            "active": False,
        },
        {
            "username": "bob",
            "userKey": "c" * 32,
            "displayName": "Bob",
            "email": "b@example.com",
            "active": True,
            "password": "pw",
        },
    ],
    "groups": ["confluence-administrators", "confluence-users", "eng"],
    "memberships": {
        "confluence-administrators": ["admin"],
        "confluence-users": ["admin", "alice", "bob"],
        "eng": ["alice"],
    },
    "tokens": {"tok": "bob"},
}


def test_load_then_dump_gives_the_state_back(confluence: EmulatorServer) -> None:
    loaded = requests.put(f"{confluence.admin_url}/state", json=STATE, timeout=5)
    dumped = requests.get(f"{confluence.admin_url}/state", timeout=5)

    assert loaded.status_code == 204
    assert dumped.json() == STATE
    assert confluence.state == STATE


def test_a_loaded_state_is_served(confluence: EmulatorServer) -> None:
    confluence.directory.load(STATE)

    with Client(confluence, bearer="tok") as bob:
        members = bob.get("/rest/api/group/eng/member", params={"expand": "status"}).json()["results"]
    with Client(confluence, ("bob", "pw")) as bob:
        assert bob.get("/rest/api/user/current").json()["username"] == "bob"

    assert [(user["username"], user["userKey"], user["status"]) for user in members] == [
        ("alice", "b" * 32, "deactivated")
    ]


def test_a_minimal_state_gets_an_admin_who_can_log_in(confluence: EmulatorServer) -> None:
    confluence.directory.load(
        {"users": [{"username": "Carol"}], "groups": ["Ops"], "memberships": {"OPS": ["carol"]}}
    )

    state = confluence.state
    assert state["groups"] == ["confluence-administrators", "ops"]
    assert state["memberships"] == {"confluence-administrators": ["admin"], "ops": ["carol"]}
    assert state["users"][0]["password"] == "admin"
    carol = state["users"][1]
    assert (carol["username"], carol["displayName"], carol["email"], carol["active"]) == (
        "Carol",
        "Carol",
        "",
        True,
    )
    assert len(carol["userKey"]) == 32


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ([], "Invalid state: the state must be a JSON object"),
        ({"version": 2}, "Invalid state: unsupported version 2, expected 1"),
        ({"users": [{"username": "a"}, {"username": "A"}]}, "Invalid state: duplicate usernames"),
        ({"users": [{"displayName": "x"}]}, "Invalid state: 'username'"),
        ({"memberships": {"nope": ["admin"]}}, "Invalid state: membership of unknown group 'nope'"),
        (
            {"groups": ["g"], "memberships": {"g": ["ghost"]}},
            "Invalid state: unknown user 'ghost' in group 'g'",
        ),
    ],
)
def test_a_bad_state_is_400_and_changes_nothing(
    admin: Client, confluence: EmulatorServer, state, message
) -> None:
    admin.post("/rest/api/admin/user", json=new_user("keep"))
    before = confluence.state

    response = requests.put(f"{confluence.admin_url}/state", json=state, timeout=5)

    assert response.status_code == 400
    assert response.json()["message"] == message
    assert confluence.state == before


def test_reset_gives_a_fresh_site(admin: Client, confluence: EmulatorServer) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))
    admin.post("/rest/api/admin/group", json={"name": "eng"})

    assert requests.post(f"{confluence.admin_url}/reset", timeout=5).status_code == 204

    state = confluence.state
    assert [user["username"] for user in state["users"]] == ["admin"]
    assert state["groups"] == ["confluence-administrators", "confluence-users"]
    assert requests.get(f"{confluence.admin_url}/counters", timeout=5).json()["total"] == 0


def test_the_state_file_survives_a_restart(confluence_server, tmp_path: Path) -> None:
    path = tmp_path / "site.json"
    first = confluence_server(state_file=path)
    with Client(first, first.admin_auth) as admin:
        admin.post("/rest/api/admin/user", json=new_user("alice"))
        admin.post("/rest/api/admin/group", json={"name": "Eng"})
        admin.put("/rest/api/user/alice/group/eng")
        admin.put("/rest/api/admin/user/alice/disable")
    saved = first.state
    first.stop()

    assert json.loads(path.read_text()) == saved
    second = confluence_server(state_file=path)
    assert second.state == saved
    with Client(second, second.admin_auth) as admin:
        members = admin.get("/rest/api/group/eng/member", params={"expand": "status"}).json()["results"]
    assert [(user["username"], user["status"]) for user in members] == [("alice", "deactivated")]


def test_the_state_file_is_written_while_running(confluence_server, tmp_path: Path) -> None:
    path = tmp_path / "site.json"
    server = confluence_server(state_file=path, save_interval=0.05)
    server.directory.create_group("eng")

    deadline = time.monotonic() + 5
    while not (path.exists() and "eng" in json.loads(path.read_text())["groups"]):
        assert time.monotonic() < deadline, "the state file was not written"
        time.sleep(0.02)
    assert [p.name for p in tmp_path.iterdir()] == ["site.json"]  # no temporary files left


def test_the_html_page_lists_users_groups_and_members_escaped(
    admin: Client, confluence: EmulatorServer
) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice", fullName="<script>alert(1)</script>"))
    admin.post("/rest/api/admin/group", json={"name": "a&b"})
    admin.put("/rest/api/user/alice/group/a&b")
    admin.put("/rest/api/admin/user/alice/disable")

    response = requests.get(f"{confluence.admin_url}/", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h3>a&amp;b (1)</h3><p>alice</p>" in page
    assert "<td>disabled</td>" in page
