"""Paging answers the emulator never gives, from a canned-answer server: each must fail the read."""

from __future__ import annotations

import json

import pytest

from confluence_provisioning.targets.confluence_dc import ConfluenceError, TransientError
from tests.targets.confluence_dc.conftest import FAST_RETRY
from tests.targets.confluence_dc.stub import StubServer, client_of

FIRST = "GET /wiki/rest/api/user/list?expand=status&start=0&limit=200"
SECOND = "GET /wiki/rest/api/user/list?expand=status&start=1&limit=1"


def page(results: list[dict], base: str, next_link: str | None = None) -> tuple[int, str]:
    links = {"base": base, "context": "/wiki", "self": "..."}
    if next_link is not None:
        links["next"] = next_link
    return 200, json.dumps(
        {"results": results, "start": 0, "limit": 1, "size": len(results), "_links": links}
    )


def alice(status: object = "active") -> dict:
    return {"type": "known", "username": "alice", "displayName": "Alice", "status": status}


def test_an_absolute_next_link_on_the_same_site_is_followed() -> None:
    with StubServer({}) as stub:
        base = stub.base_url
        stub.answers[FIRST] = page(
            [alice()], base, f"{base}/rest/api/user/list?expand=status&start=1&limit=1"
        )
        stub.answers[SECOND] = page([], base)
        assert client_of(stub).users()["id"].tolist() == ["alice"]
        assert stub.requests == [FIRST, SECOND]


def test_a_later_page_that_keeps_failing_fails_the_read() -> None:
    with StubServer({}) as stub:
        stub.answers[FIRST] = page(
            [alice()], stub.base_url, "/rest/api/user/list?expand=status&start=1&limit=1"
        )
        stub.answers[SECOND] = (503, '{"statusCode": 503, "message": "Confluence is starting"}')
        with pytest.raises(TransientError, match=r"^list users: HTTP 503: Confluence is starting$"):
            client_of(stub).users()
        assert stub.requests == [FIRST] + [SECOND] * FAST_RETRY.max_attempts


def test_a_next_link_to_another_host_is_refused_before_credentials_go_there() -> None:
    with StubServer({}) as stub:
        stub.answers[FIRST] = page([alice()], "https://evil.example.com/wiki", "/rest/api/user/list?start=1")
        with pytest.raises(ConfluenceError) as raised:
            client_of(stub).users()
        origin = stub.base_url.removesuffix("/wiki")
        assert str(raised.value) == (
            "list users: the next page link https://evil.example.com/wiki/rest/api/user/list?start=1 "
            f"leaves {origin}: set the connection's host to Confluence's base URL"
        )
        assert stub.requests == [FIRST]


def test_a_next_link_that_repeats_is_a_loop() -> None:
    with StubServer({}) as stub:
        link = "/rest/api/user/list?expand=status&start=1&limit=1"
        stub.answers[FIRST] = page([alice()], stub.base_url, link)
        stub.answers[SECOND] = page([alice()], stub.base_url, link)
        with pytest.raises(ConfluenceError) as raised:
            client_of(stub).users()
        assert str(raised.value) == f"list users: the server's next page link repeats: {stub.base_url}{link}"


def test_an_html_page_instead_of_json_fails_the_read() -> None:
    # e.g. an SSO proxy answering 200 with its login page
    login_page = r"^list users: HTTP 200: unexpected answer, not a Confluence "
    with (
        StubServer({FIRST: (200, "<html><body>Log in</body></html>")}) as stub,
        pytest.raises(ConfluenceError, match=login_page),
    ):
        client_of(stub).users()


def test_an_unknown_user_status_fails_the_read() -> None:
    with StubServer({}) as stub:
        stub.answers[FIRST] = page([alice("suspended")], stub.base_url)
        with pytest.raises(ConfluenceError) as raised:
            client_of(stub).users()
        assert str(raised.value) == (
            "list users 'alice': unknown user status 'suspended' "
            "(expected Active or Deactivated with expand=status)"
        )


@pytest.mark.parametrize(
    ("status", "active"), [("Active", True), ("Deactivated", False), ({"value": "active"}, True)]
)
def test_status_words_of_confluence_versions(status: object, active: bool) -> None:
    with StubServer({}) as stub:
        stub.answers[FIRST] = page([alice(status)], stub.base_url)
        assert client_of(stub).users()["active"].tolist() == [active]
