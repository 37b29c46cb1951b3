"""A full read of the Okta emulator: statuses, groups by type, attributes, and failing closed."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from confluence_provisioning.settings.sources import OktaSourceSettings
from confluence_provisioning.sources.okta import reading
from confluence_provisioning.sources.okta.errors import OktaReadError
from sandbox.okta import OktaServer
from tests.sources.okta.conftest import client, quick_policy, read, settings

STATUSES = {
    "staged": "STAGED",
    "provisioned": "PROVISIONED",
    "active": "ACTIVE",
    "recovery": "RECOVERY",
    "expired": "PASSWORD_EXPIRED",
    "locked": "LOCKED_OUT",
    "suspended": "SUSPENDED",
    "gone": "DEPROVISIONED",
}


def _org_with_every_status(okta: OktaServer) -> None:
    for name, status in STATUSES.items():
        okta.directory.create_user(
            {"login": f"{name}@example.com", "email": f"{name}@example.com", "firstName": name.title(),
             "lastName": "Doe", "department": "R&D"},
            status,
        )  # fmt: skip
    okta.directory.create_group("eng")
    okta.directory.create_group("AD Sales", "APP_GROUP")
    for name in ("active", "gone", "staged"):
        okta.directory.add_member("eng", f"{name}@example.com")
    okta.directory.add_member("AD Sales", "locked@example.com")


def test_statuses_map_to_active_disabled_or_not_created(okta: OktaServer) -> None:
    _org_with_every_status(okta)
    snapshot = reading.snapshot(read(okta, settings()), settings())

    active = dict(zip(snapshot.users["login"], snapshot.users["active"], strict=True))
    assert active == {
        "active@example.com": True,
        "recovery@example.com": True,
        "expired@example.com": True,
        "locked@example.com": True,
        "suspended@example.com": False,
        "gone@example.com": False,  # read although a plain list leaves it out: disabled, not forgotten
    }
    assert list(snapshot.rejects["reason"]) == [
        "status STAGED: not yet activated in Okta, so not created",
        "status PROVISIONED: not yet activated in Okta, so not created",
    ]
    assert (
        snapshot.users.loc[snapshot.users["login"] == "active@example.com", "display_name"].item()
        == "Active Doe"
    )

    strict = settings(active_statuses=["ACTIVE"])
    strict_active = reading.snapshot(read(okta, strict), strict).users.set_index("login")["active"]
    assert not strict_active["locked@example.com"] and strict_active["active@example.com"]


def test_app_groups_and_everyone_only_when_the_rules_say_so(okta: OktaServer) -> None:
    _org_with_every_status(okta)
    plain = reading.snapshot(read(okta, settings()), settings())
    assert list(plain.groups["name"]) == ["eng"]
    names = plain.users.set_index("id")["login"]
    assert sorted(names[plain.memberships["user_id"]]) == ["active@example.com", "gone@example.com"]

    wide = settings(app_groups=True, everyone_group=True)
    everything = reading.snapshot(read(okta, wide), wide)
    assert sorted(everything.groups["name"]) == ["AD Sales", "Everyone", "eng"]
    per_group = everything.memberships.merge(everything.groups, left_on="group_id", right_on="id")
    assert per_group.groupby("name").size().to_dict() == {"AD Sales": 1, "Everyone": 6, "eng": 2}


def test_extra_attributes_become_attr_columns(okta: OktaServer) -> None:
    _org_with_every_status(okta)
    rules = settings(extra_attributes=["department", "costCenter"])
    users = reading.snapshot(read(okta, rules), rules).users
    assert set(users["attr.department"]) == {"R&D"}
    assert users["attr.costcenter"].isna().all()


def test_the_example_directory_reads_with_every_page_followed(okta_example: OktaServer) -> None:
    rules = settings(page_size=50, member_page_size=20)
    with client(okta_example) as okta:
        state, report = reading.read_full(okta, rules)
    snapshot = reading.snapshot(state, rules)
    assert len(snapshot.users) == 201 and len(snapshot.groups) == 30
    assert int((~snapshot.users["active"]).sum()) == 4  # the locked accounts, SUSPENDED
    sizes = (
        snapshot.memberships.merge(snapshot.groups, left_on="group_id", right_on="id").groupby("name").size()
    )
    assert sizes["all-staff"] == 188 and sizes["engineering"] == 65  # nesting flattened by the emulator
    counters = okta_example.emulator.counters.as_json()["by_route"]
    assert counters["GET /api/v1/users"] == 5  # 201 users, 50 a page
    assert report.requests == sum(counters.values())


def test_fewer_users_than_min_users_is_a_failed_read(okta: OktaServer) -> None:
    _org_with_every_status(okta)
    with pytest.raises(OktaReadError, match=r"Okta returned 6 users .* fewer than source.min_users \(7\)"):
        read(okta, settings(min_users=7))


def test_a_refused_token_fails_the_read_and_names_the_fix(okta: OktaServer) -> None:
    with pytest.raises(OktaReadError) as failed:
        read(okta, settings(), token="wrong-token")
    assert "401 E0000011 Invalid token provided" in str(failed.value)
    assert "check the connection's API token" in str(failed.value)
    assert "wrong-token" not in str(failed.value)


def test_a_page_that_keeps_failing_fails_the_read(okta: OktaServer) -> None:
    _org_with_every_status(okta)
    okta.emulator.set_faults([{"path": "/api/v1/groups/*/users", "error_rate": 1, "statuses": [500]}])
    with pytest.raises(OktaReadError, match=r"500 E0000009 Internal Server Error, 3 times; giving up"):
        read(okta, settings(), policy=quick_policy())


def test_transient_faults_are_retried_and_the_read_is_whole(okta_example: OktaServer) -> None:
    rules = settings(page_size=20)
    clean = reading.snapshot(read(okta_example, rules), rules)
    okta_example.emulator.set_faults(
        [{"path": "/api/v1/*", "error_rate": 0.15, "statuses": [500, 503], "drop_rate": 0.05}], seed=4
    )
    # member pages are read concurrently, so which request draws a fault varies between runs:
    # 8 attempts make a request failing every time (0.2**8 per request) practically impossible
    patient = dataclasses.replace(quick_policy(), max_attempts=8)
    faulty = reading.snapshot(read(okta_example, rules, policy=patient), rules)
    fired = okta_example.emulator.faults.as_json()["rules"][0]["fired"]
    requests = sum(okta_example.emulator.counters.as_json()["by_status"].values())
    assert fired > 0 and requests > 40, (fired, requests)
    for name in ("users", "groups", "memberships"):
        pd.testing.assert_frame_equal(getattr(faulty, name), getattr(clean, name))


def test_active_statuses_that_can_never_be_active_are_refused() -> None:
    with pytest.raises(ValueError, match="DEPROVISIONED can never count as active"):
        OktaSourceSettings(active_statuses=["ACTIVE", "DEPROVISIONED"])
