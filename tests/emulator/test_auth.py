"""Authentication and permissions: Basic, issued Bearer tokens, wrong tokens as anonymous, 401/403."""

from __future__ import annotations

import pytest
import requests

from sandbox.confluence import EmulatorServer
from tests.emulator.conftest import Client, new_user
from tests.rest_error_body import rest_error

ADMIN_WRITES = [
    ("POST", "/rest/api/admin/user"),
    ("PUT", "/rest/api/admin/user/alice"),
    ("PUT", "/rest/api/admin/user/alice/disable"),
    ("PUT", "/rest/api/admin/user/alice/enable"),
    ("DELETE", "/rest/api/admin/user/alice"),
    ("POST", "/rest/api/admin/group"),
    ("DELETE", "/rest/api/admin/group/confluence-users"),
    ("PUT", "/rest/api/user/alice/group/confluence-users"),
    ("DELETE", "/rest/api/user/alice/group/confluence-users"),
]
READS = [
    "/rest/api/user/list",
    "/rest/api/group",
    "/rest/api/group/confluence-users",
    "/rest/api/group/confluence-users/member",
    "/rest/api/user?username=admin",
    "/rest/api/user/memberof?username=admin",
]
ANONYMOUS_401 = rest_error(401, "Client must be authenticated to access this resource.", "Unauthorized")
ANONYMOUS_403 = rest_error(403, "Anonymous users are not permitted to view users and groups", "Forbidden")


@pytest.fixture
def alice(admin: Client, confluence: EmulatorServer) -> Client:
    """A logged-in user who is not an administrator."""
    admin.post("/rest/api/admin/user", json=new_user("alice"))
    admin.put("/rest/api/user/alice/group/confluence-users")
    with Client(confluence, ("alice", "secret")) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), ADMIN_WRITES)
def test_anonymous_admin_writes_are_401(anonymous: Client, method: str, path: str) -> None:
    response = anonymous.request(method, path, json={"name": "x"})

    assert response.status_code == 401
    assert response.json() == ANONYMOUS_401


@pytest.mark.parametrize(("method", "path"), ADMIN_WRITES)
def test_admin_writes_by_a_non_admin_are_403(alice: Client, method: str, path: str) -> None:
    response = alice.request(method, path, json={"name": "x"})

    assert response.status_code == 403
    assert response.json() == rest_error(
        403, "User alice is not permitted to perform this operation", "Forbidden"
    )


@pytest.mark.parametrize("path", READS)
def test_anonymous_reads_are_403(anonymous: Client, path: str) -> None:
    response = anonymous.get(path)

    assert response.status_code == 403
    assert response.json() == ANONYMOUS_403


@pytest.mark.parametrize("path", READS)
def test_any_user_may_read(alice: Client, path: str) -> None:
    assert alice.get(path).status_code == 200


def test_wrong_basic_credentials_are_401(confluence: EmulatorServer) -> None:
    with Client(confluence, ("admin", "wrong")) as client:
        response = client.get("/rest/api/user/list")

    assert response.status_code == 401
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert response.json() == rest_error(
        401, "Authentication failed: wrong username or password", "Unauthorized"
    )


def test_a_disabled_user_cannot_log_in(admin: Client, alice: Client) -> None:
    admin.put("/rest/api/admin/user/alice/disable")

    assert alice.get("/rest/api/user/list").status_code == 401


def test_an_issued_token_authenticates_as_its_owner(confluence: EmulatorServer) -> None:
    issued = requests.post(f"{confluence.admin_url}/tokens", json={"username": "admin"}, timeout=5)
    assert issued.status_code == 201

    with Client(confluence, bearer=issued.json()["token"]) as client:
        created = client.post("/rest/api/admin/user", json=new_user("bob"))
        current = client.get("/rest/api/user/current").json()

    assert created.status_code == 201
    assert current["username"] == "admin"


def test_a_wrong_token_is_anonymous_not_refused(confluence: EmulatorServer) -> None:
    with Client(confluence, bearer="not-a-token") as client:
        write = client.post("/rest/api/admin/user", json=new_user("bob"))
        read = client.get("/rest/api/user/list")
        current = client.get("/rest/api/user/current")

    assert (write.status_code, write.json()) == (401, ANONYMOUS_401)
    assert (read.status_code, read.json()) == (403, ANONYMOUS_403)
    assert current.json() == {"type": "anonymous", "profilePicture": None, "displayName": "Anonymous"}


def test_a_token_given_at_start_up_belongs_to_the_admin(confluence_server) -> None:
    server = confluence_server(tokens=("start-token",), admin_user="root", admin_password="pw")
    with Client(server, bearer="start-token") as client:
        assert client.get("/rest/api/user/current").json()["username"] == "root"
    with Client(server, ("root", "pw")) as client:
        assert client.post("/rest/api/admin/group", json={"name": "eng"}).status_code == 201


def test_long_tasks_are_hidden_from_anonymous_callers(admin: Client, anonymous: Client) -> None:
    admin.post("/rest/api/admin/user", json=new_user("bob"))
    task_id = admin.delete("/rest/api/admin/user/bob").json()["id"]

    assert anonymous.get(f"/rest/api/longtask/{task_id}").status_code == 404
