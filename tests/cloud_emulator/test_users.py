"""CONTRACT.md rows 1-6: the user routes, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.cloud_emulator.conftest import (
    arrange,
    assert_scim_error,
    create_group,
    create_user,
    member_ids,
    new_user,
    patch,
    scim_client,
)


def test_users_are_listed_from_startindex_1_at_most_100_a_page(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    ids, _ = arrange(cloud, users=130)
    first = api.get("/Users", params={"startIndex": 1, "count": 500}).json()
    assert (first["totalResults"], first["startIndex"], first["itemsPerPage"]) == (130, 1, 100)
    assert [user["id"] for user in first["Resources"]] == ids[:100]
    unasked = api.get("/Users").json()
    assert unasked["itemsPerPage"] == 100
    second = api.get("/Users", params={"startIndex": 101, "count": 100}).json()
    assert (second["startIndex"], second["itemsPerPage"]) == (101, 30)
    assert [user["id"] for user in second["Resources"]] == ids[100:]
    assert first["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]


def test_the_page_cap_is_a_start_up_option(cloud_server) -> None:
    server: CloudEmulatorServer = cloud_server(page_cap=7)
    arrange(server, users=10)
    with scim_client(server) as api:
        assert api.get("/Users", params={"count": 50}).json()["itemsPerPage"] == 7


@pytest.mark.parametrize("attribute", ["userName", "externalId", "username"])
def test_users_take_one_eq_filter_on_username_or_externalid(api: httpx.Client, attribute: str) -> None:
    user_id = create_user(api, "alice@example.com", externalId="uuid-1")
    create_user(api, "bob@example.com", externalId="uuid-2")
    value = "uuid-1" if attribute == "externalId" else "ALICE@example.com"  # userName ignores case
    found = api.get("/Users", params={"filter": f'{attribute} eq "{value}"'}).json()
    assert [user["id"] for user in found["Resources"]] == [user_id]
    assert found["totalResults"] == 1


@pytest.mark.parametrize(
    "expression",
    [
        'displayName eq "Alice"',
        'userName co "alice"',
        'userName eq "a@example.com" or userName eq "b@example.com"',
        'userName sw "a"',
        "active eq true",
    ],
)
def test_any_other_user_filter_is_invalid(api: httpx.Client, expression: str) -> None:
    body = assert_scim_error(api.get("/Users", params={"filter": expression}), 400, "invalidFilter")
    assert body["detail"] == "Only one 'eq' filter on userName or externalId is supported"


def test_users_cannot_be_sorted(api: httpx.Client) -> None:
    assert api.get("/Users", params={"sortBy": "userName"}).status_code == 501


def test_creating_a_user_answers_201_with_it(api: httpx.Client) -> None:
    response = api.post("/Users", json=new_user("alice@example.com", externalId="uuid-1"))
    assert response.status_code == 201
    user = response.json()
    assert user["userName"] == "alice@example.com"
    assert user["externalId"] == "uuid-1"
    assert user["emails"] == [{"value": "alice@example.com", "type": "work", "primary": True}]
    assert user["meta"]["location"].endswith(f"/scim/directory/dir-1/Users/{user['id']}")


def test_a_taken_username_is_409_uniqueness_ignoring_case(api: httpx.Client) -> None:
    create_user(api, "alice@example.com")
    assert_scim_error(api.post("/Users", json=new_user("Alice@Example.com")), 409, "uniqueness")


def test_an_email_outside_the_verified_domains_is_400_invalidvalue(api: httpx.Client) -> None:
    body = assert_scim_error(api.post("/Users", json=new_user("eve@elsewhere.net")), 400, "invalidValue")
    assert body["detail"] == "The email eve@elsewhere.net is not on a verified domain of the organization"
    assert api.get("/Users").json()["totalResults"] == 0


def test_without_verified_domains_every_domain_is_taken(cloud_server) -> None:
    server: CloudEmulatorServer = cloud_server()
    with scim_client(server) as api:
        create_user(api, "eve@elsewhere.net")


def test_an_unknown_user_is_404(api: httpx.Client) -> None:
    assert_scim_error(api.get("/Users/no-such-id"), 404)


def test_put_clears_what_it_does_not_name(api: httpx.Client) -> None:
    user_id = create_user(api, "alice@example.com", title="Engineer")
    response = api.put(f"/Users/{user_id}", json=new_user("alice@example.com"))
    assert response.status_code == 200
    assert "title" not in api.get(f"/Users/{user_id}").json()


def test_patch_active_false_deactivates_and_true_reactivates(api: httpx.Client) -> None:
    user_id = create_user(api, "alice@example.com")
    response = api.patch(f"/Users/{user_id}", json=patch({"op": "replace", "path": "active", "value": False}))
    assert response.status_code == 200
    assert response.json()["active"] is False
    api.patch(f"/Users/{user_id}", json=patch({"op": "replace", "path": "active", "value": True}))
    assert api.get(f"/Users/{user_id}").json()["active"] is True


def test_patch_changes_emails_and_username(api: httpx.Client) -> None:
    user_id = create_user(api, "alice@example.com")
    new_emails = [{"value": "alice.smith@example.com", "type": "work", "primary": True}]
    response = api.patch(
        f"/Users/{user_id}",
        json=patch(
            {"op": "replace", "path": "emails", "value": new_emails},
            {"op": "replace", "path": "userName", "value": "alice.smith@example.com"},
            {"op": "replace", "path": "displayName", "value": "Alice Smith"},
        ),
    )
    assert response.status_code == 200, response.text
    user = api.get(f"/Users/{user_id}").json()
    assert (user["userName"], user["emails"], user["displayName"]) == (
        "alice.smith@example.com",
        new_emails,
        "Alice Smith",
    )


def test_patch_to_an_unverified_email_is_refused(api: httpx.Client) -> None:
    user_id = create_user(api, "alice@example.com")
    emails = [{"value": "alice@elsewhere.net", "primary": True}]
    response = api.patch(
        f"/Users/{user_id}", json=patch({"op": "replace", "path": "emails", "value": emails})
    )
    assert_scim_error(response, 400, "invalidValue")
    assert api.get(f"/Users/{user_id}").json()["emails"][0]["value"] == "alice@example.com"


def test_patch_to_a_taken_username_is_409(api: httpx.Client) -> None:
    create_user(api, "bob@example.com")
    user_id = create_user(api, "alice@example.com")
    response = api.patch(
        f"/Users/{user_id}", json=patch({"op": "replace", "path": "userName", "value": "bob@example.com"})
    )
    assert_scim_error(response, 409, "uniqueness")


def test_externalid_is_taken_at_creation_only(api: httpx.Client) -> None:
    kept = create_user(api, "alice@example.com", externalId="uuid-1")
    bare = create_user(api, "bob@example.com")
    for user_id in (kept, bare):
        response = api.patch(
            f"/Users/{user_id}", json=patch({"op": "replace", "path": "externalId", "value": "x"})
        )
        body = assert_scim_error(response, 400, "mutability")
        assert body["detail"] == "externalId cannot be changed on an existing user"
    assert api.get(f"/Users/{kept}").json()["externalId"] == "uuid-1"


def test_delete_drops_the_record_and_its_memberships(api: httpx.Client) -> None:
    alice = create_user(api, "alice@example.com")
    bob = create_user(api, "bob@example.com")
    group = create_group(api, "confluence-users")
    members = [{"value": alice}, {"value": bob}]
    api.patch(f"/Groups/{group}", json=patch({"op": "add", "path": "members", "value": members}))
    assert api.delete(f"/Users/{alice}").status_code == 204
    assert_scim_error(api.get(f"/Users/{alice}"), 404)
    assert_scim_error(api.delete(f"/Users/{alice}"), 404)
    assert api.get("/Users", params={"filter": 'userName eq "alice@example.com"'}).json()["totalResults"] == 0
    assert member_ids(api, group) == [bob]
    again = create_user(api, "alice@example.com")
    assert again != alice
