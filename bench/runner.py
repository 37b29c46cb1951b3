"""One scenario end to end: the read floors, the pipeline in a fresh process, the write floor, checks.

Every measurement starts from the scenario's Confluence state, loaded into the
emulator with its counters zeroed, so the pipeline and the floors see the same
site. The floors run in this process; the pipeline in its own, so that its peak
memory is its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from confluence_provisioning.idp.connecting import open_connection
from confluence_provisioning.idp.flavours import resolve_profile

from bench.dataset import Dataset, Start
from bench.floors.confluence import read_floor, write_floor
from bench.floors.ldap import Bind, ldap3_floor, ldapsearch_floor, pipeline_searches
from bench.floors.plan_writes import plan_writes
from bench.measure import Meter, pid_running
from bench.pipeline import PipelineSpec, ldap_options
from bench.results import ratios, writes
from bench.scenarios import Scenario
from bench.services import EmulatorProcess
from sandbox.openldap import OpenLdapSandbox

FLOORS = (
    "ldapsearch",
    "ldap3",
    "confluence_reads",
    "confluence_reads_requests",
    "confluence_writes",
    "confluence_writes_requests",
)


def run_scenario(
    scenario: Scenario,
    dataset: Dataset,
    ldap: OpenLdapSandbox,
    emulator: EmulatorProcess,
    out: Path,
    *,
    floors: bool = True,
    profile: bool = False,
) -> dict[str, Any]:
    load_average = [round(value, 2) for value in os.getloadavg()]
    settings = dataset.settings
    start = dataset.state(scenario.start)
    servers = {"emulator": emulator.pid, "slapd": pid_running(str(ldap.folder / "config"))}
    meter = Meter(servers)
    spec = PipelineSpec(
        ldap_uri=ldap.uri,
        ldap_bind_dn=ldap.bind_dn,
        ldap_password=ldap.password,
        confluence_url=emulator.site.base_url,
        confluence_user=emulator.site.username,
        confluence_password=emulator.site.password,
        rules=str(dataset.rules),
        out=str(out / "airflow-home"),
        watched=servers,
        profile=profile,
    )
    if floors:
        emulator.load_state(start)
        _read_floors(spec, dataset, emulator, meter)

    emulator.load_state(start)
    pipeline = run_pipeline(spec, out)
    counters = emulator.counters()
    final_in_sync = _active_part(emulator.state()) == _active_part(_state(dataset, Start.in_sync))

    if floors and pipeline["planned_operations"]:
        requests = plan_writes(Path(pipeline["plan_file"]), settings)
        for via, name in (("http.client", "confluence_writes"), ("requests", "confluence_writes_requests")):
            emulator.load_state(start)
            with meter.measure(name):
                write_floor(emulator.site, settings.confluence.max_in_flight, requests, via)

    floor_seconds = {name: round(meter.seconds[name], 3) for name in FLOORS if name in meter.seconds}
    by_method = counters["by_method"]
    return {
        "scenario": scenario.name,
        "size": asdict(dataset.idp_counts),
        "requested_size": asdict(scenario.size),
        "seed": dataset.seed,
        "confluence_start": asdict(dataset.confluence_counts(scenario.start)),
        "phases": pipeline["phases"],
        "total_seconds": pipeline["total_seconds"],
        "startup_seconds": pipeline["startup_seconds"],
        "peak_rss_bytes": pipeline["peak_rss_bytes"],
        "http_requests": by_method,
        "writes": writes(by_method),
        "planned_operations": pipeline["planned_operations"],
        "plan": pipeline["plan"],
        "failed_operations": pipeline["failed_operations"],
        "floors": floor_seconds,
        "ratios": ratios(pipeline["phases"], floor_seconds),
        "cpu": {**pipeline["cpu"], **{name: meter.cpu[name] for name in floor_seconds}},
        "checks": {
            "final_state_in_sync": final_in_sync,
            "writes_equal_planned_operations": writes(by_method) == pipeline["planned_operations"],
        },
        "load_average": load_average,
    }


def run_pipeline(spec: PipelineSpec, folder: Path) -> dict[str, Any]:
    """``python -m bench.pipeline`` in a fresh process; its result. Its logs go to pipeline.log."""
    folder.mkdir(parents=True, exist_ok=True)
    spec_file, result_file, log_file = (
        folder / name for name in ("spec.json", "result.json", "pipeline.log")
    )
    spec.write(spec_file)
    result_file.unlink(missing_ok=True)
    with log_file.open("wb") as log:
        done = subprocess.run(
            [sys.executable, "-m", "bench.pipeline", str(spec_file), str(result_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = log_file.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"the pipeline failed (exit {done.returncode}), see {log_file}:\n{tail}")
    return json.loads(result_file.read_text(encoding="utf-8"))


def _read_floors(spec: PipelineSpec, dataset: Dataset, emulator: EmulatorProcess, meter: Meter) -> None:
    settings = dataset.settings
    profile = resolve_profile(settings.directory)
    connection = open_connection(ldap_options(spec))
    try:
        searches = pipeline_searches(connection, profile)
    finally:
        connection.unbind()
    bind = Bind(spec.ldap_uri, spec.ldap_bind_dn, spec.ldap_password)
    with meter.measure("ldapsearch"):
        ldapsearch_floor(bind, searches, profile.page_size)
    with meter.measure("ldap3"):
        ldap3_floor(bind, searches, profile.page_size)
    for via, name in (("http.client", "confluence_reads"), ("requests", "confluence_reads_requests")):
        with meter.measure(name):
            read_floor(emulator.site, settings.confluence.max_in_flight, settings.confluence.page_size, via)


def _state(dataset: Dataset, start: Start) -> dict[str, Any]:
    path = dataset.state(start)
    assert path is not None
    return json.loads(path.read_text(encoding="utf-8"))


def _active_part(state: dict[str, Any]) -> tuple[dict[str, tuple[str, str]], set[str], set[tuple[str, str]]]:
    """Active users' profiles, the groups, and the active users' memberships of a state.

    Disabled accounts are left out: a run disables a leaver and keeps the account
    and its groups (for a re-enable), which a first run never creates.
    """
    active = {
        user["username"]: (user["displayName"], user.get("email", "").lower())
        for user in state["users"]
        if user.get("active", True)
    }
    memberships = {
        (group, user) for group, members in state["memberships"].items() for user in members if user in active
    }
    return active, set(state["groups"]), memberships
