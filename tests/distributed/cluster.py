"""Airflow on the CeleryExecutor, as a small company would deploy it, on this one machine.

An API server (the execution API the workers report to), a scheduler, a DAG
processor (it runs the callbacks, such as failing the task of a lost worker) and
two Celery workers, each a process of its own with its own home and working
directory: nothing is shared between them but PostgreSQL (the metadata
database and the audit history), Redis (the Celery broker) and the S3 bucket
(the run folders). Each worker gets a copy of the DAG file and the rules, as a
deployment would put them on every machine, and runs in a UTS namespace of its
own, so its hostname, the one Airflow records on the task instances it ran, is
its own.

The DAG is serialized into the database before anything starts (``airflow dags
reserialize``), so the first run can be queued at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa
import yaml

from tests.fixtures.airflow import POOL, REPO
from tests.fixtures.services import free_port, wait_for_port

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_ID = "confluence_provisioning"
WORKERS = ("worker-a", "worker-b")
STARTUP_TIMEOUT = 120.0
FINISHED = ("success", "failed")


@dataclass
class Node:
    """One Airflow process (scheduler, API server or worker): its home, log and process."""

    name: str
    home: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.home / f"{self.name}.log"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass(frozen=True)
class TaskInstance:
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    hostname: str


@dataclass
class CeleryCluster:
    root: Path
    database: sa.URL  # Airflow's metadata database
    broker: str  # redis://host:port
    rules: dict[str, Any]  # the rules every node gets as its default.yaml
    connections: Mapping[str, str]  # AIRFLOW_CONN_* of the workers
    api_port: int = field(default_factory=free_port)
    nodes: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.engine = sa.create_engine(self.database)
        for name in ("scheduler", "dag-processor", "api-server", *WORKERS):
            self.nodes[name] = self._make_node(name)

    def _make_node(self, name: str) -> Node:
        """A home with its own copy of the DAG file and the rules folder."""
        home = self.root / name
        (home / "dags").mkdir(parents=True)
        shutil.copy2(REPO / "dags" / f"{DAG_ID}_dag.py", home / "dags")
        (home / "mapping_rules").mkdir()
        (home / "mapping_rules" / "default.yaml").write_text(yaml.safe_dump(self.rules), encoding="utf-8")
        return Node(name, home)

    def env(self, node: Node) -> dict[str, str]:
        database = self.database.render_as_string(hide_password=False)
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        env = {
            **inherited,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
            "AIRFLOW_HOME": str(node.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(node.home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(node.home / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            # the scheduler signs each task's token, the API server checks it
            "AIRFLOW__API_AUTH__JWT_SECRET": "distributed-run-test-secret",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": database,  # psycopg 3 is async too: no asyncpg
            "AIRFLOW__CELERY__BROKER_URL": f"{self.broker}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"{self.broker}/1",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            # a worker that died is noticed in seconds, not the default five minutes
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "1",
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            # on a busy machine a slow answer from the API server is not a failed task
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            # the DAG was serialized before the start; the DAG processor is there for callbacks
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            # the UTS namespace's hostname, with no DNS lookup behind it
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "socket.gethostname",
            "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_RULES_DIR": str(node.home / "mapping_rules"),
            "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_SCHEDULE": "none",  # manual runs only
        }
        if node.name in WORKERS:
            env |= {f"AIRFLOW_CONN_{conn_id.upper()}": value for conn_id, value in self.connections.items()}
            env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] = "tests.distributed.celery_config.CELERY_CONFIG"
        return env

    def airflow(self, *commands: list[str]) -> None:
        """Airflow CLI commands, in one process of the scheduler's node (each start costs seconds)."""
        node = self.nodes["scheduler"]
        result = subprocess.run(
            [sys.executable, "-m", "tests.distributed.airflow_commands", json.dumps(commands)],
            env=self.env(node),
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"airflow {commands} failed:\n{result.stdout}\n{result.stderr}")

    def prepare(self, run_id: str, conf: Mapping[str, Any]) -> None:
        """Migrate the database, make the pool, serialize the DAG and queue the first run."""
        self.airflow(
            ["db", "migrate"],
            ["pools", "set", POOL, "2", "Confluence API writes"],
            ["dags", "reserialize"],
            self._trigger_command(run_id, conf),
        )

    def trigger(self, run_id: str, conf: Mapping[str, Any]) -> None:
        self.airflow(self._trigger_command(run_id, conf))

    @staticmethod
    def _trigger_command(run_id: str, conf: Mapping[str, Any]) -> list[str]:
        return ["dags", "trigger", DAG_ID, "--run-id", run_id, "--conf", json.dumps(conf)]

    def start_workers(self) -> None:
        """Both workers, each with a hostname of its own (``hostname`` in a new UTS namespace).

        They need only the broker to start, so they start while the database is migrated.
        """
        for name in WORKERS:
            command = [AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
            self._spawn(name, ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', name, *command])

    def start(self) -> None:
        """The API server and the DAG processor; the scheduler once both workers take tasks."""
        api_server = [AIRFLOW, "api-server", "--apps", "execution", "--port", str(self.api_port)]
        self._spawn("api-server", api_server)
        self._spawn("dag-processor", [AIRFLOW, "dag-processor"])
        wait_for_port(self.api_port, self.nodes["api-server"].process, self.nodes["api-server"].log)
        for name in WORKERS:
            self._wait_for_log(self.nodes[name], f"{name}@{name} ready.")
        self._spawn("scheduler", [AIRFLOW, "scheduler"])

    def _spawn(self, name: str, command: list[str]) -> None:
        node = self.nodes[name]
        with node.log.open("wb") as log:
            # a process group of its own: killing the group kills the worker and the tasks it runs
            node.process = subprocess.Popen(
                command,
                env=self.env(node),
                cwd=node.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_for_log(self, node: Node, text: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while text not in node.log_text():
            assert node.process is not None and node.process.poll() is None, (
                f"{node.name} stopped:\n{node.log_text()}"
            )
            assert time.monotonic() < deadline, f"{node.name} did not say {text!r}:\n{node.log_text()}"
            time.sleep(0.1)

    def kill(self, name: str) -> None:
        """SIGKILL a worker and every process it started, as when its machine is lost.

        The whole tree, not the process group: the task runner puts the task in a session of its own.
        """
        process = self.nodes[name].process
        assert process is not None
        tree = psutil.Process(process.pid)
        doomed = [tree, *tree.children(recursive=True)]
        for member in doomed:
            member.send_signal(signal.SIGKILL)
        psutil.wait_procs(doomed)
        process.wait()

    def stop(self) -> None:
        """SIGTERM to every process of every node (tasks included), SIGKILL to those left after 15 s."""
        alive = []
        for node in self.nodes.values():
            if node.process is not None and node.process.poll() is None:
                tree = psutil.Process(node.process.pid)
                alive += [tree, *tree.children(recursive=True)]
        for member in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.terminate()
        _, left = psutil.wait_procs(alive, timeout=15)
        for member in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        psutil.wait_procs(left)
        for node in self.nodes.values():
            if node.process is not None:
                node.process.wait()
        self.engine.dispose()

    def run_state(self, run_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT state FROM dag_run WHERE dag_id = :dag AND run_id = :run"),
                {"dag": DAG_ID, "run": run_id},
            ).scalar()

    def wait(self, run_id: str, timeout: float = 300.0) -> str:
        """The run's final state; the nodes' logs when it does not finish in time."""
        deadline = time.monotonic() + timeout
        while (state := self.run_state(run_id)) not in FINISHED:
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} is still {state} after {timeout} s\n{self.logs()}")
            time.sleep(0.25)
        return state

    def task_instances(self, run_id: str) -> list[TaskInstance]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT task_id, map_index, state, try_number, coalesce(hostname, '') FROM task_instance "
                    "WHERE dag_id = :dag AND run_id = :run ORDER BY task_id, map_index"
                ),
                {"dag": DAG_ID, "run": run_id},
            ).all()
        return [TaskInstance(*row) for row in rows]

    def timeline(self, run_id: str) -> str:
        """Each task's wait in the queue and its run time, in start order: where a run's time goes."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT task_id, map_index, hostname, extract(epoch FROM start_date - queued_dttm), "
                    "extract(epoch FROM end_date - start_date) FROM task_instance "
                    "WHERE dag_id = :dag AND run_id = :run ORDER BY start_date"
                ),
                {"dag": DAG_ID, "run": run_id},
            ).all()
        return "\n".join(
            f"{task:40} {index:3} {host or '-':9} queued {wait or 0:6.1f} s, ran {ran or 0:6.1f} s"
            for task, index, host, wait, ran in rows
        )

    def earlier_tries(self, run_id: str, task_id: str) -> list[tuple[int, str | None, str]]:
        """(try number, state, hostname) of a task's tries before its latest one."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT try_number, state, coalesce(hostname, '') FROM task_instance_history "
                    "WHERE dag_id = :dag AND run_id = :run AND task_id = :task ORDER BY try_number"
                ),
                {"dag": DAG_ID, "run": run_id, "task": task_id},
            ).all()
        return [tuple(row) for row in rows]

    def logs(self) -> str:
        return "\n".join(f"===== {node.name}\n{node.log_text()[-6000:]}" for node in self.nodes.values())
