"""python -m bench.dag_runs: the real DAG run at company scale, beside the in-process pipeline.

    python -m bench.dag_runs [--users N] [--scenario noop|churn|both] [--modes pipeline,dags-test,standalone]
                             [--source ldap|entra] [--target data_center|cloud]

For each scenario, on the same data (bench/scenarios.py: 100,000 users, 5,000
groups, ~1,000,000 memberships; noop starts in sync, churn from yesterday's
directory) and in the same run, each mode starts from the scenario's Confluence
state. The source is the company in slapd, or with ``--source entra`` the same LDIF
served by the Entra ID emulator (Data Center starting as a first run of that source left
it: from today's tenant for noop, from yesterday's, ``Dataset.yesterday_ldif`` in a second
emulator, for churn); the target the Data Center emulator, or with ``--target cloud`` the
Atlassian Cloud emulator started from the SCIM directory a first run of today's company
(noop) or yesterday's (churn) left (``externalId`` = the entry's entryUUID).

  pipeline    the DAG's task bodies in one fresh process (bench.pipeline): the phases as the
              library alone costs them
  dags-test   ``airflow dags test``: the real DAG, every task in one process, no scheduler
  standalone  ``airflow standalone``: scheduler, DAG processor, API server and the
              LocalExecutor, a process per task, as a small deployment runs it, with the
              settings of README's "Task start-up" (``DEPLOYMENT_SETTINGS``, and the DAG's
              libraries preloaded in the scheduler and the DAG processor)
  standalone-defaults  the same with Airflow's defaults: nothing preloaded, the DAG file
              parsed every 30 s

Before a measured standalone run, a one-task DAG run (``bench_warm_up``) takes the API
server's first-request cost, which a long-running deployment paid long before.

and reports the DAG run's wall time (as Airflow records it), each task's wall
time, the Airflow overhead (the DAG run's wall time minus the in-process
pipeline's total), the peak resident memory (dags-test: its one process;
standalone: the largest task process, sampled twice a second), and whether the
site ended in sync with exactly the planned writes (on Cloud, the write requests the plan
needs: a group's membership changes go 100 to a PATCH, ``cloud_requests``). One JSON line per
measurement on stdout; a table appended to bench/RESULTS.md unless --no-results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import yaml

from bench.cloud import CloudEmulatorProcess, in_sync_scim_state
from bench.company_frames import IdpFrames
from bench.confluence_state import in_sync_state
from bench.dataset import RULES, SUFFIX, Dataset, Start
from bench.entra import EntraEmulatorProcess
from bench.measure import cpu_seconds, pid_running
from bench.results import PHASES, command_line, machine, writes
from bench.runner import _active_part, _in_fresh_process, pipeline_spec
from bench.scenarios import SCENARIOS, Scenario
from bench.services import EmulatorProcess
from bench.spec import connection_environment
from confluence_provisioning.pipeline.preload import LOCAL_SETTINGS
from confluence_provisioning.plan.planner import OperationKind
from confluence_provisioning.settings import EntraSourceSettings, RunSettings
from confluence_provisioning.targets.atlassian_cloud.client import MEMBER_BATCH
from sandbox.airflow_standalone import stop
from sandbox.openldap import OpenLdapSandbox
from sandbox.openldap.process import free_port

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_ID = "confluence_provisioning"
# A long-running API server has answered tasks before; its first task request after a start takes
# 17-38 s on this machine at a load of 7-10 (2026-12-02). A one-task DAG run takes that first.
WARM_UP_DAG_ID = "bench_warm_up"
WARM_UP_DAG = f"""from airflow.sdk import dag, task


@dag(dag_id="{WARM_UP_DAG_ID}", schedule=None)
def warm_up() -> None:
    task(lambda: None, task_id="first_task")()


warm_up()
"""
MODES = ("pipeline", "dags-test", "standalone", "standalone-defaults")
RUN_TIMEOUT = 3600.0
POOL = ("confluence_api", "2", "Confluence API writes")
CLOUD_CONNECTION = "atlassian_bench"  # the Cloud target's connection id in the --target cloud rules
ENTRA_CONNECTION = "entra_bench"  # the Entra source's, in the --source entra rules
TARGETS = ("data_center", "cloud")
SOURCES = ("ldap", "entra")
# README, "Task start-up": the DAG file changes with a deployment, not every 30 s (Airflow's default);
# a modified file is still parsed at once (file_parsing_sort_mode modified_time)
DEPLOYMENT_SETTINGS = {"AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600"}
# the DAG's tasks by the pipeline phase each one is; anything else is Airflow's own
PHASE_OF_TASK = {
    "extract_source": "extract_source",
    "extract_target": "extract_target",
    "map_rules": "map",
    "plan": "plan",
    "report": "report",
}


def phase_of(task_id: str) -> str:
    if task_id.startswith("apply.") and not task_id.endswith("_chunks"):
        return "apply"
    return PHASE_OF_TASK.get(task_id, "other")


class AirflowHome:
    """A throwaway Airflow home (SQLite) whose DAG reads the dataset's rules and the bench servers.

    ``deployment``: with README's "Task start-up" settings, or Airflow's defaults.
    """

    def __init__(
        self,
        folder: Path,
        dataset: Dataset,
        ldap: OpenLdapSandbox,
        emulator: EmulatorProcess,
        *,
        connections: Mapping[str, dict[str, Any]] | None = None,
        deployment: bool = True,
    ) -> None:
        shutil.rmtree(folder, ignore_errors=True)  # a new metadata database for each measurement
        self.folder = folder
        self.database = folder / "airflow.db"
        rules_dir = folder / "mapping_rules"
        rules_dir.mkdir(parents=True, exist_ok=True)
        dags = folder / "dags"  # the DAG file and the warm-up DAG
        dags.mkdir()
        shutil.copy2(REPO / "dags" / "confluence_provisioning_dag.py", dags)
        (dags / "bench_warm_up.py").write_text(WARM_UP_DAG, encoding="utf-8")
        rules = yaml.safe_load(dataset.rules.read_text(encoding="utf-8"))
        if "approval" in RunSettings.model_fields:  # nobody is there to approve
            rules.setdefault("run", {})["approval"] = "never"
        (rules_dir / "default.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
        spec = pipeline_spec(dataset, ldap, emulator, folder, connections=dict(connections or {}))
        settings = dataset.settings
        self.api_port = port = free_port()
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        self.env = {
            **inherited,
            **connection_environment(spec, settings.source.connection_id, settings.target.connection_id),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
            "AIRFLOW_HOME": str(folder),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.database}",
            "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_RULES_DIR": str(rules_dir),
            "AIRFLOW_VAR_CONFLUENCE_PROVISIONING_SCHEDULE": "none",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__PORT": str(port),  # other Airflows on this machine may hold 8080
            "AIRFLOW__API__WORKERS": "1",
            # the machine is shared and busy: a slow answer from the API server is not a failed task
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            **(DEPLOYMENT_SETTINGS if deployment else {}),
        }
        if deployment:
            (folder / "config").mkdir(exist_ok=True)
            (folder / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS, encoding="utf-8")
        self.airflow("db", "migrate")
        self.airflow("pools", "set", *POOL)

    def airflow(self, *args: str) -> str:
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done.stdout

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.database, timeout=30)) as connection:
            return connection.execute(sql, params).fetchall()

    def run_figures(self, run_id: str) -> dict[str, Any]:
        """The run's state and wall time (queued to end), and each task's wall time, summed by phase."""
        ((state, queued, started, ended),) = self.query(
            "SELECT state, queued_at, start_date, end_date FROM dag_run WHERE dag_id = ? AND run_id = ?",
            DAG_ID,
            run_id,
        )
        tasks: dict[str, float] = {}
        timeline: dict[str, dict[str, float]] = {}
        begin = queued or started
        for task_id, task_queued, task_start, task_end in self.query(
            "SELECT task_id, queued_dttm, start_date, end_date FROM task_instance "
            "WHERE dag_id = ? AND run_id = ?",
            DAG_ID,
            run_id,
        ):
            if task_start and task_end:
                tasks[task_id] = tasks.get(task_id, 0.0) + seconds_between(task_start, task_end)
                timeline[task_id] = {
                    "queued": round(seconds_between(begin, task_queued or task_start), 2),
                    "started": round(seconds_between(begin, task_start), 2),
                    "ended": round(seconds_between(begin, task_end), 2),
                    **self._startup(run_id, task_id),
                }
        by_phase: dict[str, float] = {}
        for task_id, seconds in tasks.items():
            by_phase[phase_of(task_id)] = by_phase.get(phase_of(task_id), 0.0) + seconds
        return {
            "state": state,
            "run_seconds": round(seconds_between(queued or started, ended), 2),
            "task_seconds": {task: round(seconds, 2) for task, seconds in sorted(tasks.items())},
            "task_seconds_by_phase": {
                phase: round(by_phase.get(phase, 0.0), 2) for phase in (*PHASES, "other")
            },
            "task_instances": len(tasks),
            "timeline": timeline,
            "no_task_running_seconds": round(
                seconds_between(begin, ended)
                - _covered([(t["started"], t["ended"]) for t in timeline.values()]),
                2,
            ),
        }

    def _startup(self, run_id: str, task_id: str) -> dict[str, float]:
        """From the task's log: its start-up (from its first line until the DAG file is parsed) and
        the parse alone, as the Task SDK measures it."""
        path = (
            self.folder
            / "logs"
            / f"dag_id={DAG_ID}"
            / f"run_id={run_id}"
            / f"task_id={task_id}"
            / "attempt=1.log"
        )
        if not path.exists():
            return {}
        first = None
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                first = first or event.get("timestamp")
                if event.get("event") == "Worker startup parse complete" and first:
                    return {
                        "startup": round(seconds_between(first, event["timestamp"]), 2),
                        "dag_file_parse": round(event.get("dag_file_parse_ms", 0) / 1000, 2),
                    }
        return {}

    def last_run_id(self) -> str:
        ((run_id,),) = self.query(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", DAG_ID
        )
        return run_id


def _covered(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of the intervals."""
    covered, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            covered += end - max(start, reach)
            reach = end
    return covered


def seconds_between(start: str, end: str) -> float:
    return (_moment(end) - _moment(start)).total_seconds()


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def dags_test(home: AirflowHome) -> dict[str, Any]:
    """One ``airflow dags test`` run: its figures, the command's wall time and its peak memory."""
    started = time.monotonic()
    with (home.folder / "dags-test.log").open("ab") as log:
        process = subprocess.Popen(
            [AIRFLOW, "dags", "test", DAG_ID], env=home.env, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        **home.run_figures(home.last_run_id()),
        "command_seconds": round(time.monotonic() - started, 2),
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "process_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "exit_code": process.returncode,
    }


class Standalone:
    """``airflow standalone`` in its own session; the peak memory of its task processes, sampled."""

    SAMPLE_SECONDS = 0.5

    def __init__(self, home: AirflowHome) -> None:
        self.home = home
        self.peak_task_rss = 0
        self.session = 0
        self._stop = threading.Event()

    @contextlib.contextmanager
    def running(self) -> Iterator[Standalone]:
        log = self.home.folder / "standalone.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [AIRFLOW, "standalone"],
                env=self.home.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.session = process.pid
        sampler = threading.Thread(target=self._sample, args=(process.pid,), daemon=True)
        sampler.start()
        try:
            self._wait_for_dag(process, log)
            for dag_id in (DAG_ID, WARM_UP_DAG_ID):
                self.home.airflow("dags", "unpause", dag_id)
            self._trigger_and_wait(WARM_UP_DAG_ID, "warm-up")
            yield self
        finally:
            self._stop.set()
            stop(process)

    def run(self, run_id: str, servers: Mapping[str, int]) -> dict[str, Any]:
        """The run's figures, and the CPU seconds every Airflow process and each server spent in it."""
        self.peak_task_rss = 0
        load_average = [round(value, 2) for value in os.getloadavg()]
        before = {"airflow": session_cpu_seconds(self.session), **_cpu_of(servers)}
        self._trigger_and_wait(DAG_ID, run_id)
        after = {"airflow": session_cpu_seconds(self.session), **_cpu_of(servers)}
        return {
            **self.home.run_figures(run_id),
            "peak_rss_bytes": self.peak_task_rss,
            "cpu_seconds": {name: round(after[name] - before[name], 2) for name in after},
            "load_average": load_average,
        }

    def _trigger_and_wait(self, dag_id: str, run_id: str) -> None:
        self.home.airflow("dags", "trigger", dag_id, "--run-id", run_id)
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            rows = self.home.query(
                "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?", dag_id, run_id
            )
            if rows and rows[0][0] in ("success", "failed"):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"run {run_id} of {dag_id} did not finish in {RUN_TIMEOUT:.0f} s")
            time.sleep(0.5)

    def _wait_for_dag(self, process: subprocess.Popen[bytes], log: Path) -> None:
        """Until the DAGs are parsed and the API server (where tasks report) takes connections."""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"airflow standalone stopped:\n{log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(sqlite3.Error):
                parsed = self.home.query(
                    "SELECT count(*) FROM serialized_dag WHERE dag_id IN (?, ?)", DAG_ID, WARM_UP_DAG_ID
                )
                if parsed == [(2,)] and _listening(self.home.api_port):
                    return
            time.sleep(1)
        raise RuntimeError("the DAG was not parsed, or the API server did not start, within 10 minutes")

    def _sample(self, session: int) -> None:
        """The largest resident set of a task process of the session.

        Airflow names a task's process ``airflow worker -- <task instance id>``; the executor's
        own workers, which supervise them, are ``airflow worker -- LocalExecutor: ...``.
        """
        while not self._stop.wait(self.SAMPLE_SECONDS):
            for process in psutil.process_iter(["cmdline", "memory_info"]):
                with contextlib.suppress(psutil.Error, OSError):
                    title = " ".join(process.info["cmdline"] or ())
                    if os.getsid(process.pid) == session and _is_task(title):
                        self.peak_task_rss = max(self.peak_task_rss, process.info["memory_info"].rss)


def session_cpu_seconds(session: int) -> float:
    """CPU seconds of a session's live processes and of the children they have reaped.

    A task process is reaped by its supervisor, which lives on, so a task's CPU stays counted.
    """
    total = 0.0
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getsid(process.pid) == session:
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
    return total


def _cpu_of(servers: Mapping[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in servers.items()}


def _is_task(title: str) -> bool:
    return title.startswith("airflow worker -- ") and "Executor" not in title


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def in_sync(emulator: EmulatorProcess, state: Path) -> bool:
    return _active_part(emulator.state()) == _active_part(json.loads(state.read_text(encoding="utf-8")))


class DataCenterSite:
    """The Data Center emulator as the target: loaded with the scenario's state before each mode.

    ``states``: the starting states by ``Start`` when the source is not the dataset's LDAP
    directory (``entra_state``); the in-sync one is what every run must end in.
    """

    name = "data_center"

    def __init__(
        self, emulator: EmulatorProcess, dataset: Dataset, states: Mapping[Start, Path] | None = None
    ) -> None:
        self.emulator, self.dataset, self.states = emulator, dataset, states
        self.pid = emulator.pid
        self.connections: dict[str, dict[str, Any]] = {}  # the spec's Data Center connection

    def state(self, start: Start) -> Path | None:
        if self.states is None:
            return self.dataset.state(start)
        if start not in self.states:
            raise ValueError(f"no {start.value} starting state was built for this source")
        return self.states[start]

    def load(self, scenario: Scenario) -> None:
        self.emulator.load_state(self.state(scenario.start))

    def checks(self, planned: int, plan_file: str | None = None) -> dict[str, Any]:
        by_method = self.emulator.counters()["by_method"]
        expected = self.state(Start.in_sync)
        assert expected is not None
        return {
            "writes": writes(by_method),
            "checks": {
                "final_state_in_sync": in_sync(self.emulator, expected),
                "writes_equal_planned_operations": writes(by_method) == planned,
            },
        }


def scim_active_part(state: dict[str, Any]) -> tuple[dict[str, Any], set[str], set[tuple[str, str]]]:
    """As ``_active_part`` for a Cloud directory: the active users' profiles (with their
    ``externalId``), the groups, the active users' memberships; SCIM ids left out."""
    active = {
        user["userName"]: (
            user.get("displayName"),
            next((e["value"].lower() for e in user.get("emails") or [] if e.get("primary")), ""),
            user.get("externalId"),
        )
        for user in state["Users"]
        if user.get("active", True)
    }
    name_of = {user["id"]: user["userName"] for user in state["Users"]}
    memberships = {
        (group["displayName"], name_of[member["value"]])
        for group in state["Groups"]
        for member in group.get("members") or []
        if name_of.get(member["value"]) in active
    }
    return active, {group["displayName"] for group in state["Groups"]}, memberships


class CloudSite:
    """The Cloud emulator as the target, started from ``loaded``'s state of ``states``
    (``cloud_state``); reloaded before a mode when a mode wrote to it or the scenario starts
    elsewhere."""

    name = "cloud"

    def __init__(
        self,
        emulator: CloudEmulatorProcess,
        connection_id: str,
        states: Mapping[Start, Path],
        loaded: Start,
    ) -> None:
        self.emulator, self.states, self.loaded = emulator, states, loaded
        self.pid = emulator.pid
        self.connections = {connection_id: emulator.connection()}
        self.dirty = False

    def load(self, scenario: Scenario) -> None:
        if scenario.start not in self.states:
            raise ValueError(f"no {scenario.start.value} Cloud directory was built")
        if self.dirty or scenario.start is not self.loaded:
            self.emulator.load_state(self.states[scenario.start])
            self.loaded, self.dirty = scenario.start, False
        self.emulator.counters()  # zeroed

    def checks(self, planned: int, plan_file: str | None = None) -> dict[str, Any]:
        """Writes are every POST, PUT, PATCH and DELETE: one per planned operation, except that
        the membership changes of one group go ``member_batch`` to a PATCH (``CloudPerformer``),
        so they must equal ``cloud_requests`` of the plan, not its operation count."""
        by_method = self.emulator.counters()["by_method"]
        done = writes(by_method) + by_method.get("PATCH", 0)
        self.dirty = self.dirty or done > 0
        if done == 0 and self.loaded is Start.in_sync:
            final = True  # nothing written: still the in-sync directory it was loaded with
        else:
            expected = json.loads(self.states[Start.in_sync].read_text(encoding="utf-8"))
            final = scim_active_part(self.emulator.state()) == scim_active_part(expected)
        requests = 0 if planned == 0 else cloud_requests(plan_file)
        return {
            "writes": done,
            "reads": by_method.get("GET", 0),  # the target's read, and the performer's lookups
            "planned_requests": requests,
            "checks": {"final_state_in_sync": final, "writes_equal_planned_requests": done == requests},
        }


def cloud_requests(plan_file: str | None) -> int:
    """The write requests the Cloud performer sends for a plan: one per operation, but one PATCH
    per ``MEMBER_BATCH`` membership changes of the same kind to the same group within one apply
    chunk (each chunk is an apply task of its own: the plan record's ``chunks``, beside the plan)."""
    assert plan_file is not None, "the pipeline's plan file"
    folder = Path(plan_file).parent
    record = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    chunks = [folder / uri.rpartition("/")[2] for uris in record["chunks"].values() for uri in uris]
    return sum(_chunk_requests(chunk) for chunk in chunks)


def _chunk_requests(chunk: Path) -> int:
    frame = pd.read_parquet(chunk, columns=["kind", "group"])
    kinds = {OperationKind.add_membership.value, OperationKind.remove_membership.value}
    membership = frame[frame["kind"].astype(str).isin(kinds)]
    per_group = membership.groupby([membership["kind"].astype(str), membership["group"].str.lower()]).size()
    return len(frame) - len(membership) + int((-(-per_group // MEMBER_BATCH)).sum())


Site = DataCenterSite | CloudSite


def cloud_rules(dataset: Dataset) -> Path:
    """The benchmark's rules with the Cloud target instead of Data Center, beside the dataset."""
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules.pop("confluence")
    rules["target"] = {"kind": "atlassian_cloud", "connection_id": CLOUD_CONNECTION}
    path = dataset.folder / "rules-cloud.yaml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    return path


def entra_rules(dataset: Dataset) -> Path:
    """The benchmark's rules with the Entra ID source instead of LDAP, beside the dataset.

    The tenant is the same LDIF served by the Entra emulator; its users have no DN subtree to
    scope by (README, "Entra ID as the source"), so every user of the tenant is in scope.
    """
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules.pop("directory")
    rules["users"].pop("include")
    rules["source"] = {
        "kind": "entra_id",
        "connection_id": ENTRA_CONNECTION,
        "login_attribute": "onPremisesSamAccountName",  # the LDIF's uid, as the LDAP rules' username
        "display_name_attribute": "displayName",
    }
    path = dataset.folder / "rules-entra.yaml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    return path


def entra_state(dataset: Dataset, tenant: EntraEmulatorProcess, start: Start) -> Path:
    """The Data Center state a first run leaves for ``tenant``'s read (``in_sync_state``):
    ``start`` says whose tenant it serves, today's (in sync) or yesterday's (drifted)."""
    path = dataset.folder / f"confluence-{start.value.replace('_', '-')}-entra.json"
    if not path.exists():
        settings = dataset.settings
        assert isinstance(settings.source, EntraSourceSettings)
        source = tenant.frames(settings.source)
        state = in_sync_state(IdpFrames(source.users, source.groups, source.memberships), settings)
        path.write_text(json.dumps(state, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def entra_states(
    dataset: Dataset, tenant: EntraEmulatorProcess, starts: set[Start], log: Path
) -> dict[Start, Path]:
    """The in-sync state from today's tenant, and when asked the drifted one: what a first run
    of yesterday's tenant (``Dataset.yesterday_ldif`` in its own emulator) left."""
    states = {Start.in_sync: entra_state(dataset, tenant, Start.in_sync)}
    if Start.drifted in starts:
        path = dataset.folder / "confluence-drifted-entra.json"
        if path.exists():
            states[Start.drifted] = path
        else:
            yesterday = EntraEmulatorProcess(dataset.yesterday_ldif, log)
            try:
                states[Start.drifted] = entra_state(dataset, yesterday, Start.drifted)
            finally:
                yesterday.stop()
    return states


def cloud_state(dataset: Dataset, start: Start) -> Path:
    """The SCIM directory a first run left: of today's company (in sync) or yesterday's (drifted),
    written once."""
    path = dataset.folder / f"cloud-{start.value.replace('_', '-')}.json"
    if not path.exists():
        state = in_sync_scim_state(dataset.idp_of(start), dataset.settings)
        path.write_text(json.dumps(state, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def in_process(
    scenario: Scenario,
    dataset: Dataset,
    ldap: OpenLdapSandbox,
    emulator: EmulatorProcess,
    site: Site,
    out: Path,
    servers: Mapping[str, int],
) -> dict[str, Any]:
    """The pipeline (``bench.pipeline``) in a fresh process, from the scenario's state."""
    load_average = [round(value, 2) for value in os.getloadavg()]
    spec = pipeline_spec(
        dataset, ldap, emulator, out / "airflow-home", watched=dict(servers), connections=site.connections
    )
    site.load(scenario)
    pipeline = _in_fresh_process("bench.pipeline", asdict(spec), out / "pipeline")
    checks = site.checks(pipeline["planned_operations"], pipeline["plan_file"])
    return {**pipeline, **checks, "load_average": load_average}


def measure(
    scenario: Scenario,
    dataset: Dataset,
    ldap: OpenLdapSandbox,
    emulator: EmulatorProcess,
    site: Site,
    source_pid: int,
    out: Path,
    modes: list[str],
) -> list[dict[str, Any]]:
    """Every mode on one scenario, each from the scenario's starting state; the pipeline first."""
    common = {
        "scenario": scenario.name,
        "source": dataset.settings.source.kind,
        "target": site.name,
        "size": asdict(dataset.idp_counts),
    }
    servers = {"emulator": site.pid, "source": source_pid}
    pipeline = in_process(scenario, dataset, ldap, emulator, site, out / "pipeline", servers)
    results = [
        {
            **common,
            "mode": "pipeline",
            "run_seconds": pipeline["total_seconds"],
            "phases": pipeline["phases"],
            "peak_rss_bytes": pipeline["peak_rss_bytes"],
            "planned_operations": pipeline["planned_operations"],
            "writes": pipeline["writes"],
            **{key: pipeline[key] for key in ("planned_requests", "reads") if key in pipeline},
            "checks": pipeline["checks"],
            "load_average": pipeline["load_average"],
            "cpu_seconds": {
                name: round(sum(phase[name] for phase in pipeline["cpu"].values()), 2)
                for name in ("self", "emulator", "source")
            },
        }
    ]
    airflow_modes = [mode for mode in modes if mode != "pipeline"]
    if not airflow_modes:
        return results
    planned, plan_file = pipeline["planned_operations"], pipeline["plan_file"]
    figures: dict[str, dict[str, Any]] = {}
    if "dags-test" in airflow_modes:
        site.load(scenario)
        home = AirflowHome(out / "airflow-home", dataset, ldap, emulator, connections=site.connections)
        load_average = [round(value, 2) for value in os.getloadavg()]
        before = _cpu_of(servers)
        figures["dags-test"] = {
            **dags_test(home),
            **site.checks(planned, plan_file),
            "load_average": load_average,
        }
        after = _cpu_of(servers)
        figures["dags-test"]["cpu_seconds"] = {
            "airflow": figures["dags-test"]["process_cpu_seconds"],
            **{name: round(after[name] - before[name], 2) for name in after},
        }
    for mode in ("standalone", "standalone-defaults"):
        if mode not in airflow_modes:
            continue
        site.load(scenario)
        home = AirflowHome(
            out / f"airflow-home-{mode}",
            dataset,
            ldap,
            emulator,
            connections=site.connections,
            deployment=mode == "standalone",
        )
        with Standalone(home).running() as standalone:
            figures[mode] = {
                **standalone.run(f"bench-{scenario.name}-{int(time.time())}", servers),
                **site.checks(planned, plan_file),
            }
    for mode, figure in figures.items():
        results.append(
            {
                **common,
                "mode": mode,
                **figure,
                "overhead_seconds": round(figure["run_seconds"] - pipeline["total_seconds"], 2),
            }
        )
    return results


def markdown(results: list[dict[str, Any]], argv: list[str], note: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## DAG runs of {when}",
        "",
        f"- Machine: {machine()}",
        f"- Command: `{command_line(argv, 'bench.dag_runs')}` (from the repository root)",
        *([f"- Also running on the machine: {note}"] if note else []),
        "",
        "Wall seconds. *pipeline*: the task bodies in one process; *dags test* and *standalone*: the DAG "
        "run as Airflow records it (queued to end), each phase the sum of its task instances' wall time "
        "(mapped apply chunks added up), *other* the tasks that are no phase (publish); "
        "*overhead*: the DAG run minus the pipeline's total. Peak RSS: the pipeline's process, the "
        "`dags test` process, the largest standalone task process. *CPU s*: the pipeline's process, the "
        "`dags test` process, or every process of the standalone (tasks, scheduler, API server, DAG "
        "processor, triggerer) during the run, and in brackets the target emulator's and the source "
        "server's (slapd or the Entra emulator); *CPU overhead*: the mode's minus the pipeline's, which "
        "a busy machine distorts less than wall time, but still by 10-30%. *load*: the load average "
        "when the mode started.",
        "",
        "| scenario | users | mode | "
        + " | ".join(PHASES)
        + " | other | run | overhead | CPU s | CPU overhead "
        "| tasks | peak RSS | writes | in sync | load |",
        "| --- | ---: | --- | " + " | ".join("---:" for _ in PHASES) + " | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | --- | ---: |",
    ]
    ours = next(
        (r["cpu_seconds"]["self"] for r in results if r["mode"] == "pipeline" and "cpu_seconds" in r), None
    )
    for result in results:
        phases = result.get("phases") or result.get("task_seconds_by_phase", {})
        cells = [
            f"{result['scenario']} ({result['source']} to {result['target']})",
            f"{result['size']['users']:,}",
            result["mode"],
            *(f"{phases.get(phase, 0):.1f}" for phase in PHASES),
            f"{phases.get('other', 0):.1f}" if "other" in phases else "",
            f"{result['run_seconds']:.1f}",
            f"{result['overhead_seconds']:.1f}" if "overhead_seconds" in result else "",
            *_cpu_cells(result.get("cpu_seconds"), ours),
            str(result.get("task_instances", "")),
            f"{result['peak_rss_bytes'] / 2**20:,.0f} MiB",
            f"{result['writes']:,}",
            "yes" if all(result["checks"].values()) else "**no**",
            f"{result['load_average'][0]:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, *_timelines(results)]) + "\n"


def _cpu_cells(cpu: Mapping[str, float] | None, pipeline: float | None) -> list[str]:
    """CPU seconds (servers in brackets), and the CPU overhead over the pipeline's own."""
    if not cpu:
        return ["", ""]
    own = cpu.get("self", cpu.get("airflow", 0.0))
    overhead = f"{own - pipeline:.1f}" if "airflow" in cpu and pipeline is not None else ""
    return [f"{own:.1f} ({cpu['emulator']:.1f} / {cpu['source']:.1f})", overhead]


def _timelines(results: list[dict[str, Any]]) -> list[str]:
    """Per Airflow mode, each task instance that ran: seconds from the run's start, its start-up."""
    lines = []
    for result in results:
        if not result.get("timeline"):
            continue
        ran = sorted(
            (
                (task, times)
                for task, times in result["timeline"].items()
                if times["ended"] > times["started"]
            ),
            key=lambda item: item[1]["started"],
        )
        not_started = sorted(set(result["timeline"]) - {task for task, _ in ran})
        lines += [
            "",
            f"{result['scenario']}, {result['mode']}: seconds from the DAG run's start; *start-up* is "
            "the task's log from its first line until the DAG file is parsed (*parse*: the parse "
            f"alone); no task was running for {result['no_task_running_seconds']:.1f} s of the run"
            + (f"; skipped without a process: {', '.join(not_started)}." if not_started else "."),
            "",
            "| task | queued | started | ended | wall | start-up | parse |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for task, times in ran:
            startup = [f"{times[key]:.1f}" if key in times else "" for key in ("startup", "dag_file_parse")]
            lines.append(
                f"| {task} | {times['queued']:.1f} | {times['started']:.1f} | {times['ended']:.1f} "
                f"| {times['ended'] - times['started']:.1f} | {' | '.join(startup)} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        prog="python -m bench.dag_runs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--users", type=int, help="resize the scenarios (groups and memberships in proportion)"
    )
    parser.add_argument("--scenario", choices=("noop", "churn", "both"), default="both")
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="data_center",
        help="cloud: the Atlassian Cloud emulator from the scenario's SCIM directory",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="ldap",
        help="entra: the same LDIF served by the Entra ID emulator",
    )
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="working folder (default bench/out)")
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--no-results", action="store_true", help="print the JSON lines only")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the table")
    args = parser.parse_args(args_list)
    modes = [mode for mode in args.modes.split(",") if mode]
    unknown = set(modes) - set(MODES)
    if unknown or "pipeline" not in modes:
        parser.error(f"--modes takes {', '.join(MODES)} and always includes pipeline (got {args.modes})")
    names = ("noop", "churn") if args.scenario == "both" else (args.scenario,)
    if args.target == "cloud" and args.source == "entra":
        parser.error("--source entra is measured with the Data Center target")
    scenarios = [
        SCENARIOS[name] if args.users is None else SCENARIOS[name].scaled(args.users) for name in names
    ]
    size = scenarios[0].size
    name = f"{size.users}u-{size.groups}g-{size.memberships}m-seed{args.seed}"
    out = args.out / "dag-runs"
    out.mkdir(parents=True, exist_ok=True)
    dataset = Dataset(size, args.seed, args.out / "data" / name)
    if args.target == "cloud":
        dataset = Dataset(size, args.seed, dataset.folder, rules=cloud_rules(dataset))
    if args.source == "entra":
        dataset = Dataset(size, args.seed, dataset.folder, rules=entra_rules(dataset))
    results = []
    _progress(f"{name}: generating the directory")
    ldif = dataset.ldif
    with contextlib.ExitStack() as stack:
        emulator = stack.enter_context(EmulatorProcess(out / "emulator.log"))
        ldap = stack.enter_context(OpenLdapSandbox([ldif], suffix=SUFFIX))
        site: Site = DataCenterSite(emulator, dataset)
        source_pid = pid_running(str(ldap.folder / "config"))
        starts = {scenario.start for scenario in scenarios}
        if args.source == "entra":
            _progress(f"{name}: the Entra emulator serving the directory, and the starting sites")
            tenant = EntraEmulatorProcess(ldif, out / "entra-emulator.log")
            stack.callback(tenant.stop)
            states = entra_states(dataset, tenant, starts, out / "entra-emulator-yesterday.log")
            site = DataCenterSite(emulator, dataset, states)
            site.connections[ENTRA_CONNECTION] = tenant.connection()
            source_pid = tenant.pid
        if args.target == "cloud":
            _progress(f"{name}: the starting Cloud directories, and the emulator")
            cloud_states = {start: cloud_state(dataset, start) for start in {Start.in_sync, *starts}}
            first = scenarios[0].start
            cloud = CloudEmulatorProcess(cloud_states[first], out / "cloud-emulator.log")
            stack.callback(cloud.stop)
            site = CloudSite(cloud, CLOUD_CONNECTION, cloud_states, loaded=first)
        for scenario in scenarios:
            _progress(f"{name}: {scenario.name}, {site.name}: {', '.join(modes)}")
            folder = out / f"{scenario.name}-{size.users}u-{args.source}-{site.name}"
            for result in measure(scenario, dataset, ldap, emulator, site, source_pid, folder, modes):
                print(json.dumps(result), flush=True)
                results.append(result)
    if not args.no_results:
        with args.results.open("a", encoding="utf-8") as table:
            table.write("\n" + markdown(results, args_list, args.note))
        _progress(f"appended the table to {args.results}")
    return 0


def _progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
