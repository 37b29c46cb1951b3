"""Rate limiting: per-user token buckets, headers on every response, 429 with an HTML body."""

from __future__ import annotations

import time

import requests

from sandbox.confluence import RateLimit
from tests.emulator.conftest import Client, new_user

SLOW = RateLimit(fill_rate=1, interval_seconds=60, burst=3)


def test_every_response_carries_the_rate_limit_headers(confluence_server) -> None:
    server = confluence_server(rate_limit=SLOW)
    with Client(server, server.admin_auth) as admin:
        responses = [admin.get("/rest/api/group") for _ in range(4)]
        responses.append(admin.get("/rest/api/group/ghosts"))

    assert [response.status_code for response in responses] == [200, 200, 200, 429, 429]
    for response, remaining in zip(responses, ["2", "1", "0", "0", "0"], strict=True):
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == remaining
        assert response.headers["X-RateLimit-Interval-Seconds"] == "60"
        assert response.headers["X-RateLimit-FillRate"] == "1"
    assert [response.headers["Retry-After"] for response in responses[:3]] == ["0", "0", "0"]
    assert 59 <= int(responses[3].headers["Retry-After"]) <= 60


def test_429_has_an_html_body(confluence_server) -> None:
    server = confluence_server(rate_limit=RateLimit(1, 60, 1))
    with Client(server, server.admin_auth) as admin:
        admin.get("/rest/api/group")
        response = admin.post("/rest/api/admin/user", json=new_user("alice"))

    assert response.status_code == 429
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Rate limit exceeded." in response.text
    assert server.directory.users_page(0, 10)[1] == 1  # the refused write did not happen


def test_each_user_has_a_bucket(confluence_server) -> None:
    server = confluence_server(rate_limit=RateLimit(1, 60, 1))
    server.directory.create_user("alice", "Alice", "alice@example.com", "secret")
    with Client(server, server.admin_auth) as admin, Client(server, ("alice", "secret")) as alice:
        assert admin.get("/rest/api/group").status_code == 200
        assert admin.get("/rest/api/group").status_code == 429
        assert alice.get("/rest/api/group").status_code == 200


def test_tokens_come_back_at_the_fill_rate(confluence_server) -> None:
    server = confluence_server(rate_limit=RateLimit(fill_rate=20, interval_seconds=1, burst=1))
    with Client(server, server.admin_auth) as admin:
        assert admin.get("/rest/api/group").status_code == 200
        refused = admin.get("/rest/api/group")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        time.sleep(0.06)
        assert admin.get("/rest/api/group").status_code == 200


def test_rate_limiting_is_off_by_default_and_can_be_switched_at_run_time(confluence, admin: Client) -> None:
    assert "X-RateLimit-Limit" not in admin.get("/rest/api/group").headers

    on = requests.put(
        f"{confluence.admin_url}/rate-limit",
        json={"fill_rate": 1, "interval_seconds": 60, "burst": 1},
        timeout=5,
    )
    assert on.status_code == 204
    assert requests.get(f"{confluence.admin_url}/rate-limit", timeout=5).json() == {
        "fill_rate": 1,
        "interval_seconds": 60,
        "burst": 1,
    }
    assert [admin.get("/rest/api/group").status_code for _ in range(2)] == [200, 429]
    # The control endpoints are never limited.
    assert requests.get(f"{confluence.admin_url}/settings", timeout=5).status_code == 200

    assert requests.put(f"{confluence.admin_url}/rate-limit", data="null", timeout=5).status_code == 204
    assert admin.get("/rest/api/group").status_code == 200
    requests.put(
        f"{confluence.admin_url}/rate-limit", json={"fill_rate": 1, "interval_seconds": 60, "burst": 1}
    )
    assert requests.delete(f"{confluence.admin_url}/rate-limit", timeout=5).status_code == 204
    assert requests.get(f"{confluence.admin_url}/rate-limit", timeout=5).json() is None


def test_a_bad_rate_limit_is_400(confluence) -> None:
    response = requests.put(f"{confluence.admin_url}/rate-limit", json={"fill_rate": 0}, timeout=5)

    assert response.status_code == 400


def test_rate_limit_spec_parsing() -> None:
    assert RateLimit.parse("10/2", 30) == RateLimit(10, 2, 30)
    assert RateLimit.parse("5/1") == RateLimit(5, 1, 5)
