"""The source contract through the Airflow connection: the state kept between reads
(sources.incremental), full reads on demand and when the settings change."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from airflow.sdk import ObjectStoragePath

from confluence_provisioning.audit import AuditStore
from confluence_provisioning.sources import SourceContext, read_source
from confluence_provisioning.sources.incremental import SourceStates
from sandbox.okta import OktaServer
from tests.sources.okta.conftest import settings


def test_reads_keep_their_state_and_a_full_read_can_be_asked_for(
    okta_example: OktaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {"conn_type": "okta", "host": okta_example.base_url, "password": okta_example.token}
    monkeypatch.setenv("AIRFLOW_CONN_OKTA_DEFAULT", json.dumps(connection))
    rules = settings()
    counters = okta_example.emulator.counters
    time.sleep(1.05)  # the org was loaded this second

    with AuditStore(f"sqlite:///{tmp_path}/audit.db") as audit:
        states = SourceStates(audit, ObjectStoragePath(f"file://{tmp_path}/runs"))
        first = read_source(rules, SourceContext(states=states))
        full_requests = counters.as_json()["total"]
        okta_example.directory.set_status("afischer@example.com", "DEPROVISIONED")
        counters.clear()

        second = read_source(rules, SourceContext(states=states))
        assert counters.as_json()["total"] == 2  # one page of changed users, one of groups
        assert not second.users.set_index("login").loc["afischer@example.com", "active"]
        assert len(second.users) == len(first.users)
        assert audit.source_state("okta:okta_default")["cursor"]["lastUpdated"].endswith("Z")

        counters.clear()
        third = read_source(rules, SourceContext(full_read=True, states=states))
        assert counters.as_json()["total"] == full_requests
        for name in ("users", "groups", "memberships", "rejects"):
            pd.testing.assert_frame_equal(getattr(third, name), getattr(second, name))

        counters.clear()
        read_source(settings(app_groups=True), SourceContext(states=states))  # other settings: in full
        assert counters.as_json()["total"] == full_requests

    counters.clear()
    read_source(rules, SourceContext())  # nowhere to keep a state: in full
    assert counters.as_json()["total"] == full_requests
