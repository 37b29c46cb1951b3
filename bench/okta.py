"""python -m bench.okta [--users N] [--groups N] [--memberships N] [--churn F]: Okta reads at scale.

Against the Okta emulator in its own process (`python -m sandbox.okta --state FILE`), holding a
generated org of `--users` users (1% SUSPENDED, 1% DEPROVISIONED), `--groups` OKTA_GROUPs and
`--memberships` memberships, it measures, each beside the others:

- floor: a bare paged walk of the same routes the full read asks (users with the all-statuses
  filter, 200 a page; groups; each group's members, 1000 a page, 4 groups at a time), with
  keep-alive `http.client` connections and the bodies decoded by msgspec (member pages to their
  ids only, as the reader does), nothing else;
- full: `reading.read_full` and the frames (`reading.snapshot`);
- churn: `--churn` of the users changed through the emulator's control routes (a third
  deactivated, a third renamed, a third moved between groups) and 0.1% new hires;
- incremental: `reading.read_incremental` from the full read's state, and the frames;
- then 0.05% of the users deleted, and another incremental read (deletions are found through
  the Everyone group, whose member ids are then walked).

Prints one JSON line per phase (wall seconds, CPU seconds of this process and the emulator,
requests) and a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import string
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
import requests

from bench.company import add_size_arguments
from bench.measure import Meter
from bench.services import start_emulator, stop_process
from confluence_provisioning.settings import OktaSourceSettings
from confluence_provisioning.sources.okta import reading
from confluence_provisioning.sources.okta.auth import ApiToken
from confluence_provisioning.sources.okta.client import OktaClient

TOKEN = "bench-token"


class _Id(msgspec.Struct):
    id: str


_ANY = msgspec.json.Decoder()
_IDS = msgspec.json.Decoder(list[_Id])  # member pages: ids only, as the reader decodes them
_LINK_NEXT = '>; rel="next"'
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase  # in ASCII order, as Okta-like ids


def okta_id(prefix: str, number: int) -> str:
    digits = []
    for _ in range(17):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return prefix + "".join(reversed(digits))


def generate(users: int, groups: int, memberships: int, seed: int = 7) -> dict[str, Any]:
    """An org as the emulator's state JSON."""
    rng = random.Random(seed)
    user_ids = [okta_id("00u", n + 1) for n in range(users)]
    state_users = []
    for n, user_id in enumerate(user_ids):
        status = "SUSPENDED" if n % 100 == 1 else "DEPROVISIONED" if n % 100 == 2 else "ACTIVE"
        login = f"user{n}@example.com"
        profile = {
            "login": login,
            "email": login,
            "firstName": f"First{n}",
            "lastName": f"Last{n}",
            "displayName": f"First{n} Last{n}",
            "department": f"dept-{n % 50}",
        }
        state_users.append({"id": user_id, "status": status, "profile": profile})
    per_group = memberships // groups
    state_groups = []
    for g in range(groups):
        members = sorted(rng.sample(user_ids, per_group))
        state_groups.append(
            {
                "id": okta_id("00g", g + 10),
                "type": "OKTA_GROUP",
                "profile": {"name": f"group-{g}"},
                "members": members,
            }
        )
    return {"version": 1, "users": state_users, "groups": state_groups}


class Emulator:
    def __init__(self, state: Path, port: int, log: Path) -> None:
        module = [
            "sandbox.okta", "--port", str(port), "--token", TOKEN, "--state", str(state),
            "--save-interval", "3600",
        ]  # fmt: skip
        self.process = start_emulator(module, port, log, timeout=600, poll=0.2)
        self.url = f"http://127.0.0.1:{port}"

    def counters(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/__emulator/counters", timeout=30).json()

    def clear(self) -> None:
        requests.delete(f"{self.url}/__emulator/counters", timeout=30)

    def stop(self) -> None:
        stop_process(self.process, grace=120)


def bare_walk(url: str, settings: OktaSourceSettings) -> int:
    """The floor: the full read's requests, decoded, nothing kept; returns the requests sent."""
    where = urlsplit(url)
    headers = {"Authorization": f"SSWS {TOKEN}", "Accept": "application/json"}
    local = threading.local()
    sent = [0]
    lock = threading.Lock()

    def get(target: str) -> http.client.HTTPResponse:
        """One GET on this thread's keep-alive connection (a new one when the server closed it idle)."""
        for _ in range(2):
            connection = getattr(local, "connection", None)
            if connection is None:
                connection = local.connection = http.client.HTTPConnection(where.hostname, where.port)
            try:
                connection.request("GET", target, headers=headers)
                return connection.getresponse()
            except (http.client.RemoteDisconnected, ConnectionError):
                connection.close()
                local.connection = None
        raise RuntimeError(f"GET {target}: the emulator keeps closing the connection")

    def pages(target: str, decoder: msgspec.json.Decoder = _ANY) -> list[list[Any]]:
        found = []
        next_target: str | None = target
        while next_target:
            response = get(next_target)
            found.append(decoder.decode(response.read()))
            with lock:
                sent[0] += 1
            links = response.headers.get_all("Link") or []
            nexts = [link for link in links if link.endswith(_LINK_NEXT)]
            next_target = None
            if nexts:
                parts = urlsplit(nexts[0][1 : -len(_LINK_NEXT)])
                next_target = f"{parts.path}?{parts.query}"
        return found

    users = {"filter": reading.ALL_STATUSES_FILTER, "limit": settings.page_size}
    pages(f"/api/v1/users?{urlencode(users)}")
    group_pages = pages(f"/api/v1/groups?{urlencode({'limit': settings.group_page_size, 'expand': 'stats'})}")
    group_ids = [group["id"] for page in group_pages for group in page if group["type"] == "OKTA_GROUP"]
    limit = settings.member_page_size
    with ThreadPoolExecutor(settings.max_in_flight) as pool:
        list(pool.map(lambda gid: pages(f"/api/v1/groups/{gid}/users?limit={limit}", _IDS), group_ids))
    return sent[0]


def churn(url: str, users: int, share: float, seed: int = 11) -> dict[str, int]:
    """Changes through the control routes; returns how many of each."""
    rng = random.Random(seed)
    admin = requests.Session()
    changed = rng.sample(range(users), int(users * share))
    third = len(changed) // 3
    for n in changed[:third]:
        admin.put(
            f"{url}/__emulator/users/user{n}@example.com/status", json={"status": "DEPROVISIONED"}, timeout=30
        )
    for n in changed[third : 2 * third]:
        admin.patch(
            f"{url}/__emulator/users/user{n}@example.com",
            json={"profile": {"lastName": "Renamed"}},
            timeout=30,
        )
    for i, n in enumerate(changed[2 * third :]):
        admin.put(f"{url}/__emulator/groups/group-{i % 97}/users/user{n}@example.com", timeout=30)
    hires = max(1, users // 1000)
    for n in range(hires):
        login = f"hire{n}@example.com"
        admin.post(f"{url}/__emulator/users", json={"profile": {"login": login, "email": login}}, timeout=30)
        admin.put(f"{url}/__emulator/groups/group-{n % 97}/users/{login}", timeout=30)
    return {"deactivated": third, "renamed": third, "moved": len(changed) - 2 * third, "hired": hires}


def delete_users(url: str, users: int, seed: int = 13) -> dict[str, int]:
    """0.05% of the users deleted for good (they leave their groups and Everyone)."""
    deleted = max(1, users // 2000)
    admin = requests.Session()
    for n in random.Random(seed).sample(range(users), deleted):
        admin.delete(f"{url}/__emulator/users/user{n}@example.com", timeout=30)
    return {"deleted": deleted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.okta", description=__doc__)
    add_size_arguments(parser)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--port", type=int, default=8391)
    args = parser.parse_args(argv)
    settings = OktaSourceSettings(extra_attributes=["department"], incremental_overlap_seconds=0)
    with tempfile.TemporaryDirectory(prefix="okta-bench-") as folder:
        state_file = Path(folder) / "org.json"
        state_file.write_text(
            json.dumps(generate(args.users, args.groups, args.memberships)), encoding="utf-8"
        )
        emulator = Emulator(state_file, args.port, Path(folder) / "emulator.log")
        rows: list[dict[str, Any]] = []
        try:
            time.sleep(1.1)  # the org's timestamps are from the load: the reads' cursors come after
            meter = Meter({"emulator": emulator.process.pid})

            def phase(name: str, work: Any) -> Any:
                emulator.clear()
                with meter.measure(name):
                    result = work()
                rows.append(
                    {
                        "phase": name,
                        "seconds": round(meter.seconds[name], 2),
                        "cpu": {key: round(value, 2) for key, value in meter.cpu[name].items()},
                        "requests": emulator.counters()["total"],
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
                return result

            phase("floor: bare paged walk", lambda: bare_walk(emulator.url, settings))

            def full() -> reading.OktaState:
                with OktaClient(
                    emulator.url, ApiToken(TOKEN), max_in_flight=settings.max_in_flight
                ) as client:
                    state, _ = reading.read_full(client, settings)
                reading.snapshot(state, settings)
                return state

            state = phase("full read + frames", full)
            time.sleep(1.1)
            changes = phase(
                "churn (control routes, not a read)", lambda: churn(emulator.url, args.users, args.churn)
            )
            print(json.dumps({"churn": changes}), flush=True)

            def incremental(previous: reading.OktaState) -> reading.OktaState:
                with OktaClient(
                    emulator.url, ApiToken(TOKEN), max_in_flight=settings.max_in_flight
                ) as client:
                    new_state, _ = reading.read_incremental(client, settings, previous)
                reading.snapshot(new_state, settings)
                return new_state

            state = phase("incremental read + frames", lambda: incremental(state))
            time.sleep(1.1)
            deletions = phase(
                "deletions (control routes, not a read)", lambda: delete_users(emulator.url, args.users)
            )
            print(json.dumps({"deletions": deletions}), flush=True)
            phase("incremental read after deletions + frames", lambda: incremental(state))
        finally:
            emulator.stop()
    floor = rows[0]["seconds"]
    print("\n| phase | seconds | x floor | requests | CPU s (bench / emulator) |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        cpu = row["cpu"]
        print(
            f"| {row['phase']} | {row['seconds']:.2f} | {row['seconds'] / floor:.2f} | {row['requests']:,} | "
            f"{cpu.get('self', 0):.1f} / {cpu.get('emulator', 0):.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
