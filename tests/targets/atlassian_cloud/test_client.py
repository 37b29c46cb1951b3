"""The SCIM client against the Cloud emulator over HTTP: paged reads that fail closed, typed errors,
batched membership writes, dry run."""

from __future__ import annotations

import json

import pytest

from confluence_provisioning.targets.atlassian_cloud.client import ScimClient
from confluence_provisioning.targets.atlassian_cloud.errors import RefusedDomainError
from confluence_provisioning.targets.errors import AuthError, ConflictError, ConfluenceError, NotFoundError
from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.cloud_emulator.conftest import arrange
from tests.targets.atlassian_cloud.conftest import FAST_RETRY, clear_counters, client_of, counters
from tests.targets.confluence_dc.stub import StubServer


def test_users_and_groups_are_read_page_by_page(cloud_server) -> None:
    server: CloudEmulatorServer = cloud_server(page_cap=7)
    user_ids, group_ids = arrange(server, users=30, groups=9)
    with client_of(server) as scim:
        scim.change_members(group_ids[0], user_ids[:12], add=True, target="group-000")
        clear_counters(server)
        users = scim.users()
        groups = scim.groups()
    assert [user.id for user in users] == user_ids
    assert users[0].user_name == "user000@example.com" and users[0].email == "user000@example.com"
    assert [group.id for group in groups] == group_ids
    assert [member.value for member in groups[0].members] == user_ids[:12]
    # 30 users at 7 a page: 5 pages; 9 groups: 2 pages (the last one short, so no empty page is asked)
    assert counters(server)["by_route"] == {
        "GET /scim/directory/{directoryId}/Users": 5,
        "GET /scim/directory/{directoryId}/Groups": 2,
    }


def _page(total: int, ids: list[str]) -> str:
    resources = [{"id": i, "userName": f"{i}@example.com"} for i in ids]
    return json.dumps({"totalResults": total, "startIndex": 1, "Resources": resources})


def _stub_client(stub: StubServer) -> ScimClient:
    return ScimClient(stub.base_url, token="k", page_size=2, retry=FAST_RETRY)


def test_a_walk_that_sees_fewer_than_totalresults_fails_closed() -> None:
    answers = {
        "GET /wiki/Users?startIndex=1&count=2": (200, _page(5, ["a", "b"])),
        "GET /wiki/Users?startIndex=3&count=2": (200, _page(5, ["c"])),  # short: the walk stops
    }
    with StubServer(answers) as stub, _stub_client(stub) as scim, pytest.raises(ConfluenceError) as caught:
        scim.users()
    assert str(caught.value) == (
        "list users: the server said 5 resources but the pages held 3: refusing a partial read"
    )


def test_an_empty_page_before_totalresults_fails_closed_too() -> None:
    answers = {
        "GET /wiki/Users?startIndex=1&count=2": (200, _page(3, ["a", "b"])),
        "GET /wiki/Users?startIndex=3&count=2": (200, _page(3, [])),
    }
    with (
        StubServer(answers) as stub,
        _stub_client(stub) as scim,
        pytest.raises(ConfluenceError, match="said 3 resources but the pages held 2"),
    ):
        scim.users()


def test_a_failing_page_is_retried_then_fails_the_read(cloud: CloudEmulatorServer, scim: ScimClient) -> None:
    arrange(cloud, users=3)
    cloud.emulator.set_faults([{"method": "GET", "error_rate": 1.0, "statuses": [503], "limit": 2}])
    assert len(scim.users()) == 3
    cloud.emulator.set_faults([{"method": "GET", "error_rate": 1.0, "statuses": [503]}])
    with pytest.raises(ConfluenceError, match="list users: HTTP 503: Injected fault"):
        scim.users()


def test_scim_errors_become_the_typed_errors(cloud: CloudEmulatorServer, scim: ScimClient) -> None:
    status, user_id = scim.create_user("alice@example.com", "alice@example.com", "Alice", external_id="e-1")
    assert status == 201 and user_id
    with pytest.raises(ConflictError) as conflict:
        scim.create_user("alice@example.com", "alice@example.com", "Alice", external_id="e-1")
    assert str(conflict.value) == (
        "create user 'alice@example.com': HTTP 409: uniqueness: "
        "One or more of the attribute values are already in use or are reserved"
    )
    with pytest.raises(RefusedDomainError) as refused:
        scim.create_user("eve@elsewhere.net", "eve@elsewhere.net", "Eve", external_id=None)
    assert refused.value.server_message == (
        "invalidValue: The email eve@elsewhere.net is not on a verified domain of the organization"
    )
    with pytest.raises(NotFoundError):
        scim.set_active("no-such-id", False, target="nobody")
    with (
        ScimClient(cloud.base_url, token="wrong", retry=FAST_RETRY) as intruder,
        pytest.raises(AuthError) as auth,
    ):
        intruder.users()
    assert str(auth.value) == "list users: HTTP 401: Missing or invalid authorization header"


def test_members_change_many_a_patch(cloud: CloudEmulatorServer) -> None:
    user_ids, (group_id,) = arrange(cloud, users=250, groups=1)
    with client_of(cloud, member_batch=100) as scim:
        clear_counters(cloud)
        assert scim.change_members(group_id, user_ids, add=True, target="group-000") == [200, 200, 200]
        assert scim.change_members(group_id, user_ids[:150], add=False, target="group-000") == [200, 200]
        (group,) = scim.groups()
    assert counters(cloud)["by_route"]["PATCH /scim/directory/{directoryId}/Groups/{id}"] == 5
    assert [member.value for member in group.members] == user_ids[150:]


def test_filtered_lookups_find_one_or_none(cloud: CloudEmulatorServer, scim: ScimClient) -> None:
    _, user_id = scim.create_user("alice@example.com", "alice@example.com", "Alice", external_id="e-1")
    assert scim.find_user(user_name="ALICE@example.com").id == user_id
    assert scim.find_user(external_id="e-1").id == user_id
    assert scim.find_user(external_id="E-1") is None  # externalId is case-exact
    _, group_id = scim.create_group("Confluence-Users")
    assert scim.find_group("Confluence-Users").id == group_id
    assert scim.find_group("nope") is None


def test_dry_run_records_every_write_and_sends_none(cloud: CloudEmulatorServer) -> None:
    user_ids, (group_id,) = arrange(cloud, users=2, groups=1)
    with client_of(cloud, dry_run=True) as scim:
        clear_counters(cloud)
        assert scim.create_user("x@example.com", "x@example.com", "X", external_id="e") == (None, None)
        assert scim.set_active(user_ids[0], False, target="user000@example.com") is None
        assert scim.change_members(group_id, user_ids, add=True, target="group-000") == [None]
        assert len(scim.users()) == 2
    assert counters(cloud)["by_method"] == {"GET": 1}
    assert [(r.method, r.path) for r in scim.recorded_requests] == [
        ("POST", "/Users"),
        ("PATCH", f"/Users/{user_ids[0]}"),
        ("PATCH", f"/Groups/{group_id}"),
    ]
