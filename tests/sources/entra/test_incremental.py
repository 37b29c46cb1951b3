"""Incremental reads: after changes, the delta read gives the frames a full read gives, in 3 requests."""

import pandas as pd
import pytest

from confluence_provisioning.sources import SourceContext
from confluence_provisioning.sources.entra.reading import read_source
from confluence_provisioning.sources.incremental import SourceStates
from sandbox.entra import EntraEmulatorServer
from tests.sources.entra.conftest import GROUPS, PEOPLE, SETTINGS

# a hire (into team-sre), a leaver, a rename (login and name), a group move (mford: team-sre ->
# eng-data) and a removed nested group (team-sre out of eng-platform)
CHANGES = f"""
dn: uid=nhire,{PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: nhire
cn: Nora Hire
sn: Hire
mail: nora.hire@example.com

dn: cn=team-sre,{GROUPS}
changetype: modify
add: member
member: uid=nhire,{PEOPLE}
-
delete: member
member: uid=mford,{PEOPLE}
-

dn: uid=kbaker,{PEOPLE}
changetype: delete

dn: uid=ckim,{PEOPLE}
changetype: modrdn
newrdn: uid=colin.kim
deleteoldrdn: 1

dn: uid=colin.kim,{PEOPLE}
changetype: modify
replace: displayName
displayName: Colin K. Kim
-

dn: cn=eng-data,{GROUPS}
changetype: modify
add: member
member: uid=mford,{PEOPLE}
-

dn: cn=eng-platform,{GROUPS}
changetype: modify
delete: member
member: cn=team-sre,{GROUPS}
-
"""


def _assert_same(left, right) -> None:
    for name in ("users", "groups", "memberships", "rejects"):
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name), obj=name)


def test_an_incremental_read_equals_a_full_read_and_asks_only_for_changes(
    tenant: EntraEmulatorServer, states: SourceStates
) -> None:
    context = SourceContext(states=states)
    before = read_source(SETTINGS, context)  # the first read is full and keeps the delta links
    tenant.directory.apply_ldif(CHANGES)
    tenant.emulator.counters.clear()
    after = read_source(SETTINGS, context)
    assert tenant.emulator.counters.as_json()["by_route"] == {
        "POST /{tenant}/oauth2/v2.0/token": 1,
        "GET /v1.0/users/delta": 1,
        "GET /v1.0/groups/delta": 1,
    }
    _assert_same(after, read_source(SETTINGS, SourceContext()))
    logins = set(after.users["login"])
    assert {"nhire", "colin.kim"} <= logins and not {"kbaker", "ckim"} & logins
    assert set(before.users["login"]) - logins == {"kbaker", "ckim"}
    assert len(after.memberships) != len(before.memberships)


def test_nothing_changed_reads_two_empty_delta_pages(
    tenant: EntraEmulatorServer, states: SourceStates
) -> None:
    context = SourceContext(states=states)
    first = read_source(SETTINGS, context)
    tenant.emulator.counters.clear()
    _assert_same(read_source(SETTINGS, context), first)
    assert tenant.emulator.counters.as_json()["total"] == 3


def test_a_resync_answer_falls_back_to_a_full_read(
    tenant: EntraEmulatorServer, states: SourceStates, caplog: pytest.LogCaptureFixture
) -> None:
    context = SourceContext(states=states)
    read_source(SETTINGS, context)
    tenant.directory.apply_ldif(CHANGES)
    tenant.directory.tenant.reset_sync_state()
    tenant.emulator.counters.clear()
    after = read_source(SETTINGS, context)
    routes = tenant.emulator.counters.as_json()["by_route"]
    assert routes["GET /v1.0/users/delta"] == 2  # the stale link (410), then a link from now
    assert routes["GET /v1.0/users"] == 1  # and the full read
    assert "the provider asks for it" in caplog.text and "resyncRequired" in caplog.text
    _assert_same(after, read_source(SETTINGS, SourceContext()))
    tenant.emulator.counters.clear()
    read_source(SETTINGS, context)  # the full read kept new links
    assert tenant.emulator.counters.as_json()["total"] == 3


def test_full_read_asked_for_reads_everything(tenant: EntraEmulatorServer, states: SourceStates) -> None:
    read_source(SETTINGS, SourceContext(states=states))
    tenant.emulator.counters.clear()
    read_source(SETTINGS, SourceContext(states=states, full_read=True))
    assert tenant.emulator.counters.as_json()["by_route"]["GET /v1.0/users"] == 1


def test_changed_settings_read_in_full(tenant: EntraEmulatorServer, states: SourceStates) -> None:
    read_source(SETTINGS, SourceContext(states=states))
    tenant.emulator.counters.clear()
    with_department = SETTINGS.model_copy(update={"extra_attributes": ["department"]})
    users = read_source(with_department, SourceContext(states=states)).users
    assert tenant.emulator.counters.as_json()["by_route"]["GET /v1.0/users"] == 1
    assert users.set_index("login").loc["ckim", "attr.department"] == "team-sre"
