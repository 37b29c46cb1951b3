"""`python -m sandbox.openldap` prints where the server is and cleans up on SIGINT and SIGTERM."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import ldap3
import pytest

from tests.fixtures.ldap import EXAMPLE_LDIF

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_the_uri_serves_it_and_cleans_up(tmp_path: Path, stop_signal: signal.Signals) -> None:
    # Its own TMPDIR shows whether the sandbox folder is gone afterwards.
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    cli = subprocess.Popen(
        [sys.executable, "-m", "sandbox.openldap", "--ldif", str(EXAMPLE_LDIF), "--password", "cli-secret"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed = _read_until(cli, "Ctrl-C")
        uri = re.search(r"^URI:\s+(\S+)", printed, re.MULTILINE)
        assert uri, printed
        assert "Bind DN:   cn=admin,dc=example,dc=com" in printed
        assert "ldapsearch -x -H" in printed
        connection = ldap3.Connection(uri[1], "cn=admin,dc=example,dc=com", "cli-secret", auto_bind=True)
        with connection:
            assert connection.search("dc=example,dc=com", "(uid=JSmith)")
        cli.send_signal(stop_signal)
        assert cli.wait(timeout=15) == 0
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.stdout is not None
    assert "stopped" in cli.stdout.read()
    assert not list(tmp_path.glob("openldap-sandbox-*"))
    with pytest.raises(ldap3.core.exceptions.LDAPSocketOpenError):
        ldap3.Connection(uri[1], auto_bind=True)


def test_cli_reports_a_missing_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.openldap", "--ldif", str(tmp_path / "missing.ldif")],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "missing.ldif" in result.stderr
    assert not list(tmp_path.glob("openldap-sandbox-*"))


def _read_until(process: subprocess.Popen[str], marker: str) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if marker in line:
            return "".join(lines)
    stderr = process.stderr.read() if process.stderr else ""
    raise AssertionError(f"the CLI ended before printing {marker!r}:\n{''.join(lines)}{stderr}")
