"""A client for the per-test emulator site, with sleeps recorded instead of slept."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from confluence_provisioning.targets.confluence_dc import ConfluenceClient, RetryPolicy
from sandbox.confluence import EmulatorServer

# No real waiting in tests: every backoff and Retry-After is recorded by FakeSleep instead.
FAST_RETRY = RetryPolicy(
    max_attempts=4, base_delay=0.01, max_delay=0.05, budget_seconds=60, retry_after_cap=5
)


class FakeSleep(list):
    """Records each wait instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def make_client(sleeps: FakeSleep) -> Iterator[Callable[..., ConfluenceClient]]:
    """make_client(server, **options): an admin client of the server (options override)."""
    clients: list[ConfluenceClient] = []

    def make(server: EmulatorServer, **options) -> ConfluenceClient:
        username, password = server.admin_auth
        settings = {"username": username, "password": password, "retry": FAST_RETRY, "sleep": sleeps}
        client = ConfluenceClient(server.base_url, **{**settings, **options})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(confluence: EmulatorServer, make_client: Callable[..., ConfluenceClient]) -> ConfluenceClient:
    """An admin client of the fresh per-test site."""
    return make_client(confluence)


def routes(server: EmulatorServer) -> dict[str, int]:
    """Requests the emulator served, by "METHOD route"."""
    return server.emulator.counters.as_json()["by_route"]
