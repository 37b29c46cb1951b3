"""Pages: start/limit, server-side caps, `_links`, walks to the end, and the CONFSERVER-95396 switch."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox.confluence import EmulatorServer, ListCaps
from tests.emulator.conftest import Client
from tests.rest_error_body import rest_error


def populate(server: EmulatorServer, users: int, group_members: int = 0) -> list[str]:
    """`users` users (u0000, u0001, ...) besides the admin; the first `group_members` of them in `big`."""
    names = [f"u{i:04d}" for i in range(users)]
    server.directory.load(
        {
            "users": [
                {"username": name, "displayName": name.upper(), "email": f"{name}@example.com"}
                for name in names
            ],
            "groups": ["confluence-users", "big"],
            "memberships": {"big": names[:group_members]},
        }
    )
    return names


def walk(client: Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow `next` until it is gone or a page is empty; returns the items and the pages."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    response = client.get(path, params=params)
    while True:
        assert response.status_code == 200
        page = response.json()
        pages.append(page)
        items += page["results"]
        if not page["results"] or "next" not in page["_links"]:
            return items, pages
        assert len(pages) < 1000, "the walk does not end"
        response = client.get(page["_links"]["base"] + page["_links"]["next"])


def test_walking_the_user_list_returns_every_user_once(admin: Client, confluence: EmulatorServer) -> None:
    names = populate(confluence, 450)

    users, pages = walk(admin, "/rest/api/user/list", limit=100, expand="status")

    assert [user["username"] for user in users] == sorted(["admin", *names])
    assert [page["size"] for page in pages] == [100, 100, 100, 100, 51]
    assert [page["start"] for page in pages] == [0, 100, 200, 300, 400]
    assert all(user["status"] == "active" for user in users)
    base = confluence.base_url
    assert pages[0]["_links"] == {
        "base": base,
        "context": "",
        "self": f"{base}/rest/api/user/list?limit=100&expand=status",
        "next": "/rest/api/user/list?expand=status&start=100&limit=100",
    }
    assert "next" not in pages[-1]["_links"]


def test_the_server_caps_limit(admin: Client, confluence: EmulatorServer) -> None:
    populate(confluence, 1200, group_members=300)

    users = admin.get("/rest/api/user/list", params={"limit": 5000}).json()
    groups = admin.get("/rest/api/group", params={"limit": 5000}).json()
    members = admin.get("/rest/api/group/big/member", params={"limit": 1000}).json()

    assert (users["limit"], users["size"], users["_links"]["next"]) == (
        1000,
        1000,
        "/rest/api/user/list?start=1000&limit=1000",
    )
    assert (groups["limit"], groups["size"]) == (1000, 3)
    assert (members["limit"], members["size"], members["_links"]["next"]) == (
        200,
        200,
        "/rest/api/group/big/member?start=200&limit=200",
    )
    walked, _ = walk(admin, "/rest/api/group/big/member", limit=1000)
    assert len(walked) == 300


def test_limit_defaults_to_200(admin: Client, confluence: EmulatorServer) -> None:
    populate(confluence, 250)

    page = admin.get("/rest/api/user/list").json()

    assert (page["start"], page["limit"], page["size"]) == (0, 200, 200)
    assert page["_links"]["next"] == "/rest/api/user/list?start=200&limit=200"


def test_caps_are_configurable(confluence_server) -> None:
    server = confluence_server(caps=ListCaps(users=10, groups=2, members=3))
    populate(server, 20, group_members=5)
    with Client(server, server.admin_auth) as admin:
        assert admin.get("/rest/api/user/list", params={"limit": 100}).json()["limit"] == 10
        assert admin.get("/rest/api/group", params={"limit": 100}).json()["limit"] == 2
        assert admin.get("/rest/api/group/big/member", params={"limit": 100}).json()["limit"] == 3
        requests.patch(f"{server.admin_url}/settings", json={"caps": {"members": 4}}, timeout=5)
        assert admin.get("/rest/api/group/big/member", params={"limit": 100}).json()["limit"] == 4


def test_a_start_past_the_end_gives_an_empty_page(admin: Client) -> None:
    page = admin.get("/rest/api/group", params={"start": 50}).json()

    assert (page["results"], page["start"], page["size"]) == ([], 50, 0)
    assert "next" not in page["_links"]


@pytest.mark.parametrize(
    ("name", "value"), [("start", "-1"), ("limit", "-5"), ("start", "abc"), ("limit", "1.5")]
)
def test_bad_start_or_limit_is_400(admin: Client, name: str, value: str) -> None:
    response = admin.get("/rest/api/user/list", params={name: value})

    message = f"{name} must be a non-negative integer, got {value!r}"
    assert response.status_code == 400
    assert response.json() == rest_error(400, message, "Bad Request")


def test_buggy_paging_makes_clients_stop_on_an_empty_page(confluence_server) -> None:
    server = confluence_server(buggy_paging=True)
    populate(server, 450, group_members=450)
    with Client(server, server.admin_auth) as admin:
        members, pages = walk(admin, "/rest/api/group/big/member", limit=200)

    assert len(members) == 450
    assert [len(page["results"]) for page in pages] == [200, 200, 50, 0]
    assert [page["size"] for page in pages] == [200, 200, 200, 200]  # `size` cannot be trusted
    assert "next" in pages[-1]["_links"]  # nor can `next`


def test_buggy_paging_leaves_small_lists_alone(confluence_server) -> None:
    server = confluence_server(buggy_paging=True)
    populate(server, 10, group_members=10)
    with Client(server, server.admin_auth) as admin:
        page = admin.get("/rest/api/group/big/member", params={"limit": 200}).json()

    assert (page["size"], "next" in page["_links"]) == (10, False)


def test_a_context_path_is_part_of_base_but_not_of_next(confluence_server) -> None:
    server = confluence_server(context_path="/confluence")
    populate(server, 5)
    with Client(server, server.admin_auth) as admin:
        page = admin.get("/rest/api/user/list", params={"limit": 2}).json()
        outside = requests.get(server.base_url.removesuffix("/confluence") + "/rest/api/user/list", timeout=5)

    host = server.base_url.removesuffix("/confluence")
    assert server.base_url.endswith(f":{server.port}/confluence")
    assert page["_links"] == {
        "base": f"{host}/confluence",
        "context": "/confluence",
        "self": f"{host}/confluence/rest/api/user/list?limit=2",
        "next": "/rest/api/user/list?start=2&limit=2",
    }
    assert outside.status_code == 404
