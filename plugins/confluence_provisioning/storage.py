"""Run folders on an ObjectStoragePath: where tasks leave frames and reports for each other.

Each DAG run owns one folder, ``<base>/<dag_id>/<YYYY-MM-DD>/<run>/``, so tasks
exchange only URIs and nothing relies on a shared local disk (``file://`` by
default, ``s3://``/``gs://`` in production). The date level makes pruning a
listing of one directory instead of a walk of every run.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames

RUNS_FOLDER = "confluence_provisioning/runs"
_DATE_FORMAT = "%Y-%m-%d"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def airflow_home() -> Path:
    """``AIRFLOW_HOME``, or Airflow's own default when it is not set."""
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")


def storage_base(configured: str | None) -> ObjectStoragePath:
    """The base of all run folders: ``run.storage_base``, else ``file://`` under AIRFLOW_HOME."""
    if configured:
        return ObjectStoragePath(configured)
    return ObjectStoragePath(f"file://{airflow_home() / RUNS_FOLDER}")


def folder_name(run_id: str) -> str:
    """A name safe on every object store; the hash keeps two run ids that clean up alike apart."""
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:8]
    return f"{_UNSAFE.sub('-', run_id).strip('-.')[:100]}-{digest}"


def run_folder(base: ObjectStoragePath, dag_id: str, run_id: str, run_after: datetime) -> ObjectStoragePath:
    """The folder of one DAG run (not created: writing a file creates it)."""
    return base / folder_name(dag_id) / run_after.strftime(_DATE_FORMAT) / folder_name(run_id)


def write_frame(folder: ObjectStoragePath, name: str, frame: pd.DataFrame, **parquet: Any) -> str:
    """Write ``frame`` as ``<folder>/<name>.parquet`` (``parquet``: writer options) and return its URI."""
    path = folder / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, **parquet)
    path.write_bytes(buffer.getvalue())
    return str(path)


def write_arrow_table(folder: ObjectStoragePath, name: str, table: pa.Table) -> str:
    """Write ``table`` as ``<folder>/<name>.arrow`` (Arrow IPC, uncompressed) and return its URI.

    For tables written and read back every run (source states): about twice Parquet's size, but
    a tenth of its time to write and to read, with no pandas conversion either way
    (bench/RESULTS.md, Entra).
    """
    path = folder / f"{name}.arrow"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle, ipc.new_file(handle, table.schema) as writer:
        writer.write_table(table)
    return str(path)


def read_table(uri: str) -> pa.Table:
    """The Arrow table stored at ``uri``: Arrow IPC when it ends in ``.arrow``, else Parquet."""
    with ObjectStoragePath(uri).open("rb") as handle:
        if uri.endswith(".arrow"):
            return ipc.open_file(handle).read_all()
        return pq.read_table(io.BytesIO(handle.read()))


def read_frame(uri: str, schema: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The frame stored at ``uri`` (Parquet), conformed to ``schema`` when one is given."""
    with ObjectStoragePath(uri).open("rb") as handle:
        frame = pd.read_parquet(io.BytesIO(handle.read()))
    return frames.conform(frame, schema) if schema is not None else frame


def count_rows(uri: str) -> int:
    """The rows of a Parquet file, from its footer: nothing else is read."""
    with ObjectStoragePath(uri).open("rb") as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def write_text(folder: ObjectStoragePath, name: str, text: str) -> str:
    """Write a UTF-8 text file into ``folder`` and return its URI."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def read_text(uri: str) -> str:
    return ObjectStoragePath(uri).read_text(encoding="utf-8")


def exists(uri: str) -> bool:
    return ObjectStoragePath(uri).exists()


def prune_run_folders(
    base: ObjectStoragePath,
    dag_id: str,
    keep_days: int,
    today: date,
    keep: Callable[[ObjectStoragePath], bool] = lambda run_folder: False,
) -> list[str]:
    """Delete the DAG's run folders older than ``keep_days``, but those ``keep`` says to keep.

    Returns the URIs removed: a whole day folder when none of its runs is kept. Only
    folders named like a date are touched: anything else under the base was not made
    by this module and is left alone.
    """
    dag_folder = base / folder_name(dag_id)
    if not dag_folder.exists():
        return []
    oldest_kept = today - timedelta(days=keep_days)
    removed = []
    for day_folder in sorted(dag_folder.iterdir(), key=lambda path: path.name):
        day = _parse_day(day_folder.name)
        if day is None or day >= oldest_kept:
            continue
        run_folders = list(day_folder.iterdir())
        if not any(keep(run_folder) for run_folder in run_folders):
            day_folder.rmdir(recursive=True)
            removed.append(str(day_folder))
            continue
        for run_folder in run_folders:
            if not keep(run_folder):
                run_folder.rmdir(recursive=True)
                removed.append(str(run_folder))
    return removed


def _parse_day(name: str) -> date | None:
    try:
        return datetime.strptime(name, _DATE_FORMAT).date()
    except ValueError:
        return None
