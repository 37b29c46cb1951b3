"""Groups and members: OKTA_GROUP, APP_GROUP, the built-in Everyone, member paging, lastMembershipUpdated."""

from __future__ import annotations

import time

from sandbox.okta import OktaServer
from tests.sandbox.okta.conftest import add_users, session, walk


def test_groups_carry_their_type_and_everyone_is_built_in(okta: OktaServer) -> None:
    okta.directory.create_group("eng", description="Engineers")
    okta.directory.create_group("AD Sales", "APP_GROUP")
    http = session(okta)
    url = f"{okta.base_url}/api/v1/groups"

    groups = http.get(url, timeout=10).json()
    assert [(group["profile"]["name"], group["type"]) for group in groups] == [
        ("Everyone", "BUILT_IN"),
        ("eng", "OKTA_GROUP"),
        ("AD Sales", "APP_GROUP"),
    ]
    eng = groups[1]
    assert eng["id"].startswith("00g") and eng["profile"]["description"] == "Engineers"
    assert eng["_links"]["users"]["href"] == f"{okta.base_url}/api/v1/groups/{eng['id']}/users"
    assert {"created", "lastUpdated", "lastMembershipUpdated", "objectClass"} <= set(eng)
    only_okta = http.get(url, params={"filter": 'type eq "OKTA_GROUP"'}, timeout=10).json()
    assert [group["profile"]["name"] for group in only_okta] == ["eng"]


def test_members_page_with_link_headers_and_everyone_holds_every_user(okta: OktaServer) -> None:
    ids = add_users(okta, 25)
    group = okta.directory.create_group("eng")
    for user_id in ids[:12]:
        okta.directory.add_member(group.id, user_id)
    http = session(okta)

    members, pages = walk(http, f"{okta.base_url}/api/v1/groups/{group.id}/users", limit=5)
    assert pages == 3 and [member["id"] for member in members] == ids[:12]
    everyone, _ = walk(http, f"{okta.base_url}/api/v1/groups/{okta.directory.everyone.id}/users")
    assert [member["id"] for member in everyone] == ids
    stats = http.get(f"{okta.base_url}/api/v1/groups", params={"expand": "stats"}, timeout=10).json()
    assert [group["_embedded"]["stats"]["usersCount"] for group in stats] == [25, 12]
    missing = http.get(f"{okta.base_url}/api/v1/groups/00gnothere/users", timeout=10)
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E0000007"


def test_membership_changes_move_last_membership_updated_and_deletions_move_everyone(
    okta: OktaServer,
) -> None:
    add_users(okta, 3)
    eng = okta.directory.create_group("eng")
    sales = okta.directory.create_group("sales")
    okta.directory.add_member("eng", "user0@example.com")
    time.sleep(0.01)
    since = okta.directory.clock.now()
    time.sleep(0.01)
    okta.directory.add_member("sales", "user1@example.com")
    okta.directory.delete_user("user0@example.com")  # leaves eng, and Everyone
    http = session(okta)

    changed = http.get(
        f"{okta.base_url}/api/v1/groups",
        params={"filter": f'lastMembershipUpdated gt "{since}" or lastUpdated gt "{since}"'},
        timeout=10,
    ).json()
    assert {group["profile"]["name"] for group in changed} == {"Everyone", "eng", "sales"}
    assert okta.directory.member_ids(eng.id) == [] and len(okta.directory.member_ids(sales.id)) == 1


def test_the_built_in_group_cannot_be_changed(okta: OktaServer) -> None:
    add_users(okta, 1)
    response = session(okta).put(f"{okta.admin_url}/groups/Everyone/users/user0@example.com", timeout=10)
    assert response.status_code == 403 and response.json()["errorCode"] == "E0000006"
