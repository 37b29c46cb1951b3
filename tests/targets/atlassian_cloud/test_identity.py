"""An email change in the IdP is one update of the same Cloud account, whether the account carries the
IdP's id (``externalId``, set when the sync created it) or was made before the sync and is known by
the link the audit store kept. LDIF source, mapping, planner, audit store (SQLite) and the Cloud
emulator over HTTP, as one DAG run chains them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from confluence_provisioning.apply.applier import apply
from confluence_provisioning.audit import AuditStore
from confluence_provisioning.mapping.stage import map_rules
from confluence_provisioning.plan.planner import Plan, plan
from confluence_provisioning.settings import Settings
from confluence_provisioning.sources.ldap.ldif import ldif_snapshot
from confluence_provisioning.targets.atlassian_cloud.performer import CloudPerformer
from confluence_provisioning.targets.atlassian_cloud.snapshot import to_snapshot
from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.apply.site import FAST_RETRY, OPEN_LIMITS
from tests.targets.atlassian_cloud.conftest import client_of

SITE = "atlassian_cloud:test-directory"
USER_PATCH = "PATCH /scim/directory/{directoryId}/Users/{userId}"
RULES = Settings.model_validate(
    {
        "source": {
            "kind": "ldap",
            "user_base_dn": "ou=people,dc=example,dc=com",
            "group_base_dn": "ou=groups,dc=example,dc=com",
            "min_users": 1,
        },
        "groups": {"default_groups": {"all_users": ["confluence-users"]}, "on_the_fly": {"enabled": True}},
        "limits": OPEN_LIMITS,
        "target": {"kind": "atlassian_cloud"},
    }
)


def directory(mails: dict[str, str]) -> str:
    """An LDIF with one person per uid (the mail given) and group eng holding ann and cat."""
    people = "".join(
        f"dn: uid={uid},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: {uid}\n"
        f"cn: {uid.title()}\nsn: {uid.title()}\ndisplayName: {uid.title()}\nmail: {mail}\n\n"
        for uid, mail in mails.items()
    )
    return (
        "dn: dc=example,dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Ex\n\n"
        "dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n"
        "dn: ou=groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: groups\n\n"
        f"{people}"
        "dn: cn=eng,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: eng\n"
        "member: uid=ann,ou=people,dc=example,dc=com\nmember: uid=cat,ou=people,dc=example,dc=com\n"
    )


def sync(cloud: CloudEmulatorServer, store: AuditStore, ldif: Path) -> tuple[Plan, dict[str, int]]:
    """Read the LDIF, map, plan with the store's links, keep the new ones, apply; the writes by route."""
    wanted = map_rules(ldif_snapshot(ldif, RULES.source), RULES)
    with client_of(cloud) as client:
        current = to_snapshot(client.users(), client.groups())
        the_plan = plan(wanted, current, RULES, account_links=store.account_links(SITE))
        links = the_plan.links
        store.link_accounts(SITE, dict(zip(links["account_id"], links["idp_id"], strict=True)))
        cloud.emulator.counters.clear()
        result = apply(the_plan, CloudPerformer(client), RULES, retry=FAST_RETRY)
    assert result.ok, result.summary()
    by_route = cloud.emulator.counters.as_json()["by_route"]
    return the_plan, {route: n for route, n in by_route.items() if not route.startswith("GET")}


def accounts(cloud: CloudEmulatorServer) -> dict[str, tuple[str, str, Any, bool]]:
    """SCIM id -> (userName, primary email, externalId, active)."""
    return {
        user["id"]: (user["userName"], user["emails"][0]["value"], user.get("externalId"), user["active"])
        for user in cloud.state["Users"]
    }


def memberships(cloud: CloudEmulatorServer) -> set[tuple[str, str]]:
    """(group, SCIM id of the member)."""
    return {
        (group["displayName"], member["value"])
        for group in cloud.state["Groups"]
        for member in group.get("members", [])
    }


def test_an_email_change_is_one_patch_of_the_same_account_carried_or_adopted(
    cloud: CloudEmulatorServer, tmp_path: Path
) -> None:
    ldif = tmp_path / "directory.ldif"
    mails = {"ann": "ann@example.com", "bob": "bob@example.com", "cat": "cat@example.com"}
    ldif.write_text(directory(mails), encoding="utf-8")
    with client_of(cloud) as client:  # cat's account was made before the sync, without externalId
        _, cat_id = client.create_user("cat@example.com", "cat@example.com", "Cat", external_id=None)
    store = AuditStore(f"sqlite:///{tmp_path}/audit.db")

    first, _ = sync(cloud, store, ldif)
    assert first.summary()["create_user"] == 2  # ann and bob; cat's account is adopted by userName
    before = accounts(cloud)
    ann_id = next(scim_id for scim_id, (name, *_) in before.items() if name == "ann@example.com")
    assert before[cat_id] == ("cat@example.com", "cat@example.com", None, True)
    cat_uuid = first.links["idp_id"].tolist()
    assert first.links["account_id"].tolist() == [cat_id] and store.account_links(SITE) == {
        cat_id: cat_uuid[0]
    }
    groups_before = memberships(cloud)
    assert {(group, member) for group, member in groups_before if group == "eng"} == {
        ("eng", ann_id),
        ("eng", cat_id),
    }

    mails |= {"ann": "ann.new@example.com", "cat": "cat.new@example.com"}
    ldif.write_text(directory(mails), encoding="utf-8")
    second, writes = sync(cloud, store, ldif)
    assert [(op.kind.value, op.target, op.payload.get("user_name_now")) for op in second.operations] == [
        ("update_user", "ann.new@example.com", "ann@example.com"),
        ("update_user", "cat.new@example.com", "cat@example.com"),
    ]
    assert writes == {USER_PATCH: 2}  # no create, no disable, no membership change
    after = accounts(cloud)
    assert set(after) == set(before)  # the same three SCIM ids, no fourth account
    assert after[ann_id] == ("ann.new@example.com", "ann.new@example.com", before[ann_id][2], True)
    assert after[cat_id] == ("cat.new@example.com", "cat.new@example.com", None, True)
    assert memberships(cloud) == groups_before

    third, writes = sync(cloud, store, ldif)
    assert len(third) == 0 and writes == {} and third.links.empty
    store.close()
