"""CONTRACT.md rows 7-10: the group routes, over real HTTP."""

from __future__ import annotations

import json

import httpx
from scim2_models import Context

from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.cloud_emulator.conftest import (
    GROUP_SCHEMA,
    arrange,
    assert_scim_error,
    create_group,
    create_user,
    member_ids,
    patch,
)


def test_groups_are_listed_with_their_members_100_a_page(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    _, ids = arrange(cloud, groups=105)
    alice = create_user(api, "alice@example.com")
    api.patch(f"/Groups/{ids[0]}", json=patch({"op": "add", "path": "members", "value": [{"value": alice}]}))
    page = api.get("/Groups", params={"startIndex": 1, "count": 200}).json()
    assert (page["totalResults"], page["itemsPerPage"]) == (105, 100)
    assert [group["id"] for group in page["Resources"]] == ids[:100]
    assert [member["value"] for member in page["Resources"][0]["members"]] == [alice]
    rest = api.get("/Groups", params={"startIndex": 101}).json()
    assert [group["id"] for group in rest["Resources"]] == ids[100:]


def test_groups_take_one_eq_filter_on_displayname(api: httpx.Client) -> None:
    group = create_group(api, "Confluence-Users")
    alice = create_user(api, "alice@example.com")
    api.patch(f"/Groups/{group}", json=patch({"op": "add", "path": "members", "value": [{"value": alice}]}))
    found = api.get("/Groups", params={"filter": 'displayName eq "confluence-USERS"'}).json()
    assert found["totalResults"] == 1
    assert found["Resources"] == [api.get(f"/Groups/{group}").json()]  # ignoring case, with its members
    body = assert_scim_error(api.get("/Groups", params={"filter": 'externalId eq "x"'}), 400, "invalidFilter")
    assert body["detail"] == "Only one 'eq' filter on displayName is supported"


def test_a_taken_group_name_is_409_ignoring_case(api: httpx.Client) -> None:
    create_group(api, "Confluence-Users")
    response = api.post("/Groups", json={"schemas": [GROUP_SCHEMA], "displayName": "confluence-users"})
    assert_scim_error(response, 409, "uniqueness")


def test_many_members_are_added_and_removed_in_one_patch(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    users, (group,) = arrange(cloud, users=150, groups=1)
    add = patch({"op": "add", "path": "members", "value": [{"value": user} for user in users]})
    response = api.patch(f"/Groups/{group}", json=add)
    assert response.status_code == 200
    assert len(response.json()["members"]) == 150
    remove = patch({"op": "remove", "path": "members", "value": [{"value": user} for user in users[:120]]})
    assert api.patch(f"/Groups/{group}", json=remove).status_code == 200
    assert member_ids(api, group) == users[120:]


def test_the_rfc_path_form_of_remove_is_taken_too(api: httpx.Client) -> None:
    alice, bob = create_user(api, "alice@example.com"), create_user(api, "bob@example.com")
    group = create_group(api, "g")
    api.patch(
        f"/Groups/{group}",
        json=patch({"op": "add", "path": "members", "value": [{"value": alice}, {"value": bob}]}),
    )
    response = api.patch(
        f"/Groups/{group}", json=patch({"op": "remove", "path": f'members[value eq "{alice}"]'})
    )
    assert response.status_code == 200
    assert member_ids(api, group) == [bob]


def test_adding_a_member_twice_and_removing_a_non_member_change_nothing(api: httpx.Client) -> None:
    alice, bob = create_user(api, "alice@example.com"), create_user(api, "bob@example.com")
    group = create_group(api, "g")
    add = patch({"op": "add", "path": "members", "value": [{"value": alice}]})
    api.patch(f"/Groups/{group}", json=add)
    assert api.patch(f"/Groups/{group}", json=add).status_code == 200
    remove = patch({"op": "remove", "path": "members", "value": [{"value": bob}]})
    assert api.patch(f"/Groups/{group}", json=remove).status_code == 200
    assert member_ids(api, group) == [alice]


def test_a_membership_patch_answers_the_group_as_get_and_scim2_server_render_it(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    users, (group,) = arrange(cloud, users=3, groups=1)
    members = [{"value": users[0]}, {"value": users[1], "display": "User 1", "$ref": f"Users/{users[1]}"}]
    response = api.patch(f"/Groups/{group}", json=patch({"op": "add", "path": "members", "value": members}))
    assert response.status_code == 200
    body = response.json()
    assert body == api.get(f"/Groups/{group}").json()
    assert (
        response.headers["Content-Location"] == body["meta"]["location"] == f"{cloud.base_url}/Groups/{group}"
    )
    assert body["members"] == [members[0], {**members[1], "$ref": f"{cloud.base_url}/Users/{users[1]}"}]
    service = cloud.emulator.service  # type: ignore[union-attr]
    published = service.publish(cloud.base_url, cloud.directory.stored_group(group))
    scim2_server = service.resource_response(published, Context.RESOURCE_REPLACEMENT_RESPONSE).body
    assert json.loads(json.dumps(scim2_server)) == body


def test_a_member_is_one_id_whatever_else_an_add_says_and_operations_apply_in_order(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    users, (group,) = arrange(cloud, users=3, groups=1)
    added = api.patch(
        f"/Groups/{group}", json=patch({"op": "add", "path": "members", "value": [{"value": users[0]}]})
    )
    again = patch({"op": "add", "path": "members", "value": [{"value": users[0], "display": "Someone"}] * 2})
    response = api.patch(f"/Groups/{group}", json=again)
    assert response.status_code == 200
    assert response.json()["members"] == [{"value": users[0]}]
    assert response.json()["meta"]["lastModified"] == added.json()["meta"]["lastModified"]  # nothing changed
    add_then_remove = patch(
        {"op": "add", "path": "members", "value": [{"value": users[1]}, {"value": users[2]}]},
        {"op": "remove", "path": "members", "value": [{"value": users[1]}]},
    )
    assert api.patch(f"/Groups/{group}", json=add_then_remove).json()["members"] == [
        {"value": users[0]},
        {"value": users[2]},
    ]


def test_a_member_id_that_is_no_user_is_kept_as_given_and_a_bad_one_is_400(api: httpx.Client) -> None:
    group = create_group(api, "g")
    unknown = patch({"op": "add", "path": "members", "value": [{"value": "no-such-user"}]})
    assert api.patch(f"/Groups/{group}", json=unknown).json()["members"] == [{"value": "no-such-user"}]
    not_a_string = patch({"op": "add", "path": "members", "value": [{"value": "u-1"}, {"value": 5}]})
    assert_scim_error(api.patch(f"/Groups/{group}", json=not_a_string), 400, "invalidValue")
    by_display = patch({"op": "remove", "path": 'members[value eq "no-such-user" and display pr]'})
    assert api.patch(f"/Groups/{group}", json=by_display).status_code == 200  # scim2-models' own path
    assert member_ids(api, group) == ["no-such-user"]


def test_a_group_cannot_be_renamed(api: httpx.Client) -> None:
    group = create_group(api, "old-name")
    response = api.patch(
        f"/Groups/{group}", json=patch({"op": "replace", "path": "displayName", "value": "new"})
    )
    body = assert_scim_error(response, 400, "mutability")
    assert body["detail"] == "Renaming a group is not supported"
    put = api.put(f"/Groups/{group}", json={"schemas": [GROUP_SCHEMA], "displayName": "new"})
    assert_scim_error(put, 400, "mutability")
    assert api.get(f"/Groups/{group}").json()["displayName"] == "old-name"


def test_deleting_a_group_is_204_then_404(api: httpx.Client) -> None:
    group = create_group(api, "g")
    assert api.delete(f"/Groups/{group}").status_code == 204
    assert_scim_error(api.get(f"/Groups/{group}"), 404)
    assert_scim_error(api.delete(f"/Groups/{group}"), 404)
