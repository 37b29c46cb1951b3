"""Run folders on an ObjectStoragePath: naming, Parquet round trips, pruning by day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames, storage


@pytest.fixture
def base(tmp_path: Path) -> ObjectStoragePath:
    return ObjectStoragePath(f"file://{tmp_path}/runs")


def test_a_run_folder_is_named_for_its_dag_day_and_run(base: ObjectStoragePath, tmp_path: Path) -> None:
    folder = storage.run_folder(
        base,
        "confluence_provisioning",
        "manual__2025-03-01T02:00:00+00:00",
        datetime(2025, 3, 1, 2, tzinfo=UTC),
    )

    dag_part, day, run_part = str(folder).removeprefix(f"file://{tmp_path}/runs/").split("/")
    assert day == "2025-03-01"
    assert dag_part.startswith("confluence_provisioning-")
    assert run_part.startswith("manual__2025-03-01T02-00-00-00-00-")
    # two run ids that clean up alike still get folders of their own
    assert storage.folder_name("a:b") != storage.folder_name("a+b")


def test_a_frame_survives_the_round_trip_with_its_types(base: ObjectStoragePath) -> None:
    users = frames.from_records(
        [
            {"id": "u1", "dn": "uid=a", "login": "a", "email": None, "display_name": "Ä", "active": True},
            {"id": "u2", "dn": "uid=b", "login": "b", "email": "b@x", "display_name": "B", "active": False},
        ],
        frames.USERS,
    )

    uri = storage.write_frame(base / "run", "idp/users", users)

    assert uri == f"{base}/run/idp/users.parquet"
    pd.testing.assert_frame_equal(storage.read_frame(uri, frames.USERS), users)
    assert storage.count_rows(uri) == 2
    assert storage.exists(uri) and not storage.exists(f"{base}/run/idp/groups.parquet")
    # the Arrow IPC file kept for source states: the same table back, types and all
    table = pa.Table.from_pandas(users, preserve_index=False)
    arrow = storage.write_arrow_table(base / "state", "users", table)
    assert arrow == f"{base}/state/users.arrow"
    assert storage.read_table(arrow).equals(table)
    assert storage.read_table(uri).equals(table)  # a state saved as Parquet reads too


def test_old_day_folders_are_pruned_and_nothing_else(base: ObjectStoragePath) -> None:
    dag = base / storage.folder_name("sync")
    for day in ("2025-02-01", "2025-02-14", "2025-02-15", "2025-03-01"):
        storage.write_text(dag / day / "run", "report.html", "<html></html>")
    storage.write_text(dag / "not-a-day", "keep.txt", "not ours")
    storage.write_text(base / storage.folder_name("other-dag") / "2025-01-01" / "run", "x.txt", "another DAG")

    removed = storage.prune_run_folders(base, "sync", keep_days=14, today=date(2025, 3, 1))

    assert removed == [str(dag / "2025-02-01"), str(dag / "2025-02-14")]
    assert sorted(path.name for path in dag.iterdir()) == ["2025-02-15", "2025-03-01", "not-a-day"]
    assert (base / storage.folder_name("other-dag") / "2025-01-01").exists()
    assert storage.prune_run_folders(base, "never-ran", keep_days=14, today=date(2025, 3, 1)) == []


def test_the_default_base_is_under_airflow_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))

    assert str(storage.storage_base(None)) == f"file://{tmp_path}/confluence_provisioning/runs"
    assert str(storage.storage_base("memory://bucket/runs")) == "memory://bucket/runs"
