"""Entra ID source reads against the Entra emulator: full, incremental (1% churn), and their floor.

    python -m bench.entra [--users 100000 --groups 5000 --memberships 1000000] [--churn 0.01] [--rounds 1]

One generated company (``bench.company``, as the LDAP benchmarks use) is served by the Entra
emulator in this process. Measured, each with wall time, CPU of this process (``cpu``: the
client and the emulator serving it; ``system_cpu``: the kernel's part of it), CPU of the
client's thread alone (``client_cpu``: the emulator answers in its server thread), time in
Python's garbage collector (``gc_seconds``), requests and the load average. Arrow's allocator is
the image's (jemalloc, see the Dockerfile) unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise.

- floor: a bare paged GET walk of the same routes with one httpx client (token, users and
  groups at 999 a page, then every group's members page by page, one request after another);
- full: the source's full read (``EntraReader`` with a state store, so it also takes the delta
  links and writes the snapshot) and the frames;
- churn 1%: renames, leavers, hires and team moves applied to the tenant (not timed);
- incremental: the next read from the saved delta links, and the frames (with BENCH_PROFILE=1,
  its cProfile in the client thread's CPU time on stderr);
- full again: a full read of the changed tenant, whose frames the incremental ones must equal,
  and the incremental read's share of it (``share_of_full``: wall time, process CPU, client CPU);
- ``--rounds N``: churn and both reads N times, each round from the last (samples of one machine
  state);
- ``--capture DIR``: the first round's saved state and delta written to DIR, for
  ``python -m bench.entra_steps DIR`` (the incremental read's local steps, each timed);
- tokens: a client credentials token by one form POST against MSAL (import, discovery, first
  token), which is how the client's token library was chosen.

Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pickle
import pstats
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pyarrow as pa
from airflow.sdk import ObjectStoragePath

from bench.company import CompanySize, add_size_arguments, generate_company
from bench.ldif import write_ldif
from bench.services import start_emulator, stop_process
from confluence_provisioning import storage
from confluence_provisioning.audit import AuditStore
from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.settings import EntraSourceSettings
from confluence_provisioning.sources import SourceContext
from confluence_provisioning.sources.entra.client import GraphClient
from confluence_provisioning.sources.entra.hook import EntraOptions
from confluence_provisioning.sources.entra.reading import EntraReader
from confluence_provisioning.sources.entra.tenant import snapshot, user_properties
from confluence_provisioning.sources.incremental import SourceStates
from sandbox.entra import EntraEmulatorServer
from sandbox.entra.config import EntraConfig
from sandbox.openldap.process import free_port

SUFFIX = "dc=example,dc=com"
SETTINGS = EntraSourceSettings(login_attribute="onPremisesSamAccountName", extra_attributes=["department"])


MEASURED: dict[str, dict[str, Any]] = {}  # the last line of each measure


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _system_cpu() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


class _Collections:
    """Wall time in Python's cyclic garbage collector, and full (generation 2) collections."""

    def __init__(self) -> None:
        self.seconds, self.full, self._started = 0.0, 0, 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.full += info["generation"] == 2


def measure(name: str, work: Callable[[], Any], requests: Callable[[], int], **extra: Any) -> Any:
    before_requests, wall, cpu, client = requests(), time.perf_counter(), _cpu(), time.thread_time()
    system = _system_cpu()
    collections = _Collections()
    gc.callbacks.append(collections)
    try:
        result = work()
    finally:
        gc.callbacks.remove(collections)
    line = {
        "measure": name,
        "seconds": round(time.perf_counter() - wall, 2),
        "cpu": round(_cpu() - cpu, 2),
        "client_cpu": round(time.thread_time() - client, 2),  # this thread: the emulator serves in another
        "system_cpu": round(_system_cpu() - system, 2),  # of "cpu": the kernel's (memory faults, I/O)
        "gc_seconds": round(collections.seconds, 2),  # both threads: the emulator's heap is in this process
        "gc_full": collections.full,
        "requests": requests() - before_requests,
        "load": round(os.getloadavg()[0], 1),  # other sessions' work: CPU seconds stay comparable
        **extra,
    }
    print(json.dumps(line), flush=True)
    MEASURED[name] = line
    return result


def floor_walk(server: EntraEmulatorServer, page: int) -> int:
    """The bare walk: every page of the routes the read uses, one GET after another; returns requests."""
    select = ",".join(user_properties(SETTINGS))
    with httpx.Client(timeout=120) as http:
        token = http.post(server.token_url, data=server.token_form).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        sent = 1

        def walk(url: str) -> list[dict[str, Any]]:
            nonlocal sent
            items: list[dict[str, Any]] = []
            while url:
                body = http.get(url).json()
                sent += 1
                items.extend(body["value"])
                url = body.get("@odata.nextLink")
            return items

        base = f"{server.graph_url}/v1.0"
        walk(f"{base}/users?$select={select}&$top={page}")
        for group in walk(f"{base}/groups?$select=id,displayName&$top={page}"):
            walk(f"{base}/groups/{group['id']}/members?$select=id&$top={page}")
    return sent


def churn_ldif(server: EntraEmulatorServer, share: float, seed: int) -> str:
    """LDIF change records touching ``share`` of the users: renames, leavers, hires, team moves."""
    model = server.directory.model
    rng = np.random.default_rng(seed)
    people = sorted(u.dn for u in model.users.values() if ",ou=people," in u.dn)
    teams = sorted(g.dn for g in model.groups.values() if g.name.startswith("team-"))
    count = max(4, round(len(people) * share))
    chosen = rng.choice(len(people), size=count, replace=False)
    records: list[str] = []
    for n, index in enumerate(chosen):
        dn = people[index]
        kind = n % 4
        if kind == 0:
            records.append(
                f"dn: {dn}\nchangetype: modify\nreplace: displayName\ndisplayName: Renamed {n}\n-\n"
            )
        elif kind == 1:
            records.append(f"dn: {dn}\nchangetype: delete\n")
        elif kind == 2:
            uid = f"hire{seed}-{n}"  # a later round (another seed) hires other people
            new = f"uid={uid},ou=people,{SUFFIX}"
            records.append(
                f"dn: {new}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: Hire {n}\n"
                f"sn: Hire\nmail: {uid}@example.com\n"
            )
            records.append(
                f"dn: {teams[n % len(teams)]}\nchangetype: modify\nadd: member\nmember: {new}\n-\n"
            )
        else:
            home = next((g for g in model.groups.values() if g.name.startswith("team-")
                         and model.entry(dn).id in g.members), None)  # fmt: skip
            if home is None:
                continue
            target = teams[(teams.index(home.dn) + 1) % len(teams)]
            records.append(f"dn: {home.dn}\nchangetype: modify\ndelete: member\nmember: {dn}\n-\n")
            records.append(f"dn: {target}\nchangetype: modify\nadd: member\nmember: {dn}\n-\n")
    return "\n".join(records)


def token_costs(server: EntraEmulatorServer, rounds: int) -> None:
    """Client overhead of a token: one form POST, against MSAL (through the same HTTP session)."""
    options = _options(server)
    with GraphClient(options) as client:
        measure("token_post", lambda: [client._new_token() for _ in range(rounds)], lambda: 0, rounds=rounds)
    started = time.perf_counter()
    import msal

    import_seconds = time.perf_counter() - started
    http = _RewritingSession(server.graph_url)
    authority = f"https://login.emulated.test/{server.config.tenant}"

    def first_token() -> None:
        app = msal.ConfidentialClientApplication(
            server.config.client_id,
            client_credential=server.config.client_secret,
            authority=authority,
            http_client=http,
            instance_discovery=False,
        )
        result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
        assert "access_token" in result, result

    measure("token_msal_first", first_token, lambda: http.sent, import_seconds=round(import_seconds, 2))
    measure("token_msal_fresh_apps", lambda: [first_token() for _ in range(rounds)], lambda: http.sent,
            rounds=rounds)  # fmt: skip


class _RewritingSession(httpx.Client):
    """What MSAL gets as its HTTP client: its https authority is the emulator's plain HTTP address."""

    def __init__(self, target: str) -> None:
        super().__init__(timeout=60)
        self.target = target
        self.sent = 0

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        self.sent += 1
        kwargs.pop("verify", None)
        if "data" in kwargs and isinstance(kwargs["data"], dict):
            kwargs["data"] = {k: v for k, v in kwargs["data"].items() if v is not None}
        return super().request(method, str(url).replace("https://login.emulated.test", self.target), *args,
                               **kwargs)  # fmt: skip

    def get(self, url: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        kwargs.pop("allow_redirects", None)
        response = self.request(
            "GET", url, params=kwargs.pop("params", None), headers=kwargs.pop("headers", None)
        )
        # the discovery document names the emulator's address: show MSAL the https one it asked
        content = response.content.replace(self.target.encode(), b"https://login.emulated.test")
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def post(self, url: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        kwargs.pop("allow_redirects", None)
        return self.request("POST", url, data=kwargs.get("data"), headers=kwargs.get("headers"),
                            params=kwargs.get("params"))  # fmt: skip


def _options(server: EntraEmulatorServer | EntraEmulatorProcess) -> EntraOptions:
    return EntraOptions(
        graph_url=server.graph_url,
        authority=server.authority,
        tenant_id=server.config.tenant,
        client_id=server.config.client_id,
        client_secret=server.config.client_secret,
    )


class EntraEmulatorProcess:
    """``python -m sandbox.entra`` serving an LDIF as a tenant in its own process, on a free port.

    In its own process, unlike ``EntraEmulatorServer``, so that a DAG run's tasks reach it and it
    never shares a GIL with them (``bench.dag_runs --source entra``).
    """

    START_TIMEOUT = 1800.0  # a 100,000-user LDIF becomes a tenant in minutes on a busy machine
    config = EntraConfig()

    def __init__(self, ldif: Path, log_file: Path) -> None:
        self.port = free_port()
        self.graph_url = self.authority = f"http://127.0.0.1:{self.port}"
        module = ("sandbox.entra", "--port", str(self.port), "--ldif", str(ldif))
        self.process = start_emulator(module, self.port, log_file, timeout=self.START_TIMEOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def connection(self) -> dict[str, Any]:
        """The ``entra_id`` connection (README, "Entra ID as the source"): host and authority its URL."""
        return {
            "conn_type": "entra_id",
            "host": self.graph_url,
            "login": self.config.client_id,
            "password": self.config.client_secret,
            "extra": {"tenant_id": self.config.tenant, "authority": self.authority},
        }

    def frames(self, settings: EntraSourceSettings) -> SourceSnapshot:
        """What the Entra source reads from the tenant (a full read, no state kept)."""
        with GraphClient(_options(self)) as client:
            return snapshot(EntraReader(client, settings).read_all(with_links=False)[0], settings)

    def stop(self) -> None:
        stop_process(self.process)


def incremental_vs_full(
    reader: EntraReader, context: SourceContext, served: Callable[[], int], round_: int, capture: Path | None
) -> None:
    """The incremental read of the changes, then a full read of the same tenant: equal frames, and
    the incremental read's share of the full read's wall time and CPU (process and client).

    With ``capture``, the saved state and the delta are first written there (``bench.entra_steps``
    times the read's local steps on them); reading a delta changes nothing, so the measured read
    gets the same one."""
    if capture is not None:
        capture_state_and_delta(reader, context, capture)

    def incremental_read() -> SourceSnapshot:
        return reader.read(context)[0].frames(SETTINGS)

    def full_read_again() -> SourceSnapshot:
        return snapshot(reader.read_all(with_links=False)[0], SETTINGS)

    profile = cProfile.Profile(time.thread_time) if os.environ.get("BENCH_PROFILE") else None
    if profile:  # where the incremental read spends its time (on stderr)
        profile.enable()
    incremental = measure("incremental_read", incremental_read, served, round=round_)
    if profile:
        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    again = measure("full_read_after_churn", full_read_again, served, round=round_)
    for name in ("users", "groups", "memberships"):
        pd.testing.assert_frame_equal(getattr(incremental, name), getattr(again, name), obj=name)
    part, whole = MEASURED["incremental_read"], MEASURED["full_read_after_churn"]
    shares = {key: round(part[key] / whole[key], 3) for key in ("seconds", "cpu", "client_cpu")}
    print(json.dumps({"measure": "incremental_equals_full", "ok": True, "round": round_,
                      "share_of_full": shares}), flush=True)  # fmt: skip


def capture_state_and_delta(reader: EntraReader, context: SourceContext, folder: Path) -> None:
    """The saved state's tables as Arrow files and the delta since them, pickled, in ``folder``."""
    assert context.states is not None
    saved, why = context.states.load(reader.state_key, reader.state_digest)
    if saved is None:
        raise RuntimeError(f"no saved state to capture: {why}")
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in saved.tables.items():
        storage.write_arrow_table(ObjectStoragePath(f"file://{folder}"), name, table)
    delta, _ = reader.read_changes(saved.cursor)
    (folder / "delta.pickle").write_bytes(pickle.dumps(delta))
    print(json.dumps({"measure": "captured", "folder": str(folder)}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.entra", description=__doc__)
    add_size_arguments(parser)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=1, help="churn and read again this many times")
    parser.add_argument("--capture", type=Path, help="write the first round's saved state and delta here")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--token-rounds", type=int, default=20)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-entra-"))
    os.environ.setdefault("AIRFLOW_HOME", str(work / "airflow"))
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:  # Arrow's allocator as the image sets it (Dockerfile)
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    size = CompanySize(args.users, args.groups, args.memberships)
    ldif = work / "company.ldif"
    started = time.perf_counter()
    write_ldif(generate_company(size, args.seed, SUFFIX), ldif)
    took = round(time.perf_counter() - started, 1)
    pool = pa.default_memory_pool().backend_name
    print(json.dumps({"measure": "setup_ldif", "seconds": took, "arrow_pool": pool}), flush=True)
    started = time.perf_counter()
    with EntraEmulatorServer(ldif=ldif) as server:
        tenant = server.directory.tenant
        memberships = sum(len(m) for m in tenant.members.values())
        print(json.dumps({"measure": "setup_emulator", "seconds": round(time.perf_counter() - started, 1),
                          "users": len(tenant.ids("user")), "groups": len(tenant.ids("group")),
                          "direct_memberships": memberships}), flush=True)  # fmt: skip

        def served() -> int:  # HTTP requests the emulator answered ($batch counts once)
            routes = server.emulator.counters.as_json()["by_route"]
            return sum(count for route, count in routes.items() if not route.startswith("GET $batch"))

        measure("floor_get_walk", lambda: floor_walk(server, 999), served)
        with AuditStore(f"sqlite:///{work / 'audit.db'}") as audit:
            context = SourceContext(states=SourceStates(audit, ObjectStoragePath(f"file://{work / 'runs'}")))
            # what a worker has done before a source read: load the object storage machinery
            warm = storage.write_frame(ObjectStoragePath(f"file://{work}"), "warm", pd.DataFrame({"a": [1]}))
            storage.read_frame(warm)
            with GraphClient(_options(server)) as client:
                reader = EntraReader(client, SETTINGS)
                full = measure("full_read", lambda: reader.read(context)[0].frames(SETTINGS), served)
                print(json.dumps({"measure": "frames", "users": len(full.users), "groups": len(full.groups),
                                  "memberships": len(full.memberships)}), flush=True)  # fmt: skip
                for round_ in range(args.rounds):  # each round: new churn, then both reads of it
                    changes = churn_ldif(server, args.churn, args.seed + round_)
                    started = time.perf_counter()
                    counts = server.directory.apply_ldif(changes)
                    took = round(time.perf_counter() - started, 1)
                    print(json.dumps({"measure": "setup_churn", "round": round_, "seconds": took, **counts}),
                          flush=True)  # fmt: skip
                    capture = args.capture if round_ == 0 else None
                    incremental_vs_full(reader, context, served, round_, capture)
        token_costs(server, args.token_rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
