"""`python -m sandbox.confluence` starts, answers, and keeps its state in --state."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert process.poll() is None, process.stdout.read() if process.stdout else "exited"
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.05)


def test_the_cli_serves_the_options_it_is_given(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state.json"
    command = [
        sys.executable, "-m", "sandbox.confluence", "--host", "127.0.0.1", "--port", str(port),
        "--state", str(state), "--admin-user", "root", "--admin-password", "pw", "--seats", "5",
        "--rate-limit", "100/1", "--burst", "50", "--hide-emails", "--token", "tok",
        "--faults", json.dumps([{"path": "/rest/api/group", "error_rate": 1, "statuses": [503], "limit": 1}]),
        "--seed", "1",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/__emulator/settings", process)
        auth = ("root", "pw")

        user = requests.get(f"{base}/rest/api/user", params={"username": "root"}, auth=auth, timeout=5)
        assert user.status_code == 200
        assert "email" not in user.json()
        assert user.headers["X-RateLimit-Limit"] == "50"
        assert requests.get(f"{base}/rest/api/group", auth=auth, timeout=5).status_code == 503
        created = requests.post(
            f"{base}/rest/api/admin/group",
            json={"name": "eng"},
            headers={"Authorization": "Bearer tok"},
            timeout=5,
        )
        assert created.status_code == 201
        assert requests.get(f"{base}/__emulator/settings", timeout=5).json()["seats"] == 5
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)

    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), output
    # Written at shutdown: the periodic write (every 2 s) has not come yet.
    assert "eng" in json.loads(state.read_text())["groups"]


def test_the_cli_refuses_a_bad_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"users": [{"username": "a"}, {"username": "A"}]}')

    done = subprocess.run(
        [sys.executable, "-m", "sandbox.confluence", "--port", str(free_port()), "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 2
    assert f"cannot load the state file {state}: Invalid state: duplicate usernames" in done.stderr
