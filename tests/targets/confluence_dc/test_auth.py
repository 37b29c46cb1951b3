"""check_auth: Basic and token callers are named; a wrong token (treated as anonymous) is caught."""

from __future__ import annotations

import pytest

from confluence_provisioning.targets.confluence_dc import AuthError, ConfluenceClient


def test_basic_auth_names_the_user(client) -> None:
    assert client.check_auth() == "admin"


def test_a_personal_access_token_names_its_user(confluence, make_client) -> None:
    confluence.directory.issue_token("admin", "good-token")
    client = make_client(confluence, username=None, password=None, token="good-token")
    assert client.check_auth() == "admin"
    assert client.users()["id"].tolist() == ["admin"]


def test_a_wrong_token_is_caught_although_confluence_answers_200(confluence, make_client) -> None:
    client = make_client(confluence, username=None, password=None, token="wrong-token")
    with pytest.raises(AuthError) as raised:
        client.check_auth()
    assert raised.value.status == 200
    assert str(raised.value) == (
        f"check authentication '{confluence.base_url}': HTTP 200: Confluence sees an anonymous caller: "
        "the personal access token was not accepted (Confluence treats a wrong or expired token as "
        "anonymous, CONFSERVER-98199): put a valid token in the connection's extra 'token'"
    )
    assert "wrong-token" not in str(raised.value)


def test_no_credentials_at_all(confluence, sleeps) -> None:
    client = ConfluenceClient(confluence.base_url, sleep=sleeps)
    with pytest.raises(
        AuthError, match="no credentials were given: set a login and password, or extra 'token'"
    ):
        client.check_auth()


def test_a_wrong_password_is_refused_with_401(confluence, make_client) -> None:
    client = make_client(confluence, password="not-the-password")
    with pytest.raises(AuthError) as raised:
        client.check_auth()
    assert str(raised.value) == (
        f"check authentication '{confluence.base_url}': HTTP 401: "
        "Authentication failed: wrong username or password"
    )
    assert "not-the-password" not in str(raised.value)


def test_auth_errors_on_reads_are_not_retried(confluence, make_client, sleeps) -> None:
    client = make_client(confluence, username=None, password=None, token="wrong-token")
    with pytest.raises(AuthError, match=r"^list users: HTTP 403: Anonymous users are not permitted"):
        client.users()
    assert sleeps == []


def test_credentials_in_the_base_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValueError) as raised:
        ConfluenceClient("https://bot:hunter2@wiki.example.com", username="bot", password="hunter2")
    assert str(raised.value) == (
        "Confluence base URL must not carry credentials: give them as username/password"
    )
