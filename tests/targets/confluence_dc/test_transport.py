"""The transport's connection reuse: a connection the server closed while idle is replaced, not failed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from confluence_provisioning.targets import transport
from confluence_provisioning.targets.transport import Transport


@pytest.fixture
def closing_server() -> Iterator[tuple[str, threading.Semaphore]]:
    """An HTTP/1.1 server that answers 204 and then closes the connection, without saying so.

    The semaphore is released once per connection, after the close: a test waits for it so
    that the close has happened before its next request (otherwise the next request may
    race the close, which is the retry layer's business, not the transport's).
    """
    listener = socket.create_server(("127.0.0.1", 0))
    closed = threading.Semaphore(0)

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            closed.release()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", closed
    listener.close()


def test_an_idle_connection_the_server_closed_is_replaced(closing_server, monkeypatch) -> None:
    base_url, closed = closing_server
    monkeypatch.setattr(transport, "FRESH_SECONDS", 0.0)  # always check, however recent
    sender = Transport(base_url, {}, verify=True, timeout=(5, 5), max_in_flight=1)
    statuses = []
    for _ in range(3):
        statuses.append(sender.request("PUT", "/x").status)
        assert closed.acquire(timeout=5), "the server did not close the connection"
    assert statuses == [204, 204, 204]
    assert not closed.acquire(timeout=0.2), "more connections were opened than requests sent"
    sender.close()
