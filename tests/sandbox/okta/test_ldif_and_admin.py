"""The example LDIF as an Okta org, the admin routes, and `python -m sandbox.okta`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from sandbox.okta import OktaServer
from tests.emulator.test_cli import free_port, wait_until_up
from tests.fixtures.okta import EXAMPLE_LDIF
from tests.sandbox.okta.conftest import session, walk


def test_the_example_directory_maps_as_documented(okta_example: OktaServer) -> None:
    directory = okta_example.directory
    users = {user.profile["login"]: user for user in directory.users()}
    # 203 user entries; kwalker and svc-jenkins have no mail
    assert len(users) == 201
    assert "kwalker@example.com" not in users and "svc-jenkins@example.com" not in users
    assert users["JSmith@example.com"].profile["email"] == "john.smith@example.com"
    assert users["jsmith@contractor.example.org"].profile["userType"] == "contractor"
    assert {login for login, user in users.items() if user.status == "SUSPENDED"} == {
        "epark@example.com",
        "dhughes@example.com",
        "zscott@example.com",
        "fmeyer@example.com",
    }
    assert users["svc-backup@example.com"].profile["userType"] == "service"
    assert users["tnguyen@example.com"].profile.get("displayName") is None
    groups = {group.name: group for group in directory.groups()}
    assert len(groups) == 31 and groups["Everyone"].type == "BUILT_IN"
    assert {group.type for name, group in groups.items() if name != "Everyone"} == {"OKTA_GROUP"}
    # nested groups are flattened: engineering reaches 65 people
    assert len(directory.member_ids("engineering")) == 65
    assert len(directory.member_ids("leadership")) == 6  # the cycle with exec-staff, once
    assert len(directory.member_ids("hr")) == 8  # kwalker (no mail) is not held


def test_the_admin_routes_set_a_status_and_change_the_org(okta: OktaServer) -> None:
    admin = requests.Session()
    created = admin.post(
        f"{okta.admin_url}/users",
        json={"profile": {"login": "bob@example.com", "email": "bob@example.com"}, "status": "STAGED"},
        timeout=10,
    )
    assert created.status_code == 201 and created.json()["status"] == "STAGED"
    assert admin.post(f"{okta.admin_url}/groups", json={"name": "eng"}, timeout=10).status_code == 201
    assert admin.put(f"{okta.admin_url}/groups/eng/users/bob@example.com", timeout=10).status_code == 204
    status = admin.put(
        f"{okta.admin_url}/users/bob@example.com/status", json={"status": "DEPROVISIONED"}, timeout=10
    )
    assert status.status_code == 204
    renamed = admin.patch(
        f"{okta.admin_url}/users/bob@example.com", json={"profile": {"lastName": "B"}}, timeout=10
    )
    assert renamed.json()["profile"]["lastName"] == "B"
    unknown = admin.put(f"{okta.admin_url}/users/bob@example.com/status", json={"status": "GONE"}, timeout=10)
    assert unknown.status_code == 400 and unknown.json()["errorCode"] == "E0000001"

    state = admin.get(f"{okta.admin_url}/state", timeout=10).json()
    [bob] = state["users"]
    assert bob["status"] == "DEPROVISIONED" and bob["activated"] is None
    assert [group["members"] for group in state["groups"] if group["profile"]["name"] == "eng"] == [
        [bob["id"]]
    ]
    okta.reset()
    assert admin.put(f"{okta.admin_url}/state", json=state, timeout=10).status_code == 204
    assert okta.directory.dump() == state

    ldif = admin.put(f"{okta.admin_url}/ldif", data=EXAMPLE_LDIF.read_bytes(), timeout=30)
    assert [warning.split(":")[0] for warning in ldif.json()["warnings"]] == [
        "uid=kwalker,ou=people,dc=example,dc=com",
        "uid=svc-jenkins,ou=service,dc=example,dc=com",
    ]


def test_the_cli_serves_an_ldif_with_the_options_given(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable, "-m", "sandbox.okta", "--port", str(port), "--token", "cli-token",
        "--ldif", str(EXAMPLE_LDIF), "--page-cap", "50", "--rate-limit", "100/60",
        "--state", str(tmp_path / "org.json"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/__emulator/counters", process)
        server = OktaServer(tokens=("cli-token",))
        server.port = port
        users, pages = walk(session(server), f"{base}/api/v1/users", limit=200)
        assert len(users) == 201 and pages == 5
        first = session(server).get(f"{base}/api/v1/users", timeout=10)
        assert first.headers["X-Rate-Limit-Limit"] == "100"
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert (tmp_path / "org.json").exists()
