"""HTTP clients for the emulator contract tests (the emulator fixtures are in tests.fixtures.confluence)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.confluence import EmulatorServer


class Client(requests.Session):
    """A requests session whose URLs are relative to the emulated site's base URL."""

    def __init__(self, server: EmulatorServer, auth: Any = None, bearer: str | None = None) -> None:
        super().__init__()
        self.base_url = server.base_url
        self.auth = auth
        if bearer is not None:
            self.headers["Authorization"] = f"Bearer {bearer}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        url = url.decode() if isinstance(url, bytes) else url
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


def new_user(name: str, **overrides: Any) -> dict[str, Any]:
    """A valid `POST /rest/api/admin/user` body."""
    body = {"userName": name, "fullName": name.title(), "email": f"{name}@example.com", "password": "secret"}
    body.update(overrides)
    return body


@pytest.fixture
def admin(confluence: EmulatorServer) -> Iterator[Client]:
    with Client(confluence, confluence.admin_auth) as client:
        yield client


@pytest.fixture
def anonymous(confluence: EmulatorServer) -> Iterator[Client]:
    with Client(confluence) as client:
        yield client
