"""The source contract through the Airflow connection: state kept between reads, full reads on demand."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from confluence_provisioning.sources import SourceContext, read_source
from sandbox.okta import OktaServer
from tests.sources.okta.conftest import settings


def test_reads_keep_their_state_and_a_full_read_can_be_asked_for(
    okta_example: OktaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {"conn_type": "okta", "host": okta_example.base_url, "password": okta_example.token}
    monkeypatch.setenv("AIRFLOW_CONN_OKTA_DEFAULT", json.dumps(connection))
    rules = settings()
    folder = f"file://{tmp_path / 'state'}"
    counters = okta_example.emulator.counters
    time.sleep(1.05)

    first = read_source(rules, SourceContext(state_folder=folder))
    full_requests = counters.as_json()["total"]
    okta_example.directory.set_status("afischer@example.com", "DEPROVISIONED")
    counters.clear()
    second = read_source(rules, SourceContext(state_folder=folder))
    assert counters.as_json()["total"] == 2  # one page of changed users, one of groups
    assert second.users.set_index("login").loc["afischer@example.com", "active"] == False  # noqa: E712
    assert len(second.users) == len(first.users)

    counters.clear()
    third = read_source(rules, SourceContext(full_read=True, state_folder=folder))
    assert counters.as_json()["total"] == full_requests
    for name in ("users", "groups", "memberships", "rejects"):
        pd.testing.assert_frame_equal(getattr(third, name), getattr(second, name))
    saved = sorted(path.name for path in (tmp_path / "state").iterdir())
    assert len(saved) == 2 and saved[-1] == "current.json"  # one read's frames, and the pointer to them

    counters.clear()
    read_source(rules, SourceContext())  # no place for state: a full read
    assert counters.as_json()["total"] == full_requests
