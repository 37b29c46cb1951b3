"""An HTTP client for the Entra emulator contract tests (fixtures: tests.fixtures.entra)."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from sandbox.entra import EntraEmulatorServer

PEOPLE = "ou=people,dc=example,dc=com"
GROUPS = "ou=groups,dc=example,dc=com"
# One TLS context for every client: building one costs a tenth of a second, and the tests make many.
TLS = ssl.create_default_context()
HTTP = httpx.Client(verify=TLS, timeout=10)  # for requests without a token (token endpoint, controls)


class Graph(httpx.Client):
    """A client holding a token from the emulator's token endpoint; relative URLs are below /v1.0/."""

    def __init__(self, server: EntraEmulatorServer) -> None:
        super().__init__(base_url=server.graph_url + "/v1.0/", timeout=10, verify=TLS)
        self.server = server
        token = HTTP.post(server.token_url, data=server.token_form).json()["access_token"]
        self.headers["Authorization"] = f"Bearer {token}"

    def walk(self, url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(every object, every page body) following @odata.nextLink to the end."""
        items: list[dict[str, Any]] = []
        pages: list[dict[str, Any]] = []
        next_url: str | None = url
        while next_url is not None:
            response = self.get(next_url)
            assert response.status_code == 200, response.text
            body = response.json()
            pages.append(body)
            items.extend(body["value"])
            next_url = body.get("@odata.nextLink")
            assert len(pages) < 1000, "a nextLink loop"
        return items, pages

    def id_of(self, dn: str) -> str:
        entry = self.server.directory.model.entry(dn)
        assert entry is not None, dn
        return entry.id


@pytest.fixture
def graph(entra: EntraEmulatorServer) -> Graph:
    with Graph(entra) as client:
        yield client
