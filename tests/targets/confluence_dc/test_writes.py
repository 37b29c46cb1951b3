"""One-request writes against the emulator: what each sends and changes, and each typed error exactly."""

from __future__ import annotations

import json

import pytest

from confluence_provisioning.targets.confluence_dc import (
    AuthError,
    ConflictError,
    ConfluenceClient,
    ConfluenceError,
    NoLicenceSeatError,
    NotFoundError,
    RateLimitInfo,
    TransientError,
    ValidationError,
)
from sandbox.confluence import RateLimit
from tests.targets.confluence_dc.conftest import routes
from tests.targets.confluence_dc.stub import StubServer


def members_of(server, group: str) -> list[str]:
    return server.state["memberships"].get(group, [])


@pytest.fixture
def alice(confluence):
    confluence.directory.create_user("alice", "Alice Smith", "alice@example.com", "alice-pw")
    return "alice"


def test_create_user_with_a_password(confluence, client) -> None:
    status = client.create_user(
        "bob", "Bob Jones", "bob@example.com", password="initial-pw", notify_via_email=False
    )
    assert status == 201
    bob = confluence.directory.user("bob")
    assert (bob.display_name, bob.email, bob.active, bob.password) == (
        "Bob Jones",
        "bob@example.com",
        True,
        "initial-pw",
    )


def test_create_user_notified_by_email_sends_no_password(confluence, client) -> None:
    assert client.create_user("bob", "Bob", "bob@example.com", password=None, notify_via_email=True) == 201
    assert confluence.directory.user("bob").password is None


@pytest.mark.parametrize(("password", "notify"), [(None, False), ("pw", True)])
def test_create_user_refuses_a_password_that_contradicts_notify(client, password, notify) -> None:
    with pytest.raises(ValueError, match="needs a password exactly when notify_via_email is false"):
        client.create_user("bob", "Bob", "bob@example.com", password=password, notify_via_email=notify)


def test_update_user_changes_only_what_is_given(confluence, client, alice) -> None:
    assert client.update_user("alice", full_name="Alice Jones", email=None) == 204
    assert client.update_user("alice", full_name=None, email="alice.jones@example.com") == 204
    user = confluence.directory.user("alice")
    assert (user.display_name, user.email) == ("Alice Jones", "alice.jones@example.com")


def test_disable_and_enable(confluence, client, alice) -> None:
    assert client.disable_user("alice") == 204
    assert confluence.directory.user("alice").active is False
    assert client.disable_user("alice") == 204  # idempotent on the server
    assert client.enable_user("alice") == 204
    assert confluence.directory.user("alice").active is True


def test_delete_user_waits_for_the_long_task(confluence, client, alice) -> None:
    confluence.emulator.update_settings({"delete_delay_ms": 150})
    assert client.delete_user("alice") == 202
    assert "alice" not in {user["username"] for user in confluence.state["users"]}
    assert routes(confluence)["GET /rest/api/longtask/{id}"] >= 1


def test_delete_user_without_waiting_returns_at_once(confluence, client, alice) -> None:
    confluence.emulator.update_settings({"delete_delay_ms": 60_000})
    assert client.delete_user("alice", wait=False) == 202
    assert "GET /rest/api/longtask/{id}" not in routes(confluence)


def test_groups_and_memberships(confluence, client, alice) -> None:
    assert client.create_group("eng team") == 201
    assert client.add_member("alice", "eng team") == 204
    assert client.add_member("alice", "eng team") == 204
    assert members_of(confluence, "eng team") == ["alice"]
    assert client.remove_member("alice", "eng team") == 204
    assert members_of(confluence, "eng team") == []
    assert client.delete_group("eng team") == 204
    assert "eng team" not in confluence.state["groups"]


def test_names_are_escaped_as_one_path_segment(confluence, client, alice) -> None:
    confluence.directory.create_group("r&d/eu #1 + x?")
    assert client.add_member("alice", "r&d/eu #1 + x?") == 204
    assert members_of(confluence, "r&d/eu #1 + x?") == ["alice"]
    assert client.members("r&d/eu #1 + x?") == ["alice"]


# -- every error type, with the exact message ----------------------------------------------------


def test_400_is_a_validation_error_with_confluences_messages(client) -> None:
    with pytest.raises(ValidationError) as raised:
        client.create_user("Bob Jones", "Bob", "not-an-email", password="pw", notify_via_email=False)
    error = raised.value
    assert (error.operation, error.target, error.status) == ("create user", "Bob Jones", 400)
    assert str(error) == (
        "create user 'Bob Jones': HTTP 400: The userName should not contain any whitespace characters; "
        "The userName should not contain any upper case characters; The email should be a valid email address"
    )


def test_400_when_deleting_the_last_administrators_group(client) -> None:
    with pytest.raises(ValidationError) as raised:
        client.delete_group("confluence-administrators")
    assert str(raised.value) == (
        "delete group 'confluence-administrators': HTTP 400: "
        "Cannot delete the last administrators group: confluence-administrators"
    )


def test_401_wrong_password_is_an_auth_error(confluence, make_client) -> None:
    client = make_client(confluence, password="wrong")
    with pytest.raises(AuthError) as raised:
        client.create_group("eng")
    assert raised.value.status == 401
    assert (
        str(raised.value) == "create group 'eng': HTTP 401: Authentication failed: wrong username or password"
    )


def test_403_not_an_administrator_is_an_auth_error(confluence, make_client, alice) -> None:
    client = make_client(confluence, username="alice", password="alice-pw")
    with pytest.raises(AuthError) as raised:
        client.disable_user("admin")
    assert (
        str(raised.value)
        == "disable user 'admin': HTTP 403: User alice is not permitted to perform this operation"
    )


def test_402_no_licence_seat(confluence_server, make_client) -> None:
    client = make_client(confluence_server(seats=1))  # the admin holds the only seat
    with pytest.raises(NoLicenceSeatError) as raised:
        client.create_user("bob", "Bob", "bob@example.com", password="pw", notify_via_email=False)
    assert (
        str(raised.value)
        == "create user 'bob': HTTP 402: No more licences available: the licence allows 1 users"
    )


def test_404_unknown_user_and_unknown_group(client, alice) -> None:
    with pytest.raises(NotFoundError) as raised:
        client.disable_user("ghost")
    assert str(raised.value) == "disable user 'ghost': HTTP 404: No user found with username: ghost"
    with pytest.raises(NotFoundError) as raised:
        client.add_member("alice", "ghosts")
    assert raised.value.target == "user alice in group ghosts"
    assert str(raised.value) == "add member 'user alice in group ghosts': HTTP 404: Group not found: ghosts"
    with pytest.raises(
        NotFoundError, match=r"^delete user 'ghost': HTTP 404: No user found with username: ghost$"
    ):
        client.delete_user("ghost")


def test_409_conflict(client, alice) -> None:
    with pytest.raises(ConflictError) as raised:
        client.create_user("alice", "Alice", "alice@example.com", password="pw", notify_via_email=False)
    assert str(raised.value) == "create user 'alice': HTTP 409: A user with username alice already exists"
    client.create_group("eng")
    with pytest.raises(ConflictError, match=r"^create group 'ENG': HTTP 409: Group already exists: eng$"):
        client.create_group("ENG")


def test_429_html_body_is_transient_with_retry_after(confluence_server, make_client) -> None:
    server = confluence_server(rate_limit=RateLimit(fill_rate=1, interval_seconds=60, burst=1))
    client = make_client(server)
    assert client.create_group("eng") == 201
    with pytest.raises(TransientError) as raised:
        client.create_group("ops")  # writes are not retried by the client: the applier decides
    error = raised.value
    assert (error.status, error.retry_after, error.server_message) == (429, 60.0, "Rate limit exceeded.")
    assert error.rate_limit == RateLimitInfo(fill_rate=1, interval_seconds=60)
    assert str(error) == "create group 'ops': HTTP 429: Rate limit exceeded."
    assert routes(server) == {"POST /rest/api/admin/group": 2}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient_and_not_retried_inside_a_write(confluence, client, status) -> None:
    confluence.emulator.set_faults([{"method": "POST", "error_rate": 1, "statuses": [status]}])
    with pytest.raises(TransientError) as raised:
        client.create_group("eng")
    assert str(raised.value) == f"create group 'eng': HTTP {status}: Injected fault"
    assert raised.value.retry_after is None
    assert routes(confluence) == {"POST /rest/api/admin/group": 1}


def test_a_dropped_connection_is_transient_without_a_status(confluence, client) -> None:
    confluence.emulator.set_faults([{"method": "PUT", "drop_rate": 1}])
    with pytest.raises(TransientError) as raised:
        client.enable_user("admin")
    assert raised.value.status is None
    assert str(raised.value).startswith("enable user 'admin': connection failed: ")


def test_a_timeout_is_transient(confluence, make_client) -> None:
    confluence.emulator.set_faults([{"method": "POST", "latency_ms": 500}])
    client = make_client(confluence, timeout=(5, 0.1))
    with pytest.raises(TransientError) as raised:
        client.create_group("eng")
    assert raised.value.status is None
    assert str(raised.value).startswith("create group 'eng': timed out: ")


def test_a_long_task_that_fails_is_an_error() -> None:
    with StubServer(
        {
            "DELETE /wiki/rest/api/admin/user/alice": (202, '{"id": "7", "links": {}}'),
            "GET /wiki/rest/api/longtask/7": (
                200,
                json.dumps(
                    {
                        "id": "7",
                        "percentageComplete": 100,
                        "successful": False,
                        "messages": [{"translation": "User alice owns content", "args": []}],
                    }
                ),
            ),
        }
    ) as stub:
        client = ConfluenceClient(stub.base_url, username="admin", password="pw", sleep=lambda s: None)
        with pytest.raises(ConfluenceError) as raised:
            client.delete_user("alice")
        assert str(raised.value) == "delete user 'alice': long task 7 failed: User alice owns content"


def test_a_long_task_that_outlives_the_timeout_is_an_error() -> None:
    with StubServer(
        {
            "DELETE /wiki/rest/api/admin/user/alice": (202, '{"id": "7", "links": {}}'),
            "GET /wiki/rest/api/longtask/7": (
                200,
                '{"id": "7", "percentageComplete": 40, "successful": true}',
            ),
        }
    ) as stub:
        client = ConfluenceClient(
            stub.base_url, username="admin", password="pw", long_task_timeout=0.2, sleep=lambda s: None
        )
        with pytest.raises(ConfluenceError) as raised:
            client.delete_user("alice")
        assert str(raised.value) == (
            "delete user 'alice': long task 7 did not finish within 0.2 s (40% done); it may still complete"
        )
