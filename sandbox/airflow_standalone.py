"""``make airflow``: this project's DAG in ``airflow standalone``, against the local sandbox.

Starts slapd with ``sandbox/directories/example.ldif`` and the Confluence
emulator (its site kept in ``$AIRFLOW_HOME/confluence-emulator.json`` between
sessions, like the audit history), points ``AIRFLOW_CONN_*`` at them, creates
the ``confluence_api`` pool and runs ``airflow standalone`` (API server,
scheduler, DAG processor, triggerer) until Ctrl-C, which stops everything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sandbox.airflow_env import (
    AIRFLOW,
    CONFLUENCE_ADMIN_PASSWORD,
    REPO,
    airflow_environment,
    prepare_airflow,
)
from sandbox.confluence import EmulatorServer
from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.openldap import OpenLdapSandbox


def main() -> int:
    # a plain `kill` stops everything as cleanly as Ctrl-C
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    home = Path(os.environ.get("AIRFLOW_HOME") or REPO / ".airflow").resolve()
    home.mkdir(parents=True, exist_ok=True)
    with (
        OpenLdapSandbox([EXAMPLE_LDIF]) as ldap,
        EmulatorServer(
            state_file=home / "confluence-emulator.json", admin_password=CONFLUENCE_ADMIN_PASSWORD
        ) as confluence,
    ):
        env = airflow_environment(home, ldap, confluence)
        print(f"==> Preparing Airflow in {home} (airflow db migrate, pool confluence_api)", flush=True)
        prepare_airflow(env)
        login, password = confluence.admin_auth
        print(
            f"""==> Sandbox running:
    LDAP        {ldap.uri} (base {ldap.base_dn}); connection ldap_default
    Confluence  {confluence.base_url} ({login}/{password}); connection confluence_default
                its users and groups: {confluence.admin_url}/
==> Starting airflow standalone: open http://localhost:8080 (the login is printed below), then trigger
    the DAG confluence_provisioning. Ctrl-C stops Airflow and the sandbox.""",
            flush=True,
        )
        # its own process group, so stopping it stops the scheduler, API server and workers it started
        standalone = subprocess.Popen([AIRFLOW, "standalone"], env=env, start_new_session=True)
        try:
            return standalone.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop(standalone)
            print("==> Stopped Airflow, slapd and the Confluence emulator", flush=True)


def stop(standalone: subprocess.Popen[bytes]) -> None:
    """SIGTERM to every process of ``airflow standalone``; SIGKILL to what is left after 30 s."""
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(standalone.pid, sig)
        try:
            standalone.wait(timeout=grace)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:  # the group outlives its leader for a moment
                os.killpg(standalone.pid, 0)
                time.sleep(0.2)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":
    sys.exit(main())
