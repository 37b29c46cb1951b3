"""An HTTP client for the Cloud emulator's contract tests, and SCIM bodies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.atlassian_cloud import CloudEmulatorServer

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def new_user(email: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "userName": email,
        "emails": [{"value": email, "type": "work", "primary": True}],
        "displayName": email.partition("@")[0].title(),
        "active": True,
    }
    body.update(overrides)
    return body


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(operations)}


def scim_client(server: CloudEmulatorServer, token: str | None = None) -> httpx.Client:
    headers = server.auth_headers if token is None else {"Authorization": f"Bearer {token}"}
    headers["Content-Type"] = "application/scim+json"
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10)


@pytest.fixture
def api(cloud: CloudEmulatorServer) -> Iterator[httpx.Client]:
    with scim_client(cloud) as client:
        yield client


def arrange(server: CloudEmulatorServer, users: int = 0, groups: int = 0) -> tuple[list[str], list[str]]:
    """Load `users` users (`user000@example.com`...) and empty `groups` groups (`group-000`...)
    straight into the directory, much faster than POSTing them; returns their ids."""
    meta = {"created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z", "version": 'W/"1"'}
    state = {
        "Users": [
            {
                **new_user(f"user{n:03}@example.com"),
                "id": f"u-{n:03}",
                "meta": {**meta, "resourceType": "User"},
            }
            for n in range(users)
        ],
        "Groups": [
            {
                "schemas": [GROUP_SCHEMA],
                "id": f"g-{n:03}",
                "displayName": f"group-{n:03}",
                "meta": {**meta, "resourceType": "Group"},
            }
            for n in range(groups)
        ],
    }
    server.directory.load(state)
    return [user["id"] for user in state["Users"]], [group["id"] for group in state["Groups"]]


def create_user(api: httpx.Client, email: str, **overrides: Any) -> str:
    response = api.post("/Users", json=new_user(email, **overrides))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def create_group(api: httpx.Client, name: str) -> str:
    response = api.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def member_ids(api: httpx.Client, group_id: str) -> list[str]:
    response = api.get(f"/Groups/{group_id}")
    assert response.status_code == 200, response.text
    return sorted(member["value"] for member in response.json().get("members", []))


def assert_scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)  # a string, as Atlassian sends it
    assert body.get("scimType") == scim_type
    return body
