"""The transport's connection reuse: a connection the server closed while idle is replaced, not failed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from confluence_provisioning.confluence import transport
from confluence_provisioning.confluence.transport import Transport


@pytest.fixture
def closing_server() -> Iterator[tuple[str, list[int]]]:
    """An HTTP/1.1 server that answers 204 and then closes the connection, without saying so."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                accepted.append(1)
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()


def test_an_idle_connection_the_server_closed_is_replaced(closing_server, monkeypatch) -> None:
    base_url, accepted = closing_server
    monkeypatch.setattr(transport, "FRESH_SECONDS", 0.0)  # always check, however recent
    sender = Transport(base_url, {}, verify=True, timeout=(5, 5), max_in_flight=1)
    assert [sender.request("PUT", "/x").status for _ in range(3)] == [204, 204, 204]
    assert len(accepted) == 3
    sender.close()
