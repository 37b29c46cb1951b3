"""The DAG's libraries imported once in the Airflow processes that fork tasks and DAG parses.

Airflow forks every task process (the LocalExecutor from its workers, which the scheduler forks
when it starts; Celery from its pool) and every parse of a DAG file (from the DAG processor). A
fork starts with what its parent has imported: when the parent has imported these modules, a
task or a parse no longer imports pandas, pyarrow, boto3 and this library again: 0.2-4 s per
task on a busy 2-core machine, 0.06-1.2 s preloaded (bench/RESULTS.md, "The DAG run through Airflow").

    # $AIRFLOW_HOME/config/airflow_local_settings.py (Airflow imports it in each of its processes)
    from confluence_provisioning.pipeline.preload import preload_for

    preload_for("scheduler", "dag-processor")

(``LOCAL_SETTINGS`` below.) Celery workers name ``MODULES`` in their ``imports`` instead
(tests/distributed/celery_config.py).
"""

from __future__ import annotations

import importlib
import sys

# what the DAG file imports, and with it what the task bodies use (pandas, pyarrow, ldap3, ...)
MODULES = (
    "confluence_provisioning.pipeline.tasks",
    "confluence_provisioning.pipeline.recording",
    "confluence_provisioning.pipeline.approval",
)

# the deployment's airflow_local_settings.py, or the lines to add to it
LOCAL_SETTINGS = """from confluence_provisioning.pipeline.preload import preload_for

preload_for("scheduler", "dag-processor")
"""


def preload_for(*commands: str) -> bool:
    """Import ``MODULES`` when this process is ``airflow <one of commands>``; whether it did.

    Only in those: any other Airflow command (the CLI, the API server, ``dags test``) would pay
    the imports for nothing.
    """
    if sys.argv[1:2] not in ([command] for command in commands):
        return False
    from airflow.sdk import Asset  # here: every Airflow process imports this module, most for nothing

    for module in MODULES:
        importlib.import_module(module)
    # the first Asset with a URI loads every provider's URI handlers (boto3 among them), once a process
    Asset(name="preload", uri="preload://the-providers-uri-handlers")
    return True
