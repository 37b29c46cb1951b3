"""The state file, loading a directory and applying changes over HTTP, and `python -m sandbox.entra`."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.entra import EntraEmulatorServer
from sandbox.entra.__main__ import main
from tests.sandbox.entra.conftest import HTTP, PEOPLE, TLS, Graph

ROOT = Path(__file__).resolve().parents[3]


def test_directory_and_changes_load_over_http_with_errors_naming_the_line(entra: EntraEmulatorServer) -> None:
    small = "dn: dc=example,dc=com\nobjectClass: dcObject\ndc: example\n\n" + (
        "dn: uid=a,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: a\ncn: A\nsn: A\n"
    )
    counts = HTTP.put(f"{entra.admin_url}/directory", content=small.encode()).json()
    assert counts["removed"] == 199 + 30 + 4 and counts["created"] == 1
    bad = HTTP.post(
        f"{entra.admin_url}/changes", content=b"dn: uid=zz,dc=example,dc=com\nchangetype: delete\n"
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == (
        "request body:1: no entry 'uid=zz,dc=example,dc=com' to delete; add it first"
    )
    with Graph(entra) as graph:
        assert [u["userPrincipalName"] for u in graph.walk("users")[0]] == ["a@example.com"]


def test_a_state_file_keeps_the_tenant_and_its_delta_links(
    tmp_path: Path, entra_server: Callable[..., EntraEmulatorServer]
) -> None:
    state = tmp_path / "tenant.json"
    first = entra_server(state_file=state)
    with Graph(first) as graph:
        link = graph.walk("users/delta?$select=id,displayName&$deltatoken=latest")[1][-1]["@odata.deltaLink"]
        HTTP.post(
            f"{first.admin_url}/changes", content=f"dn: uid=ckim,{PEOPLE}\nchangetype: delete\n".encode()
        )
        ckim = next(i for i in first.directory.tenant.removed)
    first.stop()
    second = entra_server(state_file=state, ldif=None)
    with Graph(second) as graph:
        assert len(graph.walk("users?$top=999")[0]) == 198
        changed = graph.walk(link.replace(first.graph_url, second.graph_url))[0]
    assert changed == [{"id": ckim, "@removed": {"reason": "changed"}}]


def test_the_command_line_serves_an_ldif_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'plugins'}"}
    port = free_port()
    options = f"--port {port} --tenant t1 --client-id c1 --client-secret s1 --page-cap 100".split()
    command = [sys.executable, "-m", "sandbox.entra", *options, "--ldif", str(EXAMPLE_LDIF)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        banner = process.stdout.readline()
        assert "199 users" in banner and f"http://127.0.0.1:{port}/t1/oauth2/v2.0/token" in banner
        wait_for(port)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(verify=TLS, timeout=10) as client:
            form = {"client_id": "c1", "client_secret": "s1", "grant_type": "client_credentials",
                    "scope": "https://graph.microsoft.com/.default"}  # fmt: skip
            token = client.post(f"{base}/t1/oauth2/v2.0/token", data=form).json()["access_token"]
            page = client.get(
                f"{base}/v1.0/users?$top=999", headers={"Authorization": f"Bearer {token}"}
            ).json()
        assert len(page["value"]) == 100 and "@odata.nextLink" in page
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_line_names_a_bad_ldif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ldif"
    bad.write_text("dn: uid=a,dc=x\nchangetype: delete\n", encoding="utf-8")
    assert main(["--ldif", str(bad)]) == 2
    assert f"{bad}:1: a change record in a directory file" in capsys.readouterr().err


def free_port() -> int:
    """A free loopback port (closed again before the emulator binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")
