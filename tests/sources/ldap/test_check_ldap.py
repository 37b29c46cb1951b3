"""``confluence-provisioning check-ldap`` as an admin runs it: a subprocess with AIRFLOW_CONN_* JSON."""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from confluence_provisioning.commands import check_ldap
from sandbox.directories.make_example import GROUPS, PEOPLE
from sandbox.openldap import OpenLdapSandbox
from tests.sources.ldap.directories import connection_json

COMMAND = Path(sys.executable).with_name("confluence-provisioning")
GROUP_FILTER = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(f"directory:\n  user_base_dn: {PEOPLE}\n  group_base_dn: {GROUPS}\n", encoding="utf-8")
    return path


def run_command(tmp_path: Path, *args: str, **connections: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        **{f"AIRFLOW_CONN_{conn_id.upper()}": value for conn_id, value in connections.items()},
    }
    return subprocess.run(
        [str(COMMAND), "check-ldap", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def header(sandbox: OpenLdapSandbox, conn_id: str = "ldap_default") -> list[str]:
    return [
        f"Connection '{conn_id}': {sandbox.uri} as 'cn=reader,o=sandbox' (plain LDAP, not encrypted)",
        "Flavour openldap, page size 500",
        f"  users:  (objectClass=inetOrgPerson) in {PEOPLE}",
        f"  groups: {GROUP_FILTER} in {GROUPS}",
    ]


def test_a_good_connection_prints_counts_rejects_and_samples(
    ldap_example: OpenLdapSandbox, rules: Path, tmp_path: Path
) -> None:
    result = run_command(tmp_path, "--rules", str(rules), ldap_default=connection_json(ldap_example))
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:4] == header(ldap_example)
    assert re.fullmatch(r"Read in \d+\.\d s\.", lines[4])
    assert lines[5:10] == [
        "  users            199  (195 active, 4 disabled)",
        "  groups            30",
        "  memberships      555  (446 direct, 109 through nested groups)",
        "  rejects            8  (1 group, 7 membership)",
        "Rejected entries:",
    ]
    assert lines[10] == (
        f"  membership cn=sales,{GROUPS}: member left out: member 'uid=former.employee,{PEOPLE}' names no "
        "user or group that was read (it is outside directory.user_base_dn/user_filter and "
        "group_base_dn/group_filter, or missing)"
    )
    assert lines[17].startswith(f"  group cn=leadership,{GROUPS}: nested groups form a cycle")
    assert lines[18:20] == [
        "Sample users:",
        "  login                    email display_name  active                                  dn",
    ]
    assert lines[20].split() == [
        "ceo",
        "helen.marsh@example.com",
        "Helen",
        "Marsh",
        "True",
        f"uid=ceo,{PEOPLE}",
    ]
    assert "Sample groups:" in lines and lines[-5].split() == ["all-staff", "189", f"cn=all-staff,{GROUPS}"]


def test_a_broken_connection_exits_1_with_the_reason(
    ldap_example: OpenLdapSandbox, rules: Path, tmp_path: Path
) -> None:
    result = run_command(
        tmp_path, "--rules", str(rules), ldap_default=connection_json(ldap_example, password="wrong")
    )
    assert result.returncode == 1
    assert result.stdout.splitlines() == header(ldap_example)
    assert result.stderr == (
        f"check-ldap: FAILED: bind to {ldap_example.uri} as 'cn=reader,o=sandbox' failed: invalidCredentials "
        "(49); check the login and password of Airflow connection 'ldap_default'\n"
    )


def test_one_login_through_another_connection(
    ldap_example: OpenLdapSandbox, rules: Path, tmp_path: Path
) -> None:
    result = run_command(
        tmp_path,
        *("--rules", str(rules), "--conn-id", "ldap_other", "--user", "bwayne"),
        ldap_other=connection_json(ldap_example),
    )
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        *header(ldap_example, "ldap_other"),
        "  lookup: (&(objectClass=inetOrgPerson)(uid=bwayne))",
    ]
    assert lines[6] == "Users with login 'bwayne':"
    assert lines[8].split()[1:] == [
        "bwayne",
        "bruce.wayne@example.com",
        "Bruce",
        "Wayne",
        "True",
        f"uid=bwayne,{PEOPLE}",
    ]


def test_a_broken_rules_file_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("directory:\n  page_size: 5000\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(rules=broken, conn_id=None, user=None)
    assert check_ldap.run(args, out, err) == 2
    assert out.getvalue() == ""
    assert err.getvalue().startswith(f"check-ldap: the rules file cannot be used:\n{broken}:2: ")
