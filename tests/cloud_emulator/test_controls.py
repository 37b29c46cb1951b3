"""The `/__emulator/` routes shared with the Confluence emulator, on the Cloud emulator: state, counters,
faults, rate limit, the state file and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sandbox.atlassian_cloud import CloudEmulatorServer, RateLimit
from sandbox.atlassian_cloud.__main__ import main
from tests.cloud_emulator.conftest import create_group, create_user, member_ids, new_user, patch, scim_client
from tests.emulator.test_cli import free_port, wait_until_up


def test_state_is_dumped_and_loaded_with_ids_and_memberships(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    alice = create_user(api, "alice@example.com", externalId="u-1")
    group = create_group(api, "g")
    api.patch(f"/Groups/{group}", json=patch({"op": "add", "path": "members", "value": [{"value": alice}]}))
    state = httpx.get(f"{cloud.admin_url}/state").json()
    assert [user["userName"] for user in state["Users"]] == ["alice@example.com"]
    assert httpx.post(f"{cloud.admin_url}/reset").status_code == 204
    assert api.get("/Users").json()["totalResults"] == 0
    assert httpx.put(f"{cloud.admin_url}/state", json=state).status_code == 204
    assert api.get(f"/Users/{alice}").json()["externalId"] == "u-1"
    assert member_ids(api, group) == [alice]
    assert create_user(api, "bob@example.com") != alice


def test_bad_state_is_refused_naming_the_resource(cloud: CloudEmulatorServer) -> None:
    response = httpx.put(f"{cloud.admin_url}/state", json={"Users": [{"userName": "x"}]})
    assert response.status_code == 400
    assert "Users[0]: needs an id and meta.resourceType 'User'" in response.json()["detail"]


def test_counters_count_by_route_template_method_and_status(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    httpx.delete(f"{cloud.admin_url}/counters")
    user = create_user(api, "alice@example.com")
    api.get(f"/Users/{user}")
    api.get("/Users/missing")
    counters = httpx.get(f"{cloud.admin_url}/counters").json()
    assert counters["by_route"] == {
        "POST /scim/directory/{directoryId}/Users": 1,
        "GET /scim/directory/{directoryId}/Users/{userId}": 2,
    }
    assert counters["by_status"] == {"200": 1, "201": 1, "404": 1}


def test_faults_after_the_write_drop_the_answer_but_keep_the_write(
    cloud: CloudEmulatorServer, api: httpx.Client
) -> None:
    spec = [{"method": "POST", "path": "*/Groups", "drop_rate": 1.0, "after": True, "limit": 1}]
    assert httpx.put(f"{cloud.admin_url}/faults", json=spec).status_code == 204
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(
            "/Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g"}
        )
    assert api.get("/Groups", params={"filter": 'displayName eq "g"'}).json()["totalResults"] == 1


def test_429_bursts_carry_retry_after(cloud: CloudEmulatorServer, api: httpx.Client) -> None:
    spec = [{"burst_429": {"rate": 1.0, "length": 2, "retry_after": 3}, "limit": 2}]
    httpx.put(f"{cloud.admin_url}/faults", json=spec)
    first = api.get("/Users")
    assert (first.status_code, first.headers["retry-after"], first.json()["status"]) == (429, "3", "429")
    assert api.get("/Users").status_code == 429
    assert api.get("/Users").status_code == 200


def test_the_rate_limit_refuses_past_the_burst(cloud_server) -> None:
    server: CloudEmulatorServer = cloud_server(rate_limit=RateLimit(1, 60, 3))
    with scim_client(server) as api:
        statuses = [api.get("/Users").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_state_file_survives_a_restart(cloud_server, tmp_path: Path) -> None:
    path = tmp_path / "cloud.json"
    first: CloudEmulatorServer = cloud_server(state_file=path)
    with scim_client(first) as api:
        alice = create_user(api, "alice@example.com")
    first.stop()
    second: CloudEmulatorServer = cloud_server(state_file=path)
    with scim_client(second) as api:
        assert api.get(f"/Users/{alice}").json()["userName"] == "alice@example.com"


def test_the_command_line_serves_the_directory() -> None:
    port = free_port()
    command = [
        *(sys.executable, "-m", "sandbox.atlassian_cloud", "--port", str(port), "--directory-id", "d-9"),
        *("--token", "k", "--verified-domains", "example.com", "--page-cap", "2"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/scim/directory/d-9"
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert f"SCIM at {base} " in banner
        wait_until_up(f"{base}/Users", process)
        api = httpx.Client(base_url=base, headers={"Authorization": "Bearer k"})
        for n in range(3):
            create_user(api, f"u{n}@example.com")
        assert api.get("/Users").json()["itemsPerPage"] == 2
        unverified = api.post("/Users", json=new_user("a@other.com"))
        assert unverified.json()["scimType"] == "invalidValue"
    finally:
        process.terminate()
        process.wait(10)


def test_the_command_line_refuses_a_bad_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"Nope": []}))
    assert main(["--state", str(path)]) == 2
    assert f"cannot load the state file {path}" in capsys.readouterr().err
