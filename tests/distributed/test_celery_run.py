"""The DAG on the CeleryExecutor: two workers, no shared disk, run folders on S3, a worker lost mid-apply.

One run of the example directory against an empty site: its tasks land on both
workers; the worker applying the memberships is SIGKILLed halfway through,
Airflow notices the lost heartbeat and retries the chunk on the other worker;
the site ends exactly as the rules want it, as on the LocalExecutor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from confluence_provisioning import storage
from confluence_provisioning.audit import AuditStore, audit_url
from confluence_provisioning.settings import RunSettings, load_settings
from sandbox.confluence import EmulatorServer
from sandbox.openldap import OpenLdapSandbox
from tests.dag.conftest import DEFAULT_PARAMS, confluence_connection, ldap_connection
from tests.dag.test_dag_runs import changes, confluence_state, desired_state, operation_set
from tests.distributed.cluster import DAG_ID, WORKERS, CeleryCluster
from tests.fixtures.airflow import REPO
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.services import S3Endpoint

pytestmark = pytest.mark.timeout(600)

MEMBERSHIP_PUT = "PUT /rest/api/user/{username}/group/{groupName}"
LATENCY_MS = 40  # per membership PUT: the stage lasts seconds, time to lose a worker in
KILL_AFTER = 40  # membership PUTs served before the worker applying them is killed
APPLYING = "apply.add_memberships"
RUN_FOLDER_FILES = {
    "source/users.parquet",
    "target/memberships.parquet",
    "desired/memberships.parquet",
    "plan/plan.json",
    "plan/add_memberships-0001.parquet",
    "results/add_memberships-0001.parquet",
    "report/report.html",
}


class Stopwatch:
    """Wall time of each phase, printed at the end (``pytest -s``): the test's cost is watched."""

    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []
        self.last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps.append((name, now - self.last))
        self.last = now
        print(f"{name}: {self.laps[-1][1]:.1f} s", flush=True)

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.laps)


def membership_puts(server: EmulatorServer) -> int:
    return server.emulator.counters.as_json()["by_route"].get(MEMBERSHIP_PUT, 0)


def s3_connection(s3: S3Endpoint) -> str:
    return json.dumps(
        {
            "conn_type": "aws",
            "login": s3.access_key,
            "password": s3.secret_key,
            "extra": {"endpoint_url": s3.url, "region_name": s3.region},
        }
    )


def postgres_connection(url: Any) -> str:
    fields = {"host": url.host, "port": url.port, "login": url.username, "schema": url.database}
    return json.dumps({"conn_type": "postgres", **fields})


@pytest.fixture
def rules_dir(tmp_path: Path, s3_endpoint: S3Endpoint) -> Path:
    """The project's default rules with run folders in the bucket and quick retries."""
    rules = yaml.safe_load((REPO / "include" / "mapping_rules" / "default.yaml").read_text(encoding="utf-8"))
    rules["run"] |= {
        "storage_base": f"s3://aws_default@{s3_endpoint.bucket}/confluence-sync",
        "task_retries": 1,
        "task_retry_delay_seconds": 0.2,
    }
    if "approval" in RunSettings.model_fields:  # nobody is there to approve (issue 14's run.approval)
        rules["run"]["approval"] = "never"
    rules["target"]["retry"] |= {"max_attempts": 2, "base_delay_seconds": 0.01, "max_delay_seconds": 0.05}
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "default.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    return folder


@pytest.fixture
def cluster(
    tmp_path: Path,
    rules_dir: Path,
    postgres_server: PostgresServer,
    redis_url: str,
    s3_endpoint: S3Endpoint,
    ldap_example: OpenLdapSandbox,
    confluence: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[CeleryCluster]:
    audit = postgres_server.create_database("distributed_audit")
    connections = {
        "ldap_default": ldap_connection(ldap_example),
        "confluence_default": confluence_connection(confluence),
        "aws_default": s3_connection(s3_endpoint),
        "confluence_provisioning_audit": postgres_connection(audit),
    }
    for conn_id, value in connections.items():  # this process reads LDAP and the audit history too
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
    cluster = CeleryCluster(
        tmp_path / "cluster",
        database=postgres_server.create_database("distributed_airflow"),
        broker=redis_url,
        rules=yaml.safe_load((rules_dir / "default.yaml").read_text(encoding="utf-8")),
        connections=connections,
    )
    try:
        yield cluster
    finally:
        cluster.stop()


def test_two_celery_workers_sync_the_example_and_a_lost_worker_is_retried_exactly(
    cluster: CeleryCluster, confluence: EmulatorServer, rules_dir: Path, s3_endpoint: S3Endpoint
) -> None:
    desired, _ = desired_state(rules_dir)
    before = confluence_state(confluence)
    confluence.emulator.set_faults(
        [{"method": "PUT", "path": "/rest/api/user/*/group/*", "latency_ms": LATENCY_MS}]
    )
    clock = Stopwatch()
    cluster.start_workers()
    cluster.prepare("first", DEFAULT_PARAMS)
    clock.lap("prepare, with the workers starting")
    cluster.start()
    clock.lap("start")

    # lose the worker applying the memberships, halfway through
    deadline = time.monotonic() + 240
    while membership_puts(confluence) < KILL_AFTER:
        assert cluster.run_state("first") not in ("success", "failed"), cluster.logs()
        assert time.monotonic() < deadline, f"the membership stage did not start\n{cluster.logs()}"
        time.sleep(0.02)
    applying = {ti.hostname for ti in cluster.task_instances("first") if ti.task_id == APPLYING}
    assert len(applying) == 1 and applying <= set(WORKERS), applying
    lost = applying.pop()
    cluster.kill(lost)
    served_at_kill = membership_puts(confluence)
    clock.lap("first run until the kill")

    assert cluster.wait("first") == "success", cluster.logs()
    clock.lap("first run after the kill")
    print(cluster.timeline("first"))

    # exactly the desired state, as on the LocalExecutor
    after = confluence_state(confluence)
    synced = desired.users[desired.users["active"]]
    assert {name: value for name, value in after["users"].items() if name != "admin"} == {
        row.username: (row.display_name, row.email, True) for row in synced.itertuples()
    }
    wanted = set(zip(desired.memberships["group"], desired.memberships["username"], strict=True))
    assert after["memberships"] == before["memberships"] | {
        (group, user) for group, user in wanted if user in set(synced["username"])
    }
    added = after["memberships"] - before["memberships"]
    assert served_at_kill < len(added)  # the kill came before the stage was done
    # the retried chunk sent its memberships again (idempotent PUTs); besides those, only the requests
    # in flight at the kill (at most max_in_flight) may have landed after it
    in_flight = load_settings(rules_dir / "default.yaml").target.max_in_flight
    assert (
        len(added) + served_at_kill <= membership_puts(confluence) <= len(added) + served_at_kill + in_flight
    )

    # the tasks ran on both workers; the killed try on the lost one, the retry on the other
    instances = cluster.task_instances("first")
    assert {ti.hostname for ti in instances if ti.state == "success"} == set(WORKERS)
    (retried,) = [ti for ti in instances if ti.task_id == APPLYING]
    survivor = next(name for name in WORKERS if name != lost)
    assert (retried.state, retried.try_number, retried.hostname) == ("success", 2, survivor)
    assert [(number, host) for number, _, host in cluster.earlier_tries("first", APPLYING)] == [(1, lost)]

    # the audit history (PostgreSQL) holds every operation once, all applied
    with AuditStore(audit_url("confluence_provisioning_audit")) as store:
        record = store.find_run(DAG_ID, "first")
        assert record is not None and record.status == "success"
        done = store.operations(record.id)
    assert operation_set(done) == changes(before, after)
    assert set(done["status"]) == {"applied"}

    # the run folder is in the bucket, and no node wrote one on its own disk
    base = f"confluence-sync/{storage.folder_name(DAG_ID)}/"
    keys = s3_endpoint.keys(base)
    (folder,) = {key.removesuffix("/plan/plan.json") for key in keys if key.endswith("/plan/plan.json")}
    assert {key.removeprefix(f"{folder}/") for key in keys if key.startswith(folder)} >= RUN_FOLDER_FILES
    assert record.report_uri.startswith(f"s3://aws_default@{s3_endpoint.bucket}/{folder}/")
    assert not [path for path in cluster.root.rglob("*.parquet")]

    print(f"distributed run: {clock}")
