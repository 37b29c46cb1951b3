"""The workers' Celery configuration: Airflow's own, plus the DAG's libraries imported once per worker.

Celery imports ``imports`` in a worker's main process before it forks its pool,
and Airflow forks each task from a pool process, so every task starts with
pandas, pyarrow, s3fs and this library loaded instead of importing them again
(seconds per task on a busy machine).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from confluence_provisioning.pipeline.preload import MODULES

CELERY_CONFIG: dict[str, Any] = {
    **DEFAULT_CELERY_CONFIG,
    "imports": [*MODULES, "airflow.providers.amazon.aws.fs.s3", "s3fs"],
}
