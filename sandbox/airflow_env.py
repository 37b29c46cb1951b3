"""Airflow pointed at the sandbox: the environment it runs in, its ``airflow`` command, its preparation.

Shared by ``make demo`` (sandbox.demo) and ``make airflow`` (sandbox.airflow_standalone).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from sandbox.confluence import EmulatorServer
from sandbox.openldap import OpenLdapSandbox

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))  # the ``airflow`` command of this virtualenv
POOL = ("confluence_api", "2", "Confluence API writes: apply stages in flight at once")
# the emulated site's admin password in the sandbox: Airflow does not mask secrets under 5
# characters, and says so in every task's log (the emulator's default is "admin")
CONFLUENCE_ADMIN_PASSWORD = "sandbox-admin"
RULES_DIR_VARIABLE = "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_RULES_DIR"


def airflow_environment(home: Path, ldap: OpenLdapSandbox, confluence: EmulatorServer) -> dict[str, str]:
    """The environment Airflow runs in: its home, this project's DAGs, connections to the sandbox."""
    where = urlsplit(ldap.uri)
    endpoint = ldap.endpoint
    login, password = confluence.admin_auth
    return {
        **os.environ,
        # airflow standalone starts its parts as `airflow ...` commands found on PATH
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # the Test button of Admin > Connections (off by default in Airflow)
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_LDAP_DEFAULT": json.dumps(
            {
                "conn_type": "ldap",
                "host": where.hostname,
                "port": where.port,
                "login": endpoint.reader_dn,
                "password": endpoint.reader_password,
            }
        ),
        "AIRFLOW_CONN_CONFLUENCE_DEFAULT": json.dumps(
            {"conn_type": "confluence", "host": confluence.base_url, "login": login, "password": password}
        ),
    }


def airflow(env: Mapping[str, str], *args: str, log: Path | None = None) -> int:
    """Run the ``airflow`` command of this virtualenv; its output goes to ``log`` (or is kept quiet)."""
    command = [AIRFLOW, *args]
    if log is None:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"airflow {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return 0
    with log.open("w", encoding="utf-8") as output:
        return subprocess.run(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, check=False
        ).returncode


def unattended_rules(folder: Path) -> Path:
    """The project's rules folder, copied to ``folder`` with ``run.approval: never`` (nobody approves)."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(REPO / "include" / "mapping_rules", folder)
    rules = folder / "default.yaml"
    text = rules.read_text(encoding="utf-8")
    if "  approval: on_risk" not in text:
        raise SystemExit(f"{rules} no longer says 'approval: on_risk': update sandbox/airflow_env.py")
    rules.write_text(text.replace("  approval: on_risk", "  approval: never", 1), encoding="utf-8")
    return folder


def prepare_airflow(env: Mapping[str, str]) -> None:
    """A migrated metadata database and the pool the apply tasks take slots from."""
    airflow(env, "db", "migrate")
    airflow(env, "pools", "set", *POOL)
