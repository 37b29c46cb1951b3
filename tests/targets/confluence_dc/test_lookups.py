"""One-object reads over real HTTP: a user by name, whether a group exists; None/False only on 404."""

from __future__ import annotations

import json

import pytest

from confluence_provisioning.targets.confluence_dc import AuthError, ConfluenceError, TransientError
from tests.targets.confluence_dc.conftest import routes
from tests.targets.confluence_dc.stub import StubServer, client_of


def test_a_user_as_a_row_of_the_users_frame(confluence, client) -> None:
    directory = confluence.directory
    directory.create_user("alice", "Alice Smith", "Alice@Example.com", "pw")
    directory.create_user("bob", "Bob Jones", "bob@example.com", "pw")
    directory.set_active("bob", False)

    assert client.user("alice") == {
        "id": "alice",
        "dn": "",
        "login": "alice",
        "email": "Alice@Example.com",
        "display_name": "Alice Smith",
        "active": True,
    }
    assert client.user("bob")["active"] is False
    assert client.user("carol") is None
    assert routes(confluence) == {"GET /rest/api/user": 3}


def test_a_hidden_email_is_none(confluence_server, make_client) -> None:
    server = confluence_server(show_emails=False)
    server.directory.create_user("alice", "Alice Smith", "alice@example.com", "pw")
    assert make_client(server).user("alice")["email"] is None


def test_a_user_read_is_retried_and_fails_closed(confluence, client, sleeps) -> None:
    confluence.directory.create_user("alice", "Alice Smith", "alice@example.com", "pw")
    confluence.emulator.set_faults(
        [{"path": "/rest/api/user", "error_rate": 1, "statuses": [503], "limit": 2}]
    )
    assert client.user("alice")["login"] == "alice"
    assert len(sleeps) == 2

    confluence.emulator.set_faults([{"path": "/rest/api/user", "error_rate": 1, "statuses": [502]}])
    with pytest.raises(TransientError, match=r"^read user 'alice': HTTP 502: Injected fault$"):
        client.user("alice")


def test_only_a_404_means_no_such_user(confluence, make_client) -> None:
    # a refused caller must not read as "alice does not exist"
    with pytest.raises(AuthError):
        make_client(confluence, password="wrong").user("alice")


def test_group_exists(confluence, client) -> None:
    confluence.directory.create_group("eng/ops")
    assert client.group_exists("eng/ops") is True
    assert client.group_exists("sales") is False
    assert routes(confluence) == {"GET /rest/api/group/{groupName}/member": 2}


ONE_MEMBER = "GET /wiki/rest/api/group/confluence-users/member?start=0&limit=1"


def test_group_exists_reads_one_member_however_big_the_group() -> None:
    page = {"results": [{"type": "known", "username": "u0"}], "start": 0, "limit": 1, "size": 1}
    with StubServer({ONE_MEMBER: (200, json.dumps(page))}) as stub:
        assert client_of(stub).group_exists("confluence-users") is True
        assert stub.requests == [ONE_MEMBER]


def test_a_login_page_is_not_proof_that_a_group_exists() -> None:
    login_page = (200, "<html>Log in</html>")
    with (
        StubServer({"GET /wiki/rest/api/group/eng/member?start=0&limit=1": login_page}) as stub,
        pytest.raises(ConfluenceError, match=r"^read group 'eng': HTTP 200: unexpected answer"),
    ):
        client_of(stub).group_exists("eng")
