"""Users, groups, members and transitive members: $select, $top, nextLink paging, object types."""

import pytest

from sandbox.directories import make_example
from sandbox.entra import EntraEmulatorServer
from tests.sandbox.entra.conftest import GROUPS, HTTP, PEOPLE, Graph

PEOPLE_COUNT = 199  # the ou=people subtree; the four ou=service accounts are service principals


@pytest.fixture(scope="module")
def built() -> make_example.Directory:
    return make_example.build()


def test_users_page_with_nextlinks_to_the_end(entra: EntraEmulatorServer, graph: Graph) -> None:
    entra.emulator.update_settings({"page_cap": 50})
    users, pages = graph.walk("users?$select=id,userPrincipalName,accountEnabled&$top=999")
    assert [len(p["value"]) for p in pages] == [50, 50, 50, 49]
    assert len({u["id"] for u in users}) == PEOPLE_COUNT
    for page in pages[:-1]:
        link = page["@odata.nextLink"]
        assert link.startswith(f"{entra.graph_url}/v1.0/users?")  # absolute
        assert "$select=id,userPrincipalName,accountEnabled" in link and "$skiptoken=" in link
    assert "@odata.nextLink" not in pages[-1]
    assert all(set(u) == {"id", "userPrincipalName", "accountEnabled"} for u in users)


def test_a_user_carries_the_mapped_properties_and_disabled_accounts(graph: Graph, built) -> None:
    users, _ = graph.walk(
        "users?$top=999&$select=id,userPrincipalName,onPremisesSamAccountName,mail,displayName,accountEnabled,userType"
    )
    by_login = {u["onPremisesSamAccountName"]: u for u in users}
    assert sorted(login for login, u in by_login.items() if not u["accountEnabled"]) == sorted(
        u.uid for u in built.users if u.locked
    )
    assert by_login["kwalker"]["mail"] is None
    assert by_login["tnguyen"]["displayName"] == "Thanh Nguyen"  # no displayName: the cn
    assert by_login["ceo"] == {
        "id": graph.id_of(f"uid=ceo,{PEOPLE}"),
        "userPrincipalName": "ceo@example.com",
        "onPremisesSamAccountName": "ceo",
        "mail": "helen.marsh@example.com",
        "displayName": "Helen Marsh",
        "accountEnabled": True,
        "userType": "Member",
    }
    assert not any(login.startswith("svc-") for login in by_login)


def test_without_select_a_user_has_the_default_properties_only(graph: Graph) -> None:
    user = graph.get("users?$top=1").json()["value"][0]
    assert set(user) == {
        "id", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        (
            "users?$top=1000",
            "Request_BadRequest",
            "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
        ),
        (
            "users?$top=0",
            "Request_BadRequest",
            "Invalid page size specified: '0'. Must be between 1 and 999 inclusive.",
        ),
        (
            "users?$select=id,shoeSize",
            "BadRequest",
            "Parsing OData Select and Expand failed: Could not find "
            "a property named 'shoeSize' on type 'microsoft.graph.user'.",
        ),
        (
            "users?$skiptoken=forged",
            "Request_BadRequest",
            "The specified page token value has expired or is invalid.",
        ),
        ("nothing-here", "BadRequest", "Resource not found for the segment 'nothing-here'."),
    ],
)
def test_bad_requests_get_graphs_error_body(graph: Graph, url: str, code: str, message: str) -> None:
    response = graph.get(url)
    assert response.status_code == 400
    assert {k: v for k, v in response.json()["error"].items() if k != "innerError"} == {
        "code": code,
        "message": message,
    }


def test_an_unknown_object_is_404(graph: Graph) -> None:
    for url in ("users/no-such-id", "groups/no-such-id/members", "groups/no-such-id/transitiveMembers"):
        response = graph.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "Request_ResourceNotFound"


def test_groups_are_security_or_microsoft_365_groups(graph: Graph, built) -> None:
    groups, _ = graph.walk("groups?$select=id,displayName,groupTypes,securityEnabled,mailEnabled")
    assert sorted(g["displayName"] for g in groups) == sorted(g.cn for g in built.groups)
    unified = sorted(g["displayName"] for g in groups if g["groupTypes"] == ["Unified"])
    assert unified == sorted(g.cn for g in built.groups if g.kind == "groupOfUniqueNames")
    assert all(g["securityEnabled"] != g["mailEnabled"] for g in groups)


def test_members_carry_their_odata_type(graph: Graph) -> None:
    it_ops = graph.id_of(f"cn=it-ops,{GROUPS}")
    members, _ = graph.walk(f"groups/{it_ops}/members?$select=id")
    types = sorted(m["@odata.type"] for m in members)
    assert types == ["#microsoft.graph.servicePrincipal"] + ["#microsoft.graph.user"] * 11
    engineering = graph.id_of(f"cn=engineering,{GROUPS}")
    members, _ = graph.walk(f"groups/{engineering}/members?$select=id,displayName")
    assert sorted((m["@odata.type"], m["displayName"]) for m in members) == [
        ("#microsoft.graph.group", "eng-data"),
        ("#microsoft.graph.group", "eng-platform"),
        ("#microsoft.graph.group", "eng-product"),
        ("#microsoft.graph.user", "Priya Raman"),
    ]


def test_transitive_members_follow_nesting_and_cycles(graph: Graph, built) -> None:
    leadership = graph.id_of(f"cn=leadership,{GROUPS}")
    members, _ = graph.walk(f"groups/{leadership}/transitiveMembers?$select=id,displayName")
    users = sorted(m["displayName"] for m in members if m["@odata.type"] == "#microsoft.graph.user")
    groups = [m["displayName"] for m in members if m["@odata.type"] == "#microsoft.graph.group"]
    assert len(users) == 6 and groups == ["exec-staff"]
    engineering = graph.id_of(f"cn=engineering,{GROUPS}")
    members, pages = graph.walk(f"groups/{engineering}/transitiveMembers?$select=id&$top=20")
    assert sum(m["@odata.type"] == "#microsoft.graph.user" for m in members) == len(
        make_example.flattened_people(built, built.group("engineering"))
    )
    assert len(pages) > 1 and len({m["id"] for m in members}) == len(members)


def test_a_stuck_server_repeats_its_nextlink(entra: EntraEmulatorServer, graph: Graph) -> None:
    HTTP.patch(f"{entra.admin_url}/settings", json={"repeat_next_link": True})
    first = graph.get("users?$top=10").json()
    second = graph.get(first["@odata.nextLink"]).json()
    assert second["@odata.nextLink"] == first["@odata.nextLink"]
