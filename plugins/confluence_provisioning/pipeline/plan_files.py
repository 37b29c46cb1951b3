"""The plan as files of the run folder: one Parquet file per apply chunk, and a record for the report.

The plan task writes them, each stage's mapped apply task reads its chunks, and
the report reads the record and the results beside the chunks, whatever
happened in between (a guard that stopped the plan, an apply task that failed).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from airflow.sdk import ObjectStoragePath

from confluence_provisioning import frames, storage
from confluence_provisioning.apply.applier import RESULTS, Missing, not_created
from confluence_provisioning.pipeline.context import RunContext
from confluence_provisioning.plan import planner
from confluence_provisioning.plan.operations import OperationKind, Plan

# one mapped apply task per stage, named after it: "create groups" -> apply.create_groups
STAGE_TASKS: dict[str, str] = {name: name.replace(" ", "_") for name, _ in planner.STAGES}
STAGE_KINDS = {STAGE_TASKS[name]: kinds for name, kinds in planner.STAGES}
PLAN_FOLDER = "plan"
RESULTS_FOLDER = "results"
PLAN_RECORD = f"{PLAN_FOLDER}/plan.json"


def write_chunks(run: RunContext, result: Plan, size: int) -> dict[str, list[str]]:
    """Each stage's operations in files of at most ``size``; stage task name -> their URIs.

    Results of an earlier plan of this run (a cleared and rerun DAG run) are removed: apply
    takes a chunk with results for one it has done.
    """
    stale = run.folder / RESULTS_FOLDER
    if stale.exists():
        stale.rmdir(recursive=True)
    frame = result.frame
    chunks: dict[str, list[str]] = {}
    for name, kinds in planner.STAGES:
        stage = frame[frame["kind"].isin([kind.value for kind in kinds])].reset_index(drop=True)
        task = STAGE_TASKS[name]
        chunks[task] = [
            storage.write_frame(
                run.folder, f"{PLAN_FOLDER}/{task}-{start // size + 1:04d}", stage.iloc[start : start + size]
            )
            for start in range(0, len(stage), size)
        ]
    return chunks


def write_plan_record(
    run: RunContext,
    result: Plan,
    *,
    chunks: dict[str, list[str]],
    violations: list[str],
    approval: dict[str, Any] | None = None,
) -> None:
    """What approval, apply and the report need of the plan, whether it was applied or stopped.

    ``approval``: why the plan waits for approval (``reasons``, empty when it does not), its
    first changes and where every change is listed.
    """
    record = {
        "plan": storage.write_frame(run.folder, f"{PLAN_FOLDER}/plan", result.frame),
        "summary": result.summary(),
        "users": dict(result.users),
        "not_created": storage.write_frame(run.folder, f"{PLAN_FOLDER}/not_created", result.not_created),
        "notes": list(result.notes),
        "email_source": result.email_source,
        "violations": violations,
        "chunks": chunks,
        "approval": approval or {"reasons": []},
    }
    storage.write_text(run.folder, PLAN_RECORD, json.dumps(record, indent=2))


def read_plan_record(run: RunContext) -> dict[str, Any] | None:
    """The record the plan task wrote, or None when the run stopped before it."""
    uri = run.uri(PLAN_RECORD)
    return json.loads(storage.read_text(uri)) if storage.exists(uri) else None


def results_uri(chunk: str) -> str:
    """Where the apply task of a chunk writes its results: ``results/`` beside ``plan/``."""
    folder, name = chunk.rsplit(f"/{PLAN_FOLDER}/", 1)
    return f"{folder}/{RESULTS_FOLDER}/{name}"


def read_results(record: dict[str, Any] | None) -> tuple[pd.DataFrame, list[str]]:
    """The results of every chunk that finished, and the names of the chunks that did not."""
    parts, missing = [frames.empty(RESULTS)], []
    for uris in (record or {}).get("chunks", {}).values():
        for chunk in uris:
            if storage.exists(results_uri(chunk)):
                parts.append(storage.read_frame(results_uri(chunk), RESULTS))
            else:
                missing.append(chunk_name(chunk))
    return frames.conform(pd.concat(parts, ignore_index=True), RESULTS), missing


def write_not_created(chunk: str, results: pd.DataFrame) -> None:
    """Beside a chunk's results: the users and groups it failed or skipped to create, with why.

    Written for the chunks of stages that create something, so that a later stage reads a
    few small files instead of every earlier result.
    """
    if not _kinds_of(chunk) & _CREATES:
        return
    missing = [[kind, name, why] for (kind, name), why in not_created(results).items()]
    storage.write_text(
        ObjectStoragePath(results_uri(chunk)).parent, _not_created_name(chunk), json.dumps(missing)
    )


def read_not_created(record: dict[str, Any] | None, chunk: str) -> Missing:
    """What the stages before the chunk's own failed or skipped to create (for stages that add to it)."""
    if OperationKind.add_membership.value not in _kinds_of(chunk):
        return {}
    stage = _stage_of(chunk)
    missing: Missing = {}
    for name, uris in (record or {}).get("chunks", {}).items():
        if name == stage:
            break
        for uri in uris:
            found = ObjectStoragePath(results_uri(uri)).parent / _not_created_name(uri)
            if found.exists():
                missing.update({(kind, target): why for kind, target, why in json.loads(found.read_text())})
    return missing


_CREATES = frozenset({OperationKind.create_user.value, OperationKind.create_group.value})


def _kinds_of(chunk: str) -> frozenset[str]:
    return frozenset(kind.value for kind in STAGE_KINDS.get(_stage_of(chunk), ()))


def _stage_of(chunk: str) -> str:
    return chunk_name(chunk).rsplit("-", 1)[0]


def _not_created_name(chunk: str) -> str:
    return f"{chunk_name(chunk)}.not-created.json"


def chunk_name(chunk: str) -> str:
    """``add_memberships-0002``: how logs and the Airflow UI name a chunk."""
    return chunk.rsplit("/", 1)[-1].removesuffix(".parquet") or "nothing to apply"
