"""Groups and memberships: create, delete, look up, add and remove members, list members and groups."""

from __future__ import annotations

import pytest
import requests

from sandbox.confluence import EmulatorServer
from tests.emulator.conftest import Client, new_user
from tests.rest_error_body import rest_error


@pytest.fixture
def alice(admin: Client) -> str:
    assert admin.post("/rest/api/admin/user", json=new_user("alice")).status_code == 201
    return "alice"


def test_create_group_answers_201_with_the_group_stored_lower_case(
    admin: Client, confluence: EmulatorServer
) -> None:
    response = admin.post("/rest/api/admin/group", json={"name": "Eng"})

    assert response.status_code == 201
    assert response.json() == {
        "type": "group",
        "name": "eng",
        "_links": {"self": f"{confluence.base_url}/rest/api/group/eng"},
    }
    assert admin.get("/rest/api/group/ENG").json()["name"] == "eng"


def test_create_existing_group_is_409_whatever_the_case(admin: Client) -> None:
    admin.post("/rest/api/admin/group", json={"name": "eng"})

    response = admin.post("/rest/api/admin/group", json={"name": "ENG"})

    assert response.status_code == 409
    assert response.json() == rest_error(409, "Group already exists: eng", "Conflict")


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "  "}, {"name": 7}])
def test_create_group_needs_a_name(admin: Client, body: dict) -> None:
    response = admin.post("/rest/api/admin/group", json=body)

    message = "The group name should not be null or blank"
    assert response.status_code == 400
    assert response.json() == rest_error(400, message, "Bad Request", [message])


def test_delete_group_answers_204_and_forgets_its_memberships(admin: Client, alice: str) -> None:
    admin.post("/rest/api/admin/group", json={"name": "eng"})
    admin.put("/rest/api/user/alice/group/eng")

    response = admin.delete("/rest/api/admin/group/Eng")

    assert (response.status_code, response.content) == (204, b"")
    assert admin.get("/rest/api/group/eng").status_code == 404
    groups = admin.get("/rest/api/user/memberof", params={"username": "alice"}).json()["results"]
    assert groups == []


def test_delete_unknown_group_is_404(admin: Client) -> None:
    response = admin.delete("/rest/api/admin/group/ghosts")

    assert response.status_code == 404
    assert response.json() == rest_error(404, "Group not found: ghosts", "Not Found")


def test_the_last_admin_group_cannot_be_deleted(admin: Client) -> None:
    response = admin.delete("/rest/api/admin/group/confluence-administrators")

    assert response.status_code == 400
    assert response.json() == rest_error(
        400, "Cannot delete the last administrators group: confluence-administrators", "Bad Request"
    )


def test_a_fresh_site_has_the_reserved_groups_and_the_admin(admin: Client) -> None:
    groups = admin.get("/rest/api/group").json()["results"]
    admins = admin.get("/rest/api/group/confluence-administrators/member").json()["results"]
    users = admin.get("/rest/api/group/confluence-users/member").json()["results"]

    assert [group["name"] for group in groups] == ["confluence-administrators", "confluence-users"]
    assert [user["username"] for user in admins] == [user["username"] for user in users] == ["admin"]


def test_membership_put_and_delete_are_idempotent(admin: Client, alice: str) -> None:
    admin.post("/rest/api/admin/group", json={"name": "eng"})

    def members() -> list[str]:
        return [user["username"] for user in admin.get("/rest/api/group/eng/member").json()["results"]]

    for _ in range(2):
        response = admin.put("/rest/api/user/alice/group/eng")
        assert (response.status_code, response.content) == (204, b"")
        assert members() == ["alice"]
    for _ in range(2):
        response = admin.delete("/rest/api/user/alice/group/ENG")
        assert (response.status_code, response.content) == (204, b"")
        assert members() == []


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_membership_of_unknown_user_or_group_is_404(admin: Client, alice: str, method: str) -> None:
    admin.post("/rest/api/admin/group", json={"name": "eng"})

    no_user = admin.request(method, "/rest/api/user/ghost/group/eng")
    no_group = admin.request(method, "/rest/api/user/alice/group/ghosts")

    assert no_user.status_code == no_group.status_code == 404
    assert no_user.json() == rest_error(404, "No user found with username: ghost", "Not Found")
    assert no_group.json() == rest_error(404, "Group not found: ghosts", "Not Found")


def test_disabled_users_keep_their_memberships_and_are_listed(admin: Client, alice: str) -> None:
    admin.put("/rest/api/user/alice/group/confluence-users")
    admin.put("/rest/api/admin/user/alice/disable")

    members = admin.get("/rest/api/group/confluence-users/member", params={"expand": "status"}).json()[
        "results"
    ]

    assert [(user["username"], user["status"]) for user in members] == [
        ("admin", "active"),
        ("alice", "deactivated"),
    ]


def test_members_of_unknown_group_is_404(admin: Client) -> None:
    response = admin.get("/rest/api/group/ghosts/member")

    assert response.status_code == 404
    assert response.json() == rest_error(404, "Group not found: ghosts", "Not Found")


def test_memberof_lists_the_groups_of_a_user(admin: Client, alice: str, confluence: EmulatorServer) -> None:
    for name in ("zeta", "alpha"):
        admin.post("/rest/api/admin/group", json={"name": name})
        admin.put(f"/rest/api/user/alice/group/{name}")

    response = admin.get("/rest/api/user/memberof", params={"username": "alice"})

    base = confluence.base_url
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"type": "group", "name": "alpha", "_links": {"self": f"{base}/rest/api/group/alpha"}},
            {"type": "group", "name": "zeta", "_links": {"self": f"{base}/rest/api/group/zeta"}},
        ],
        "start": 0,
        "limit": 200,
        "size": 2,
        "_links": {"base": base, "context": "", "self": f"{base}/rest/api/user/memberof?username=alice"},
    }


def test_memberof_unknown_user_is_404(admin: Client) -> None:
    response = admin.get("/rest/api/user/memberof", params={"username": "ghost"})

    assert response.status_code == 404
    assert response.json() == rest_error(404, "No user found with username: ghost", "Not Found")


def test_group_names_may_hold_a_slash(admin: Client, alice: str, confluence: EmulatorServer) -> None:
    created = admin.post("/rest/api/admin/group", json={"name": "Dept/Eng"})
    added = admin.put("/rest/api/user/alice/group/dept%2Feng")
    group = admin.get("/rest/api/group/dept%2Feng").json()
    members = admin.get("/rest/api/group/dept%2Feng/member").json()["results"]
    deleted = admin.delete("/rest/api/admin/group/dept%2Feng")

    assert (created.status_code, added.status_code, deleted.status_code) == (201, 204, 204)
    assert group == {
        "type": "group",
        "name": "dept/eng",
        "_links": {"self": f"{confluence.base_url}/rest/api/group/dept%2Feng"},
    }
    assert [member["username"] for member in members] == ["alice"]
    counted = requests.get(f"{confluence.admin_url}/counters", timeout=5).json()["by_route"]
    assert counted["PUT /rest/api/user/{username}/group/{groupName}"] == 1
