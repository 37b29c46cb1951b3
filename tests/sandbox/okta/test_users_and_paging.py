"""Users as Okta lists them: Link paging with `after`, the 200 cap, DEPROVISIONED and filters."""

from __future__ import annotations

import time

from sandbox.okta import OktaServer
from tests.sandbox.okta.conftest import add_users, session, walk


def test_a_user_list_pages_with_link_headers_up_to_200_a_page(okta: OktaServer) -> None:
    ids = add_users(okta, 450)
    http = session(okta)

    first = http.get(f"{okta.base_url}/api/v1/users", params={"limit": 1000}, timeout=10)
    assert first.status_code == 200
    assert len(first.json()) == 200  # the cap, whatever `limit` asks
    assert first.links["self"]["url"] == f"{okta.base_url}/api/v1/users?limit=1000"
    assert first.links["next"]["url"] == f"{okta.base_url}/api/v1/users?after={ids[199]}&limit=1000"

    users, pages = walk(http, f"{okta.base_url}/api/v1/users", limit=1000)
    assert pages == 3
    assert [user["id"] for user in users] == ids
    last = http.get(first.links["next"]["url"].replace(ids[199], ids[399]), timeout=10)
    assert len(last.json()) == 50 and "next" not in last.links


def test_a_user_has_okta_s_shape(okta: OktaServer) -> None:
    user = okta.directory.create_user(
        {"login": "a@example.com", "email": "a@example.com", "firstName": "A", "lastName": "B"}
    )
    [body] = session(okta).get(f"{okta.base_url}/api/v1/users", timeout=10).json()
    assert body["id"] == user.id and body["id"].startswith("00u") and len(body["id"]) == 20
    assert body["status"] == "ACTIVE"
    assert body["profile"] == {
        "login": "a@example.com",
        "email": "a@example.com",
        "firstName": "A",
        "lastName": "B",
    }
    assert body["lastUpdated"].endswith("Z") and body["created"] == body["lastUpdated"]
    assert body["_links"]["self"]["href"] == f"{okta.base_url}/api/v1/users/{user.id}"
    by_login = session(okta).get(f"{okta.base_url}/api/v1/users/a@example.com", timeout=10)
    assert by_login.json()["id"] == user.id


def test_deprovisioned_users_are_left_out_of_a_plain_list_but_not_out_of_a_filtered_one(
    okta: OktaServer,
) -> None:
    add_users(okta, 3)
    okta.directory.set_status("user1@example.com", "DEPROVISIONED")
    okta.directory.set_status("user2@example.com", "SUSPENDED")
    http = session(okta)
    url = f"{okta.base_url}/api/v1/users"

    plain = {user["profile"]["login"]: user["status"] for user in http.get(url, timeout=10).json()}
    assert plain == {"user0@example.com": "ACTIVE", "user2@example.com": "SUSPENDED"}

    deprovisioned = http.get(url, params={"filter": 'status eq "DEPROVISIONED"'}, timeout=10).json()
    assert [user["profile"]["login"] for user in deprovisioned] == ["user1@example.com"]
    everyone = http.get(url, params={"search": 'status gt "A"'}, timeout=10).json()
    assert len(everyone) == 3


def test_last_updated_filters_return_only_what_changed_since(okta: OktaServer) -> None:
    add_users(okta, 5)
    http = session(okta)
    url = f"{okta.base_url}/api/v1/users"
    time.sleep(0.01)
    since = okta.directory.clock.now()
    time.sleep(0.01)
    okta.directory.update_profile("user3@example.com", {"lastName": "Changed"})
    okta.directory.set_status("user4@example.com", "DEPROVISIONED")

    changed = http.get(url, params={"filter": f'lastUpdated gt "{since}"'}, timeout=10).json()
    assert {(user["profile"]["login"], user["status"]) for user in changed} == {
        ("user3@example.com", "ACTIVE"),
        ("user4@example.com", "DEPROVISIONED"),
    }
    assert changed[0]["lastUpdated"] > since
    # the same instant written with an offset is the same instant
    with_offset = since[:-1] + "+00:00"
    assert len(http.get(url, params={"filter": f'lastUpdated gt "{with_offset}"'}, timeout=10).json()) == 2


def test_a_filter_okta_does_not_support_is_400_e0000031(okta: OktaServer) -> None:
    http = session(okta)
    url = f"{okta.base_url}/api/v1/users"
    for expression in ('profile.department eq "x"', 'status gt "A"', "status eq ACTIVE", 'status eq "A" and'):
        response = http.get(url, params={"filter": expression}, timeout=10)
        assert response.status_code == 400, expression
        body = response.json()
        assert body["errorCode"] == "E0000031" and body["errorSummary"] == "Invalid search criteria."
        assert set(body) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert http.get(url, params={"search": 'profile.department eq "x"'}, timeout=10).status_code == 200
    assert http.get(url, params={"limit": "many"}, timeout=10).json()["errorCode"] == "E0000001"


def test_an_unknown_user_is_404_e0000007(okta: OktaServer) -> None:
    response = session(okta).get(f"{okta.base_url}/api/v1/users/00unobody", timeout=10)
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"
