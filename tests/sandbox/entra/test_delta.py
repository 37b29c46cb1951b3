"""Delta queries: rounds, deltaLinks, changed and removed objects, members@delta, sync resets."""

from typing import Any

import pytest

from sandbox.entra import EntraEmulatorServer
from tests.sandbox.entra.conftest import GROUPS, HTTP, PEOPLE, Graph

CHANGES = f"""
dn: uid=nhire,{PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: nhire
cn: New Hire
sn: Hire
mail: new.hire@example.com

dn: uid=epark,{PEOPLE}
changetype: delete

dn: uid=ckim,{PEOPLE}
changetype: modify
replace: displayName
displayName: Colin K. Kim
-

dn: uid=hsilva,{PEOPLE}
changetype: modify
add: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
-

dn: uid=mford,{PEOPLE}
changetype: modify
replace: telephoneNumber
telephoneNumber: +49 30 1234
-

dn: cn=team-sre,{GROUPS}
changetype: modify
add: member
member: uid=nhire,{PEOPLE}
-
delete: member
member: uid=mford,{PEOPLE}
-

dn: cn=eng-platform,{GROUPS}
changetype: modify
delete: member
member: cn=team-sre,{GROUPS}
-

dn: cn=legal,{GROUPS}
changetype: delete
"""


def _round(graph: Graph, url: str) -> tuple[list[dict[str, Any]], str, int]:
    """(objects, deltaLink, pages) of one delta round."""
    items, pages = graph.walk(url)
    assert "@odata.deltaLink" in pages[-1] and all("@odata.deltaLink" not in p for p in pages[:-1])
    return items, pages[-1]["@odata.deltaLink"], len(pages)


def test_a_first_round_returns_every_user_then_a_deltalink_returns_only_changes(
    entra: EntraEmulatorServer, graph: Graph
) -> None:
    entra.emulator.update_settings({"delta_page_size": 50})
    users, link, pages = _round(graph, "users/delta?$select=id,displayName,accountEnabled")
    assert (len(users), pages) == (199, 4)
    assert link.startswith(f"{entra.graph_url}/v1.0/users/delta?$deltatoken=")
    assert _round(graph, link)[0] == []  # nothing changed
    entra.directory.apply_ldif(CHANGES)
    changed, link, _ = _round(graph, link)
    expected = {
        graph.id_of(f"uid=nhire,{PEOPLE}"): {"displayName": "New Hire", "accountEnabled": True},
        graph.id_of(f"uid=ckim,{PEOPLE}"): {"displayName": "Colin K. Kim", "accountEnabled": True},
        graph.id_of(f"uid=hsilva,{PEOPLE}"): {"displayName": "Hugo Silva", "accountEnabled": False},
    }
    epark = next(u["id"] for u in changed if "@removed" in u)
    assert {u["id"]: {k: v for k, v in u.items() if k != "id"} for u in changed} == {
        **{i: p for i, p in expected.items()},
        epark: {"@removed": {"reason": "changed"}},
    }  # mford's phone is not a tracked property: mford is not there
    assert _round(graph, link)[0] == []


def test_sync_from_now_gives_a_deltalink_without_objects(entra: EntraEmulatorServer, graph: Graph) -> None:
    body = graph.get("users/delta?$select=id,displayName&$deltatoken=latest").json()
    assert body["value"] == [] and "@odata.deltaLink" in body and "@odata.nextLink" not in body
    entra.directory.apply_ldif(
        f"dn: uid=ckim,{PEOPLE}\nchangetype: modify\nreplace: displayName\ndisplayName: C\n"
    )
    changed, _, _ = _round(graph, body["@odata.deltaLink"])
    assert changed == [{"id": graph.id_of(f"uid=ckim,{PEOPLE}"), "displayName": "C"}]


def test_group_deltas_carry_member_changes_and_removed_groups(
    entra: EntraEmulatorServer, graph: Graph
) -> None:
    groups, link, _ = _round(graph, "groups/delta?$select=displayName,members")
    sre = graph.id_of(f"cn=team-sre,{GROUPS}")
    first = {g["id"]: g for g in groups}
    assert len(first) == 30
    assert len(first[sre]["members@delta"]) == 8
    assert "members@delta" not in first[graph.id_of(f"cn=printer-users,{GROUPS}")]  # no members
    legal, mford = graph.id_of(f"cn=legal,{GROUPS}"), graph.id_of(f"uid=mford,{PEOPLE}")
    epark = graph.id_of(f"uid=epark,{PEOPLE}")
    entra.directory.apply_ldif(CHANGES)
    changed, _, _ = _round(graph, link)
    by_id = {g["id"]: g for g in changed}
    nhire = graph.id_of(f"uid=nhire,{PEOPLE}")
    user = "#microsoft.graph.user"
    removed = {"reason": "deleted"}
    assert sorted(by_id[sre]["members@delta"], key=lambda m: m["id"]) == sorted(
        [
            {"@odata.type": user, "id": nhire},
            {"@odata.type": user, "id": mford, "@removed": removed},
            {"@odata.type": user, "id": epark, "@removed": removed},
        ],
        key=lambda m: m["id"],
    )
    assert by_id[graph.id_of(f"cn=eng-platform,{GROUPS}")]["members@delta"] == [
        {"@odata.type": "#microsoft.graph.group", "id": sre, "@removed": removed}
    ]
    assert by_id[legal] == {"id": legal, "@removed": {"reason": "deleted"}}  # a security group: gone for good
    # besides: all-staff and docker lost epark; nothing else changed
    names = ("team-sre", "eng-platform", "all-staff", "docker")
    assert set(by_id) == {legal, *(graph.id_of(f"cn={name},{GROUPS}") for name in names)}


def test_a_member_changed_again_is_in_the_deltas_of_both_steps_with_its_latest_word(
    entra: EntraEmulatorServer, graph: Graph
) -> None:
    _, before, _ = _round(graph, "groups/delta?$select=displayName,members")
    epark = graph.id_of(f"uid=epark,{PEOPLE}")
    entra.directory.apply_ldif(CHANGES)
    _, between, _ = _round(graph, before)
    entra.directory.apply_ldif(
        f"dn: cn=team-sre,{GROUPS}\nchangetype: modify\nadd: member\nmember: uid=mford,{PEOPLE}\n-\n"
    )
    sre, user = graph.id_of(f"cn=team-sre,{GROUPS}"), "#microsoft.graph.user"
    mford, nhire = graph.id_of(f"uid=mford,{PEOPLE}"), graph.id_of(f"uid=nhire,{PEOPLE}")
    removed = {"reason": "deleted"}
    since_between = {g["id"]: g for g in _round(graph, between)[0]}
    assert since_between[sre]["members@delta"] == [{"@odata.type": user, "id": mford}]
    since_before = {g["id"]: g for g in _round(graph, before)[0]}
    assert sorted(since_before[sre]["members@delta"], key=lambda m: m["id"]) == sorted(
        [
            {"@odata.type": user, "id": nhire},
            {"@odata.type": user, "id": mford},  # removed, then back: a member now
            {"@odata.type": user, "id": epark, "@removed": removed},
        ],
        key=lambda m: m["id"],
    )


def test_a_large_groups_members_span_pages_and_merge(entra: EntraEmulatorServer, graph: Graph) -> None:
    entra.emulator.update_settings({"delta_member_page": 40})
    groups, _, pages = _round(graph, "groups/delta?$select=displayName,members")
    staff = graph.id_of(f"cn=all-staff,{GROUPS}")
    parts = [g for g in groups if g["id"] == staff]
    assert len(parts) >= 5 and all(len(p["members@delta"]) <= 40 for p in parts)
    merged = {m["id"] for p in parts for m in p["members@delta"]}
    assert len(merged) == 189
    assert pages > len(parts)


def test_a_select_change_on_a_deltalink_is_followed(entra: EntraEmulatorServer, graph: Graph) -> None:
    _, link, _ = _round(graph, "users/delta?$select=id,displayName")
    entra.directory.apply_ldif(
        f"dn: uid=mford,{PEOPLE}\nchangetype: modify\nreplace: mail\nmail: m@example.com\n"
    )
    changed, _, _ = _round(graph, link + "&$select=id,mail")
    assert changed == [{"id": graph.id_of(f"uid=mford,{PEOPLE}"), "mail": "m@example.com"}]


def test_a_sync_reset_is_410_with_a_location(entra: EntraEmulatorServer, graph: Graph) -> None:
    _, link, _ = _round(graph, "users/delta?$select=id")
    HTTP.post(f"{entra.admin_url}/delta/reset")
    response = graph.get(link)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "resyncRequired"
    assert response.headers["location"] == f"{entra.graph_url}/v1.0/users/delta?$deltatoken="


@pytest.mark.parametrize("option", ["$top=10", "$expand=members", "$orderby=displayName"])
def test_delta_refuses_top_expand_and_orderby(graph: Graph, option: str) -> None:
    assert graph.get(f"users/delta?{option}").status_code == 400


def test_a_forged_delta_token_is_400(graph: Graph) -> None:
    assert graph.get("users/delta?$deltatoken=abc").status_code == 400
