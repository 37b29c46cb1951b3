"""The Entra connection pointed at the emulator, and a state store for incremental reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

from confluence_provisioning.audit import AuditStore
from confluence_provisioning.settings import EntraSourceSettings
from confluence_provisioning.sources.incremental import SourceStates
from sandbox.entra import EntraEmulatorServer

PEOPLE = "ou=people,dc=example,dc=com"
GROUPS = "ou=groups,dc=example,dc=com"
# the rules that read the example directory as the LDAP rules do: logins are the uid
SETTINGS = EntraSourceSettings(login_attribute="onPremisesSamAccountName")


def connection(server: EntraEmulatorServer, **extra: object) -> str:
    return json.dumps(
        {
            "conn_type": "entra_id",
            "host": server.graph_url,
            "login": server.config.client_id,
            "password": server.config.client_secret,
            "extra": {"tenant_id": server.config.tenant, "authority": server.authority, **extra},
        }
    )


@pytest.fixture
def tenant(entra: EntraEmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EntraEmulatorServer:
    """The example directory in a fresh emulated tenant, and connection entra_default pointing at it."""
    monkeypatch.setenv("AIRFLOW_CONN_ENTRA_DEFAULT", connection(entra))
    return entra


@pytest.fixture
def states(tmp_path: Path) -> Iterator[SourceStates]:
    with AuditStore(f"sqlite:///{tmp_path / 'audit.db'}") as audit:
        yield SourceStates(audit, ObjectStoragePath(f"file://{tmp_path / 'runs'}"))
