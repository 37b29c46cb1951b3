"""The DAG (``dag.test()``) into the Atlassian Cloud emulator, and the migration promise: the same
rules, with only ``target:`` changed, give the same users, groups and memberships on Data Center and
on Cloud."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from confluence_provisioning.audit import account_links
from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.dag.conftest import CLOUD_RULES, Site
from tests.dag.test_dag_runs import confluence_state
from tests.targets.atlassian_cloud.conftest import client_of

HELEN = "helen.marsh@example.com"  # uid=ceo in the example directory
VERIFIED = ("example.com", "contractor.example.org")  # the domains of the example directory


@pytest.fixture
def cloud_rules() -> str:
    return CLOUD_RULES


@pytest.fixture
def cloud(cloud_server) -> CloudEmulatorServer:
    """A directory whose organization verified the example directory's domains."""
    return cloud_server(verified_domains=VERIFIED)


@pytest.fixture
def cloud_site(
    site: Site, cloud: CloudEmulatorServer, cloud_rules: str, monkeypatch: pytest.MonkeyPatch
) -> Site:
    connection = {
        "conn_type": "http",
        "host": cloud.api_url,
        "password": cloud.config.token,
        "extra": {"directory_id": cloud.config.directory_id},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ATLASSIAN_SCIM_DEFAULT", json.dumps(connection))
    return site


def cloud_state(server: CloudEmulatorServer) -> dict[str, Any]:
    """Users (email -> display name, active), groups and memberships (group, email)."""
    state = server.state
    email_of = {user["id"]: user["userName"] for user in state["Users"]}
    return {
        "users": {u["userName"]: (u.get("displayName"), u["active"]) for u in state["Users"]},
        "groups": {group["displayName"] for group in state["Groups"]},
        "memberships": {
            (group["displayName"], email_of[member["value"]])
            for group in state["Groups"]
            for member in group.get("members", [])
        },
    }


def writes(server: CloudEmulatorServer) -> dict[str, int]:
    by_method = server.emulator.counters.as_json()["by_method"]
    return {method: count for method, count in by_method.items() if method != "GET"}


def test_the_example_directory_syncs_into_cloud_and_a_second_run_sends_nothing(
    cloud_site: Site, cloud: CloudEmulatorServer, cloud_rules: str
) -> None:
    with client_of(cloud) as client:  # an account made before the sync: no externalId
        _, helen = client.create_user(HELEN, HELEN, "Helen Marsh", external_id=None)
    first = cloud_site.run(rules_file=cloud_rules)
    assert first.state == "success"
    after = cloud_state(cloud)
    assert len(after["users"]) > 150 and all(active for _, active in after["users"].values())
    assert all("@" in name and name == name.lower() for name in after["users"])  # username = email
    assert "confluence-users" in after["groups"]
    members = {user for group, user in after["memberships"] if group == "confluence-users"}
    assert members == set(after["users"])
    carried = {user["id"]: user.get("externalId") for user in cloud.state["Users"]}
    assert carried.pop(helen) is None and all(carried.values())  # the IdP's entryUUID
    with cloud_site.audit() as store, store.engine.connect() as conn:  # helen was adopted and linked
        links = conn.execute(sa.select(account_links.c.account_id, account_links.c.idp_id)).all()
    assert [account_id for account_id, _ in links] == [helen] and len(links[0][1]) == 36
    counts = cloud.emulator.counters.as_json()["by_route"]
    patches = counts["PATCH /scim/directory/{directoryId}/Groups/{id}"]
    assert patches < len(after["memberships"]) / 5  # memberships went many to a request

    cloud.emulator.counters.clear()
    second = cloud_site.run(rules_file=cloud_rules)
    assert second.state == "success"
    assert writes(cloud) == {}
    assert cloud_state(cloud) == after


def test_a_dry_run_into_cloud_sends_no_write(
    cloud_site: Site, cloud: CloudEmulatorServer, cloud_rules: str
) -> None:
    run = cloud_site.run(rules_file=cloud_rules, dry_run=True)
    assert run.state == "success"
    assert writes(cloud) == {}
    assert cloud.state == {"Users": [], "Groups": []}


def test_the_same_rules_give_the_same_directory_on_data_center_and_on_cloud(
    cloud_site: Site, cloud: CloudEmulatorServer, cloud_rules: str
) -> None:
    on_dc = cloud_site.run()  # default.yaml: Data Center
    assert on_dc.state == "success"
    assert cloud_site.run(rules_file=cloud_rules).state == "success"
    dc = confluence_state(cloud_site.confluence)
    email_of = {name: email.lower() for name, (_, email, _) in dc["users"].items()}
    synced = {name for name in dc["users"] if name != "admin"}
    on_cloud = cloud_state(cloud)
    # every account Data Center got, Cloud got too, with the same name, state and groups
    assert {email_of[name]: (dc["users"][name][0], dc["users"][name][2]) for name in synced} == {
        email: profile for email, profile in on_cloud["users"].items() if email in set(email_of.values())
    }
    assert dc["groups"] - {"confluence-administrators"} == on_cloud["groups"]  # a Data Center site's own
    dc_memberships = {(group, email_of[user]) for group, user in dc["memberships"] if user in synced}
    assert dc_memberships == {(g, u) for g, u in on_cloud["memberships"] if u in set(email_of.values())}
    # Cloud has more only where Data Center's username rules refused an account (Cloud names by email)
    with cloud_site.audit() as store:
        dc_rejects = store.rejects(cloud_site.record(on_dc).id)
    reason_of = dict(zip(dc_rejects["id"], dc_rejects["reason"], strict=True))
    extra_ids = [u["externalId"] for u in cloud.state["Users"] if u["userName"] not in set(email_of.values())]
    assert extra_ids and all("username" in reason_of[external_id] for external_id in extra_ids)


def test_an_email_refused_for_its_domain_is_not_sent_again(
    cloud_site: Site, cloud_server, cloud_rules: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow: CloudEmulatorServer = cloud_server(verified_domains=("example.com",))
    connection = {
        "conn_type": "http",
        "host": narrow.api_url,
        "password": narrow.config.token,
        "extra": {"directory_id": narrow.config.directory_id},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ATLASSIAN_SCIM_DEFAULT", json.dumps(connection))
    first = cloud_site.run(rules_file=cloud_rules)
    assert first.state == "failed"  # Atlassian refused the contractors' domain
    refused = {row.target for row in operations_of(cloud_site, first).itertuples() if row.status == "failed"}
    assert refused and all(name.endswith("@contractor.example.org") for name in refused)
    narrow.emulator.counters.clear()
    second = cloud_site.run(rules_file=cloud_rules)
    assert second.state == "success"
    assert writes(narrow) == {}


def operations_of(site: Site, dag_run: Any) -> Any:
    with site.audit() as store:
        return store.operations(site.record(dag_run).id)
