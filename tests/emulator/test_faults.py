"""Fault injection: seeded errors, drops, 429 bursts and latency, per method and path, changeable live."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.confluence import EmulatorServer
from tests.emulator.conftest import Client, new_user
from tests.rest_error_body import rest_error

ERRORS_ON_READS = [{"method": "GET", "path": "/rest/api/group*", "error_rate": 0.3, "statuses": [500, 503]}]


def outcomes(server: EmulatorServer, count: int) -> list[int | str]:
    """Statuses of `count` sequential reads, "drop" for a dropped connection."""
    seen: list[int | str] = []
    with Client(server, server.admin_auth) as admin:
        for _ in range(count):
            try:
                seen.append(admin.get("/rest/api/group").status_code)
            except requests.ConnectionError:
                seen.append("drop")
    return seen


def test_the_same_seed_gives_the_same_outcomes(confluence_server) -> None:
    spec = [
        {"path": "/rest/api/*", "error_rate": 0.2, "drop_rate": 0.1, "burst_429": {"rate": 0.1, "length": 2}}
    ]
    first = outcomes(confluence_server(faults=spec, seed=42), 60)
    second = outcomes(confluence_server(faults=spec, seed=42), 60)
    other = outcomes(confluence_server(faults=spec, seed=43), 60)

    assert first == second
    assert first != other
    assert {200, "drop"} <= set(first)
    assert set(first) <= {200, 500, 503, 429, "drop"}


def test_reset_replays_the_same_outcomes(confluence_server) -> None:
    server = confluence_server(faults={"seed": 5, "rules": ERRORS_ON_READS})
    first = outcomes(server, 30)
    server.reset()

    assert outcomes(server, 30) == first
    assert {500, 503} & set(first)


def test_an_injected_error_is_a_rest_error(confluence_server) -> None:
    server = confluence_server(faults=[{"error_rate": 1.0, "statuses": [503]}])
    with Client(server, server.admin_auth) as admin:
        response = admin.get("/rest/api/group")

    assert response.status_code == 503
    assert response.json() == rest_error(503, "Injected fault", "Service Unavailable")


def test_rules_match_method_and_path(confluence_server) -> None:
    server = confluence_server(faults=[{"method": "PUT", "path": "/rest/api/user/*", "error_rate": 1.0}])
    server.directory.create_user("alice", "Alice", "alice@example.com", "secret")
    with Client(server, server.admin_auth) as admin:
        assert admin.get("/rest/api/user", params={"username": "alice"}).status_code == 200
        assert admin.put("/rest/api/admin/user/alice/disable").status_code == 204
        assert admin.put("/rest/api/user/alice/group/confluence-users").status_code in (500, 503)
        assert admin.delete("/rest/api/user/alice/group/confluence-users").status_code == 204


def test_a_dropped_connection_sends_no_response(confluence_server) -> None:
    server = confluence_server(faults=[{"drop_rate": 1.0, "limit": 1}])
    with Client(server, server.admin_auth) as admin:
        with pytest.raises(requests.ConnectionError):
            admin.get("/rest/api/group")
        assert admin.get("/rest/api/group").status_code == 200  # the server goes on serving


def test_a_fault_after_the_write_hides_that_it_happened(confluence_server) -> None:
    server = confluence_server(
        faults=[{"method": "POST", "error_rate": 1.0, "statuses": [500], "after": True}]
    )
    with Client(server, server.admin_auth) as admin:
        response = admin.post("/rest/api/admin/user", json=new_user("alice"))

    assert response.status_code == 500
    assert server.directory.user("alice").display_name == "Alice"


def test_limit_stops_a_rule_after_that_many_faults(confluence_server) -> None:
    server = confluence_server(faults=[{"error_rate": 1.0, "statuses": [500], "limit": 2}])

    assert outcomes(server, 4) == [500, 500, 200, 200]


def test_a_429_burst_is_consecutive_and_carries_retry_after(confluence_server) -> None:
    server = confluence_server(
        faults=[{"burst_429": {"rate": 1.0, "length": 3, "retry_after": 7}, "limit": 3}]
    )
    with Client(server, server.admin_auth) as admin:
        responses = [admin.get("/rest/api/group") for _ in range(4)]

    assert [response.status_code for response in responses] == [429, 429, 429, 200]
    assert all(response.headers["Retry-After"] == "7" for response in responses[:3])
    assert "Rate limit exceeded." in responses[0].text


def test_latency_is_added(confluence_server) -> None:
    server = confluence_server(faults=[{"path": "/rest/api/group", "latency_ms": 150}])
    with Client(server, server.admin_auth) as admin:
        started = time.monotonic()
        assert admin.get("/rest/api/group").status_code == 200
        slow = time.monotonic() - started
        started = time.monotonic()
        admin.get("/rest/api/user/list")
        fast = time.monotonic() - started

    assert slow >= 0.15
    assert fast < 0.15


def test_faults_can_be_turned_on_mid_run(confluence: EmulatorServer, admin: Client) -> None:
    assert admin.get("/rest/api/group").status_code == 200

    response = requests.put(
        f"{confluence.admin_url}/faults",
        params={"seed": 3},
        json=[{"error_rate": 1.0, "statuses": [502]}],
        timeout=5,
    )

    assert response.status_code == 204
    assert admin.get("/rest/api/group").status_code == 502
    assert requests.get(f"{confluence.admin_url}/faults", timeout=5).json() == {
        "seed": 3,
        "rules": [
            {
                "method": "*",
                "path": "*",
                "error_rate": 1.0,
                "statuses": [502],
                "drop_rate": 0.0,
                "latency_ms": 0.0,
                "burst_429": None,
                "after": False,
                "limit": None,
                "fired": 1,
            }
        ],
    }
    # The control endpoints are never faulted.
    assert requests.put(f"{confluence.admin_url}/faults", json=[], timeout=5).status_code == 204
    assert admin.get("/rest/api/group").status_code == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"rules": [{"error_rate": 2}]},
        [{"unknown": 1}],
        "not json",
        [{"error_rate": 0.5, "statuses": []}],
        [{"burst_429": {"length": 2}}],
        ["not a rule"],
    ],
)
def test_a_bad_fault_spec_is_400(confluence: EmulatorServer, spec: object) -> None:
    response = requests.put(f"{confluence.admin_url}/faults", json=spec, timeout=5)

    assert response.status_code == 400


def test_counters_count_by_method_route_and_status(confluence_server) -> None:
    server = confluence_server(faults=[{"path": "/rest/api/group", "drop_rate": 1.0, "limit": 1}])
    server.directory.create_user("alice", "Alice", "alice@example.com", "secret")
    with Client(server, server.admin_auth) as admin:
        with pytest.raises(requests.ConnectionError):
            admin.get("/rest/api/group")
        admin.put("/rest/api/user/alice/group/confluence-users")
        admin.put("/rest/api/user/bob/group/confluence-users")
        admin.get("/rest/api/nowhere")

    counters = requests.get(f"{server.admin_url}/counters", timeout=5).json()

    assert counters == {
        "total": 4,
        "by_method": {"GET": 2, "PUT": 2},
        "by_route": {
            "GET /rest/api/group": 1,
            "PUT /rest/api/user/{username}/group/{groupName}": 2,
            "GET (unmatched)": 1,
        },
        "by_status": {"0": 1, "204": 1, "404": 2},
    }
    assert requests.delete(f"{server.admin_url}/counters", timeout=5).status_code == 204
    assert requests.get(f"{server.admin_url}/counters", timeout=5).json()["total"] == 0
