"""``confluence-provisioning check-source`` against the Entra emulator."""

import io
from pathlib import Path

import pytest

from confluence_provisioning.cli import build_parser
from sandbox.entra import EntraEmulatorServer
from tests.fixtures.airflow import REPO


def _run(*argv: str) -> tuple[int, str, str]:
    args = build_parser("check-source").parse_args(["check-source", *argv])
    out, err = io.StringIO(), io.StringIO()
    return args.run(args, out, err), out.getvalue(), err.getvalue()


def test_check_source_counts_what_the_tenant_holds(tenant: EntraEmulatorServer) -> None:
    status, out, err = _run("--rules", str(REPO / "include" / "mapping_rules" / "entra.yaml"))
    assert (status, err) == (0, "")
    assert f"Connection 'entra_default': Graph {tenant.graph_url}, tenant {tenant.config.tenant}" in out
    assert "with 5 requests." in out  # a token, a page of users, a page of groups, two $batch
    assert "(tokens from " + tenant.authority + "; plain HTTP, not encrypted)" in out
    assert "  users            199  (195 active, 4 disabled)" in out
    assert "  groups            30" in out
    assert "  other members      3  (devices, contacts, service principals: ignored)" in out


def test_check_source_fails_with_the_reason(
    entra: EntraEmulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.sources.entra.conftest import connection

    monkeypatch.setenv("AIRFLOW_CONN_ENTRA_DEFAULT", connection(entra).replace(entra.config.tenant, "other"))
    status, _, err = _run("--rules", str(REPO / "include" / "mapping_rules" / "entra.yaml"))
    assert status == 1
    assert err.startswith("check-source: FAILED: could not get a token for app ")
    assert "AADSTS90002: Tenant 'other' not found." in err
