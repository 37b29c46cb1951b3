"""Run records waiting for the audit store: no run loses its record when the store is down.

When ``report`` cannot record a run (the store down, locked or corrupt, after retries),
it writes what it would have recorded into the run folder (``report/audit-pending/``)
and fails. The next run that reaches the store (its ``plan`` or its ``report``)
back-fills every waiting record of the DAG, oldest first, and removes the marker.
Pruning never deletes a run folder with a waiting record.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import pandas as pd
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames, storage
from confluence_provisioning.audit import OPERATIONS, AuditStore, RunIdentity, RunOutcome
from confluence_provisioning.pipeline.outcome import PUSHED
from confluence_provisioning.printable import printable_logger

log = printable_logger("confluence_provisioning.pipeline")

PENDING_FOLDER = "report/audit-pending"
RECORD = "record.json"
FRAMES = {"operations": OPERATIONS, "rejects": frames.REJECTS, "pushed": PUSHED}


def write(folder: ObjectStoragePath, identity: RunIdentity, outcome: RunOutcome) -> str:
    """Keep the record in the run folder; returns the marker's URI."""
    pending = folder / PENDING_FOLDER
    for name in FRAMES:
        frame = getattr(outcome, name)
        if frame is not None:
            storage.write_frame(pending, name, frame)
    record = {
        "identity": {**asdict(identity), "started_at": identity.started_at.isoformat()},
        "status": outcome.status,
        "ended_at": outcome.ended_at.isoformat(),
        "error": outcome.error,
        "report_uri": outcome.report_uri,
        "has_pushed": outcome.pushed is not None,
        "groups_now_managed": sorted(outcome.groups_now_managed),
        "groups_no_longer_managed": sorted(outcome.groups_no_longer_managed),
    }
    # the marker last: a record is pending only once all of it is written
    return storage.write_text(pending, RECORD, json.dumps(record, indent=2))


def is_pending(run_folder: ObjectStoragePath) -> bool:
    return (run_folder / PENDING_FOLDER / RECORD).exists()


def clear(run_folder: ObjectStoragePath) -> None:
    pending = run_folder / PENDING_FOLDER
    if pending.exists():
        pending.rmdir(recursive=True)


def backfill(store: AuditStore, base: ObjectStoragePath, dag_id: str) -> list[str]:
    """Record every waiting run of the DAG under ``base``, oldest first; returns their DAG run ids."""
    dag_folder = base / storage.folder_name(dag_id)
    if not dag_folder.exists():
        return []
    waiting = []
    for marker in dag_folder.glob(f"*/*/{PENDING_FOLDER}/{RECORD}"):
        run_folder = marker.parent.parent.parent  # <run>/report/audit-pending/record.json
        waiting.append((_read(run_folder), run_folder))
    done = []
    for (identity, outcome), run_folder in sorted(waiting, key=lambda item: item[0][1].ended_at):
        store.record_run(identity, outcome)
        clear(run_folder)
        log.warning(
            "Added run %s (ended %s, %s) to the audit history: the store was unavailable when it ended",
            identity.dag_run_id,
            f"{outcome.ended_at:%Y-%m-%d %H:%M} UTC",
            outcome.status,
        )
        done.append(identity.dag_run_id)
    return done


def _read(run_folder: ObjectStoragePath) -> tuple[RunIdentity, RunOutcome]:
    pending = run_folder / PENDING_FOLDER
    record = json.loads((pending / RECORD).read_text(encoding="utf-8"))
    identity = record["identity"]
    loaded = {
        name: storage.read_frame(str(pending / f"{name}.parquet"), schema)
        if (pending / f"{name}.parquet").exists()
        else None
        for name, schema in FRAMES.items()
    }
    return (
        RunIdentity(**{**identity, "started_at": datetime.fromisoformat(identity["started_at"])}),
        RunOutcome(
            status=record["status"],
            ended_at=datetime.fromisoformat(record["ended_at"]),
            operations=_or_empty(loaded["operations"], OPERATIONS),
            rejects=_or_empty(loaded["rejects"], frames.REJECTS),
            error=record["error"],
            report_uri=record["report_uri"],
            pushed=loaded["pushed"] if record["has_pushed"] else None,
            groups_now_managed=frozenset(record["groups_now_managed"]),
            groups_no_longer_managed=frozenset(record["groups_no_longer_managed"]),
        ),
    )


def _or_empty(frame: pd.DataFrame | None, schema: dict[str, str]) -> pd.DataFrame:
    return frame if frame is not None else frames.empty(schema)
