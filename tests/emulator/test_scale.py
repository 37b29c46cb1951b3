"""Scale: a 100,000-user site loads in seconds and pages through without per-request scans."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.confluence import EmulatorServer
from tests.emulator.conftest import Client

USERS = 100_000
GROUPS = 5_000


@pytest.mark.slow
def test_a_large_site_loads_and_pages_quickly(confluence: EmulatorServer) -> None:
    names = [f"user{i:06d}" for i in range(USERS)]
    state = {
        "users": [{"username": name, "displayName": name, "email": f"{name}@example.com"} for name in names],
        "groups": ["confluence-users", *(f"group{i:04d}" for i in range(GROUPS))],
        "memberships": {
            "confluence-users": names,
            **{f"group{i:04d}": names[i * 20 : i * 20 + 20] for i in range(GROUPS)},
        },
    }

    started = time.monotonic()
    assert requests.put(f"{confluence.admin_url}/state", json=state, timeout=60).status_code == 204
    loaded = time.monotonic() - started

    started = time.monotonic()
    seen = 0
    with Client(confluence, confluence.admin_auth) as admin:
        url = "/rest/api/user/list?limit=1000"
        while url:
            page = admin.get(url).json()
            seen += len(page["results"])
            url = page["_links"].get("next")
        for _ in range(200):  # writes to the biggest group stay cheap
            assert admin.put("/rest/api/user/user000001/group/group0042").status_code == 204
    walked = time.monotonic() - started

    assert seen == USERS + 1
    # Generous bounds (a loaded CI machine); a scan per request would take minutes.
    assert loaded < 20
    assert walked < 20
