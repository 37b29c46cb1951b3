"""What a benchmark pipeline run is given (``bench.pipeline``, ``bench.floors``), kept free of the
library's imports so the runner that writes it starts quickly."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class PipelineSpec:
    ldap_uri: str
    ldap_bind_dn: str
    ldap_password: str
    confluence_url: str
    confluence_user: str
    confluence_password: str
    rules: str  # a rules file; its folder is the run's rules folder
    out: str  # the run's AIRFLOW_HOME: audit store and run folders, emptied first
    watched: dict[str, int] = field(default_factory=dict)  # processes whose CPU time each phase reports
    profile: bool = False  # sample every thread of each phase into profile-<phase>.txt beside ``out``
    # connection id -> Airflow connection (as JSON): what the rules' other source or target reads
    # (``bench.dag_runs --target cloud``); it wins over the LDAP and Data Center ones above
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> PipelineSpec:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def connection_environment(spec: PipelineSpec, ldap_conn_id: str, confluence_conn_id: str) -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` variables the rules' connections are read from, and AIRFLOW_HOME."""
    parts = urlsplit(spec.ldap_uri)
    ldap = {
        "conn_type": "ldap",
        "host": parts.hostname,
        "port": parts.port,
        "login": spec.ldap_bind_dn,
        "password": spec.ldap_password,
    }
    confluence = {
        "conn_type": "http",
        "host": spec.confluence_url,
        "login": spec.confluence_user,
        "password": spec.confluence_password,
    }
    return {
        f"AIRFLOW_CONN_{ldap_conn_id.upper()}": json.dumps(ldap),
        f"AIRFLOW_CONN_{confluence_conn_id.upper()}": json.dumps(confluence),
        **{f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in spec.connections.items()},
        "AIRFLOW_HOME": spec.out,
    }
