"""Users: create, validate, update, disable/enable, delete (long task), look up."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.confluence import EmulatorServer
from tests.emulator.conftest import Client, new_user
from tests.rest_error_body import rest_error


def test_create_user_answers_201_with_the_user_key(admin: Client, confluence: EmulatorServer) -> None:
    response = admin.post("/rest/api/admin/user", json=new_user("alice"))

    assert response.status_code == 201
    assert response.json() == {"userKey": confluence.directory.user("alice").user_key}
    assert len(response.json()["userKey"]) == 32


def test_create_user_with_notify_via_email_needs_no_password(admin: Client) -> None:
    body = new_user("alice", notifyViaEmail=True)
    del body["password"]

    assert admin.post("/rest/api/admin/user", json=body).status_code == 201


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"userName": ""}, "The userName should not be null or blank"),
        ({"userName": None}, "The userName should not be null or blank"),
        ({"userName": "   "}, "The userName should not be null or blank"),
        ({"userName": "Alice"}, "The userName should not contain any upper case characters"),
        ({"userName": "al ice"}, "The userName should not contain any whitespace characters"),
        ({"userName": "al\tice"}, "The userName should not contain any whitespace characters"),
        ({"userName": "anonymous"}, 'The userName should not be "anonymous"'),
        ({"fullName": ""}, "The fullName should not be null or blank"),
        ({"fullName": "Anonymous"}, 'The fullName should not be "anonymous"'),
        ({"email": ""}, "The email should not be null or blank"),
        ({"email": "alice.example.com"}, "The email should be a valid email address"),
        ({"email": "alice@example"}, "The email should be a valid email address"),
        ({"email": "al ice@example.com"}, "The email should be a valid email address"),
        ({"password": ""}, "If notifyViaEmail is false then the password should not be null or blank"),
        ({"password": None}, "If notifyViaEmail is false then the password should not be null or blank"),
        ({"notifyViaEmail": True}, "If notifyViaEmail is true then the password should not be specified"),
        ({"notifyViaEmail": "yes"}, "notifyViaEmail should be true or false"),
    ],
)
def test_create_user_refuses_each_broken_rule(admin: Client, overrides: dict, message: str) -> None:
    response = admin.post("/rest/api/admin/user", json=new_user("alice", **overrides))

    assert response.status_code == 400
    assert response.json() == rest_error(400, message, "Bad Request", [message])


@pytest.mark.parametrize("character", ["\\", ",", "+", "<", ">", "'", '"'])
def test_create_user_refuses_forbidden_characters(admin: Client, character: str) -> None:
    response = admin.post("/rest/api/admin/user", json=new_user(f"al{character}ice"))

    message = "The userName should not contain any of these characters \\ , + < > ' \""
    assert response.status_code == 400
    assert response.json() == rest_error(400, message, "Bad Request", [message])


def test_create_user_lists_every_broken_rule(admin: Client) -> None:
    response = admin.post("/rest/api/admin/user", json={"userName": "Bad Name", "fullName": "", "email": "x"})

    errors = [
        "The userName should not contain any whitespace characters",
        "The userName should not contain any upper case characters",
        "The fullName should not be null or blank",
        "The email should be a valid email address",
        "If notifyViaEmail is false then the password should not be null or blank",
    ]
    assert response.status_code == 400
    assert response.json() == rest_error(400, errors[0], "Bad Request", errors)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_create_user_refuses_a_body_that_is_not_a_json_object(admin: Client, body: bytes) -> None:
    response = admin.post("/rest/api/admin/user", data=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_create_existing_user_is_409(admin: Client) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))

    response = admin.post("/rest/api/admin/user", json=new_user("alice"))

    assert response.status_code == 409
    assert response.json() == rest_error(409, "A user with username alice already exists", "Conflict")


def test_no_seat_left_is_402_and_a_disabled_user_frees_a_seat(confluence_server) -> None:
    server = confluence_server(seats=2)  # the admin takes one
    with Client(server, server.admin_auth) as admin:
        assert admin.post("/rest/api/admin/user", json=new_user("alice")).status_code == 201

        full = admin.post("/rest/api/admin/user", json=new_user("bob"))
        assert full.status_code == 402
        assert full.json() == rest_error(
            402, "No more licences available: the licence allows 2 users", "Payment Required"
        )
        # A duplicate is still a duplicate when the licence is full.
        assert admin.post("/rest/api/admin/user", json=new_user("alice")).status_code == 409

        assert admin.put("/rest/api/admin/user/alice/disable").status_code == 204
        assert admin.post("/rest/api/admin/user", json=new_user("bob")).status_code == 201


def test_update_user_changes_email_and_full_name(admin: Client, confluence: EmulatorServer) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))

    response = admin.put(
        "/rest/api/admin/user/alice", json={"email": "a@new.example", "fullName": "Alice New"}
    )

    assert response.status_code == 204
    assert response.content == b""
    user = admin.get("/rest/api/user", params={"username": "alice"}).json()
    assert (user["email"], user["displayName"]) == ("a@new.example", "Alice New")
    assert admin.put("/rest/api/admin/user/alice", json={"fullName": "Only Name"}).status_code == 204
    assert confluence.directory.user("alice").email == "a@new.example"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "nope"}, "The email should be a valid email address"),
        ({"fullName": " "}, "The fullName should not be null or blank"),
        ({}, "Give email, fullName or both"),
    ],
)
def test_update_user_validates(admin: Client, body: dict, message: str) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))

    response = admin.put("/rest/api/admin/user/alice", json=body)

    assert response.status_code == 400
    assert response.json() == rest_error(400, message, "Bad Request", [message])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/rest/api/admin/user/ghost"),
        ("PUT", "/rest/api/admin/user/ghost/disable"),
        ("PUT", "/rest/api/admin/user/ghost/enable"),
        ("DELETE", "/rest/api/admin/user/ghost"),
    ],
)
def test_unknown_user_is_404(admin: Client, method: str, path: str) -> None:
    response = admin.request(method, path, json={"fullName": "Ghost"})

    assert response.status_code == 404
    assert response.json() == rest_error(404, "No user found with username: ghost", "Not Found")


def test_disable_and_enable_are_idempotent(admin: Client) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))

    def status() -> str:
        return admin.get("/rest/api/user", params={"username": "alice", "expand": "status"}).json()["status"]

    for _ in range(2):
        response = admin.put("/rest/api/admin/user/alice/disable")
        assert (response.status_code, response.content) == (204, b"")
        assert status() == "deactivated"
    for _ in range(2):
        assert admin.put("/rest/api/admin/user/alice/enable").status_code == 204
        assert status() == "active"


def test_delete_user_is_a_long_task_that_finishes_soon(admin: Client, confluence: EmulatorServer) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))
    admin.put("/rest/api/user/alice/group/confluence-users")

    response = admin.delete("/rest/api/admin/user/alice")

    assert response.status_code == 202
    body = response.json()
    status_url = f"{confluence.base_url}/rest/api/longtask/{body['id']}"
    assert body == {"id": body["id"], "links": {"status": status_url, "result": status_url}}
    deadline = time.monotonic() + 5
    while (task := admin.get(status_url).json())["percentageComplete"] < 100:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert task == {
        "id": body["id"],
        "name": {"key": "com.atlassian.confluence.user.admin.delete.task", "args": ["alice"]},
        "elapsedTime": task["elapsedTime"],
        "percentageComplete": 100,
        "successful": True,
        "messages": [{"translation": "User alice deleted", "args": []}],
    }
    assert 50 <= task["elapsedTime"] <= 2000
    assert admin.get("/rest/api/user", params={"username": "alice"}).status_code == 404
    members = admin.get("/rest/api/group/confluence-users/member").json()["results"]
    assert [member["username"] for member in members] == ["admin"]


def test_a_running_delete_task_reports_progress(admin: Client) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))

    task_id = admin.delete("/rest/api/admin/user/alice").json()["id"]
    task = admin.get(f"/rest/api/longtask/{task_id}").json()

    assert (task["percentageComplete"], task["successful"], task["messages"]) == (0, False, [])
    assert admin.get("/rest/api/user", params={"username": "alice"}).status_code == 200


def test_unknown_long_task_is_404(admin: Client) -> None:
    response = admin.get("/rest/api/longtask/nope")

    assert response.status_code == 404
    assert response.json() == rest_error(404, "No long task found with id: nope", "Not Found")


def test_get_user_by_username_or_key(admin: Client, confluence: EmulatorServer) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))
    key = confluence.directory.user("alice").user_key
    base = confluence.base_url

    by_name = admin.get("/rest/api/user", params={"username": "alice"})
    by_key = admin.get("/rest/api/user", params={"key": key})

    expected = {
        "type": "known",
        "username": "alice",
        "userKey": key,
        "profilePicture": {
            "path": "/images/icons/profilepics/default.svg",
            "width": 48,
            "height": 48,
            "isDefault": True,
        },
        "displayName": "Alice",
        "email": "alice@example.com",
        "_links": {"self": f"{base}/rest/api/user?key={key}"},
        "_expandable": {"status": ""},
    }
    assert by_name.status_code == by_key.status_code == 200
    assert by_name.json() == by_key.json() == expected


def test_get_unknown_user_is_404(admin: Client) -> None:
    response = admin.get("/rest/api/user", params={"username": "ghost"})

    assert response.status_code == 404
    assert response.json() == rest_error(404, "No user found with username: ghost", "Not Found")


def test_user_lookups_ignore_case(admin: Client) -> None:
    admin.post("/rest/api/admin/user", json=new_user("alice"))

    assert admin.get("/rest/api/user", params={"username": "ALICE"}).json()["username"] == "alice"
    assert admin.put("/rest/api/admin/user/Alice/disable").status_code == 204


def test_hidden_emails_leave_email_out(confluence_server) -> None:
    server = confluence_server(show_emails=False)
    with Client(server, server.admin_auth) as admin:
        admin.post("/rest/api/admin/user", json=new_user("alice"))

        user = admin.get("/rest/api/user", params={"username": "alice"}).json()
        listed = admin.get("/rest/api/user/list").json()["results"]

    assert "email" not in user
    assert all("email" not in row for row in listed)


def test_email_visibility_can_change_at_run_time(admin: Client, confluence: EmulatorServer) -> None:
    requests.patch(f"{confluence.admin_url}/settings", json={"show_emails": False}, timeout=5)

    assert "email" not in admin.get("/rest/api/user", params={"username": "admin"}).json()


def test_seats_can_change_at_run_time(admin: Client, confluence: EmulatorServer) -> None:
    changed = requests.patch(f"{confluence.admin_url}/settings", json={"seats": 1}, timeout=5)

    assert changed.status_code == 204
    assert admin.post("/rest/api/admin/user", json=new_user("alice")).status_code == 402
    assert requests.get(f"{confluence.admin_url}/settings", timeout=5).json() == {
        "seats": 1,
        "active_users": 1,
        "show_emails": True,
        "caps": {"users": 1000, "groups": 1000, "members": 200},
        "buggy_paging": False,
        "delete_delay_ms": 100.0,
    }
