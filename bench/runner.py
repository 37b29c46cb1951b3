"""One scenario end to end: the read floors, the pipeline, the write floors, the checks.

Every measurement starts from the scenario's Confluence state, loaded into the
emulator with its counters zeroed, so the pipeline and the floors see the same
site. The pipeline and the floors each run in a fresh process (``bench.pipeline``,
``bench.floors``): the pipeline's peak memory is then its own, and neither pays
for the objects of the generated company this process holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.dataset import Dataset, Start
from bench.measure import pid_running
from bench.results import FLOORS_OF, ratios, writes
from bench.scenarios import Scenario
from bench.services import EmulatorProcess
from bench.spec import PipelineSpec
from sandbox.openldap import OpenLdapSandbox

READS = (*FLOORS_OF["extract_source"], *FLOORS_OF["extract_target"])
WRITES = FLOORS_OF["apply"]


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
    start = dataset.state(scenario.start)
    servers = {"emulator": emulator.pid, "slapd": pid_running(str(ldap.folder / "config"))}
    spec = pipeline_spec(dataset, ldap, emulator, out / "airflow-home", watched=servers, profile=profile)
    measured: dict[str, dict[str, Any]] = {}
    if floors:
        emulator.load_state(start)
        measured.update(_floors(spec, out, list(READS)))

    emulator.load_state(start)
    pipeline = _in_fresh_process("bench.pipeline", asdict(spec), out / "pipeline")
    counters = emulator.counters()
    final_in_sync = _active_part(emulator.state()) == _active_part(_state(dataset, Start.in_sync))

    if floors and pipeline["planned_operations"]:
        for name in WRITES:
            emulator.load_state(start)
            measured.update(_floors(spec, out, [name], plan_file=pipeline["plan_file"]))

    floor_seconds = {name: values["seconds"] for name, values in measured.items()}
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
        "peak_rss_by_phase": pipeline["peak_rss_by_phase"],
        "baseline_rss_bytes": pipeline["baseline_rss_bytes"],
        "http_requests": by_method,
        "writes": writes(by_method),
        "planned_operations": pipeline["planned_operations"],
        "plan": pipeline["plan"],
        "failed_operations": pipeline["failed_operations"],
        "floors": floor_seconds,
        "ratios": ratios(pipeline["phases"], floor_seconds),
        "cpu": {**pipeline["cpu"], **{name: values["cpu"] for name, values in measured.items()}},
        "checks": {
            "final_state_in_sync": final_in_sync,
            "writes_equal_planned_operations": writes(by_method) == pipeline["planned_operations"],
        },
        "load_average": load_average,
    }


def pipeline_spec(
    dataset: Dataset, ldap: OpenLdapSandbox, emulator: EmulatorProcess, home: Path, **options: Any
) -> PipelineSpec:
    """The pipeline's run of ``dataset``'s rules against these servers, with ``home`` as AIRFLOW_HOME."""
    return PipelineSpec(
        ldap_uri=ldap.uri,
        ldap_bind_dn=ldap.bind_dn,
        ldap_password=ldap.password,
        confluence_url=emulator.site.base_url,
        confluence_user=emulator.site.username,
        confluence_password=emulator.site.password,
        rules=str(dataset.rules),
        out=str(home),
        **options,
    )


def _floors(
    spec: PipelineSpec, folder: Path, names: list[str], plan_file: str | None = None
) -> dict[str, Any]:
    """``python -m bench.floors``: seconds and CPU per floor."""
    request = {**asdict(spec), "plan_file": plan_file}
    return _in_fresh_process("bench.floors", request, folder / f"floors-{names[0]}", *names)


def _in_fresh_process(module: str, spec: dict[str, Any], stem: Path, *names: str) -> dict[str, Any]:
    """``python -m module SPEC RESULT [names]``; its JSON result. Its output goes to ``<stem>.log``."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    spec_file, result_file, log_file = (
        stem.with_name(stem.name + suffix) for suffix in ("-spec.json", "-result.json", ".log")
    )
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    result_file.unlink(missing_ok=True)
    with log_file.open("wb") as log:
        done = subprocess.run(
            [sys.executable, "-m", module, str(spec_file), str(result_file), *names],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = log_file.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"python -m {module} failed (exit {done.returncode}), see {log_file}:\n{tail}")
    return json.loads(result_file.read_text(encoding="utf-8"))


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
