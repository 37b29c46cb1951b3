"""A canned-answer HTTP server for paging answers the emulator never gives (loops, foreign links, junk)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from confluence_provisioning.targets.confluence_dc import ConfluenceClient
from tests.targets.confluence_dc.conftest import FAST_RETRY


class StubServer:
    """Answers "METHOD /path?query" with the canned (status, body, content type); 404 otherwise."""

    def __init__(self, answers: dict[str, tuple[int, str]], content_type: str = "application/json") -> None:
        self.answers = answers
        self.requests: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                key = f"{self.command} {self.path}"
                stub.requests.append(key)
                status, body = stub.answers.get(key, (404, '{"message": "no canned answer"}'))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/wiki"

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def client_of(stub: StubServer) -> ConfluenceClient:
    """An admin client of the stub that never waits between retries."""
    return ConfluenceClient(
        stub.base_url, username="admin", password="pw", retry=FAST_RETRY, sleep=lambda seconds: None
    )
