"""Full reads of the example directory: the same people and groups LDAP reads from the same LDIF."""

import logging

import pandas as pd
import pytest

from confluence_provisioning.settings import EntraSourceSettings, LdapSourceSettings, RetrySettings
from confluence_provisioning.sources import SourceContext
from confluence_provisioning.sources.entra.errors import EntraReadError
from confluence_provisioning.sources.entra.reading import read_source
from confluence_provisioning.sources.ldap.ldif import ldif_snapshot
from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.emulation.ratelimit import RateLimit
from sandbox.entra import EntraEmulatorServer
from tests.sources.entra.conftest import GROUPS, PEOPLE, SETTINGS, connection


def _by_name(snapshot) -> tuple[pd.DataFrame, set, set]:
    """Users by login, group names, and memberships as (group name, login, direct): ids aside."""
    users = snapshot.users.set_index("login")[["email", "display_name", "active"]].sort_index()
    login = dict(zip(snapshot.users["id"], snapshot.users["login"], strict=True))
    name = dict(zip(snapshot.groups["id"], snapshot.groups["name"], strict=True))
    memberships = {
        (name[g], login[u], d)
        for g, u, d in snapshot.memberships[["group_id", "user_id", "direct"]].itertuples(index=False)
    }
    return users, set(snapshot.groups["name"]), memberships


def test_the_example_directory_reads_as_ldap_reads_it(tenant: EntraEmulatorServer) -> None:
    entra = read_source(SETTINGS, SourceContext())
    ldap = ldif_snapshot(EXAMPLE_LDIF, LdapSourceSettings(user_base_dn=PEOPLE, group_base_dn=GROUPS))
    entra_users, entra_groups, entra_memberships = _by_name(entra)
    ldap_users, ldap_groups, ldap_memberships = _by_name(ldap)
    pd.testing.assert_frame_equal(entra_users, ldap_users)
    assert entra_groups == ldap_groups
    assert entra_memberships == ldap_memberships
    assert len(entra.users) == 199 and (~entra.users["active"]).sum() == 4
    assert entra.users.set_index("login").loc["kwalker", "email"] is pd.NA
    assert list(entra.rejects["reason"].str.extract(r"^(nested groups form a cycle)")[0]) == [
        "nested groups form a cycle"
    ]


def test_a_full_read_takes_one_request_per_page_and_batch(tenant: EntraEmulatorServer) -> None:
    tenant.emulator.update_settings({"page_cap": 50})
    read_source(SETTINGS, SourceContext())
    routes = tenant.emulator.counters.as_json()["by_route"]
    assert routes == {
        "POST /{tenant}/oauth2/v2.0/token": 1,
        "GET /v1.0/users": 4,  # 199 users, 50 a page
        "GET /v1.0/groups": 1,
        "POST /v1.0/$batch": 5,  # 30 groups, 20 a batch; all-staff's 3 later pages one after another
        "GET $batch /v1.0/groups/{id}/members": 30 + 3,
    }


def test_guests_are_read_only_when_the_rules_say_so(tenant: EntraEmulatorServer) -> None:
    tenant.directory.apply_ldif(
        f"dn: uid=gina,{PEOPLE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: gina\ncn: Gina Guest\n"
        "sn: Guest\nmail: gina@partner.example\nemployeeType: Guest\n"
    )
    assert "gina" not in set(read_source(SETTINGS, SourceContext()).users["login"])
    with_guests = SETTINGS.model_copy(update={"include_guests": True})
    assert "gina" in set(read_source(with_guests, SourceContext()).users["login"])


def test_extra_attributes_become_attr_columns(tenant: EntraEmulatorServer) -> None:
    settings = SETTINGS.model_copy(update={"extra_attributes": ["department", "userType"]})
    users = read_source(settings, SourceContext()).users.set_index("login")
    assert users.loc["ckim", ["attr.department", "attr.usertype"]].tolist() == ["team-sre", "Member"]


def test_transitive_memberships_give_the_same_people(tenant: EntraEmulatorServer) -> None:
    direct = _by_name(read_source(SETTINGS, SourceContext()))[2]
    transitive = read_source(SETTINGS.model_copy(update={"memberships": "transitive"}), SourceContext())
    assert {(g, u) for g, u, _ in _by_name(transitive)[2]} == {(g, u) for g, u, _ in direct}
    assert "GET $batch /v1.0/groups/{id}/transitiveMembers" in tenant.emulator.counters.as_json()["by_route"]


def test_throttling_is_waited_out(entra_server, monkeypatch: pytest.MonkeyPatch) -> None:
    server = entra_server(throttle=RateLimit(10, 1, 10), page_cap=100)
    monkeypatch.setenv("AIRFLOW_CONN_ENTRA_DEFAULT", connection(server))
    snapshot = read_source(SETTINGS, SourceContext())
    assert len(snapshot.users) == 199
    statuses = server.emulator.counters.as_json()["by_status"]
    assert statuses.get("429", 0) >= 1  # it was throttled, and still read everything


FAST = RetrySettings(max_attempts=8, base_delay_seconds=0.01, max_delay_seconds=0.05)


def test_transient_faults_are_retried_to_the_same_result(tenant: EntraEmulatorServer) -> None:
    clean = read_source(SETTINGS, SourceContext())
    tenant.emulator.update_settings({"page_cap": 40})
    faults = [{"path": "/v1.0/*", "error_rate": 0.25, "statuses": [500, 502, 503, 504], "drop_rate": 0.05}]
    tenant.emulator.set_faults(faults, seed=3)
    faulty = read_source(SETTINGS.model_copy(update={"retry": FAST}), SourceContext())
    for name in ("users", "groups", "memberships"):
        pd.testing.assert_frame_equal(getattr(faulty, name), getattr(clean, name), obj=name)
    statuses = tenant.emulator.counters.as_json()["by_status"]
    assert sum(statuses.get(code, 0) for code in ("0", "500", "502", "503", "504")) >= 1


QUICK = RetrySettings(max_attempts=3, base_delay_seconds=0.01, budget_seconds=5)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"faults": [{"path": "/v1.0/users", "error_rate": 1.0, "statuses": [503]}]},
         r"GET http://[^/]+/v1.0/users\?…: still failing after 3 attempts in \d+ s \(HTTP 503\); "
         "the read is incomplete"),
        ({"faults": [{"path": "/v1.0/users", "burst_429": {"rate": 1.0, "length": 50, "retry_after": 1}}]},
         r"GET http://[^/]+/v1.0/users\?…: still throttled after 3 attempts"),
        ({"settings": {"repeat_next_link": True, "page_cap": 20}}, r"Graph sent a nextLink already followed"),
        ({"faults": [{"path": "/v1.0/groups", "error_rate": 1.0, "statuses": [403]}]},
         r"HTTP 403 generalException: Injected fault; grant the app the application permissions "
         "User.Read.All"),
    ],
)  # fmt: skip
def test_a_read_that_cannot_complete_fails_closed(
    tenant: EntraEmulatorServer, setup: dict, message: str
) -> None:
    if "faults" in setup:
        tenant.emulator.set_faults(setup["faults"])
    if "settings" in setup:
        tenant.emulator.update_settings(setup["settings"])
    with pytest.raises(EntraReadError, match=message):
        read_source(SETTINGS.model_copy(update={"retry": QUICK}), SourceContext())


def test_fewer_users_than_min_users_fails_closed(tenant: EntraEmulatorServer) -> None:
    with pytest.raises(
        EntraReadError, match=r"the tenant gave 199 usable users, fewer than source.min_users \(500\)"
    ):
        read_source(SETTINGS.model_copy(update={"min_users": 500}), SourceContext())


def test_a_wrong_secret_fails_without_showing_it(
    entra: EntraEmulatorServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    conn = connection(entra).replace(entra.config.client_secret, "not-the-secret-42")
    monkeypatch.setenv("AIRFLOW_CONN_ENTRA_DEFAULT", conn)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(EntraReadError) as raised:
        read_source(SETTINGS, SourceContext())
    assert str(raised.value).startswith(
        f"could not get a token for app {entra.config.client_id} in tenant {entra.config.tenant} at "
        f"{entra.authority}: HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
    )
    assert "not-the-secret-42" not in str(raised.value) + caplog.text


def test_an_expired_token_is_renewed_once(tenant: EntraEmulatorServer) -> None:
    from confluence_provisioning.sources.entra.hook import EntraHook

    with EntraHook().get_conn() as client:
        client.get_json("users?$top=1")
        tenant.emulator.tokens.expire_all()
        assert len(client.get_json("users?$top=1")["value"]) == 1
    assert tenant.emulator.counters.as_json()["by_route"]["POST /{tenant}/oauth2/v2.0/token"] == 2
    assert tenant.emulator.counters.as_json()["by_status"]["401"] == 1


def test_settings_reject_a_page_larger_than_graph_allows() -> None:
    with pytest.raises(ValueError, match="less than or equal to 999"):
        EntraSourceSettings(page_size=1000)
