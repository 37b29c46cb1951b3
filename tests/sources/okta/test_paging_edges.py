"""Next links Okta should never send: one back to a page already read, one to another host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from confluence_provisioning.sources.okta.auth import ApiToken
from confluence_provisioning.sources.okta.client import OktaClient
from confluence_provisioning.sources.okta.errors import OktaReadError

NEXT = {
    "/loop": "/loop?after=a",
    "/loop?after=a": "/loop",
    "/away": "https://elsewhere.example.com/api/v1/users",
}


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        target = NEXT[self.path]
        url = target if target.startswith("https://") else f"http://{self.headers['Host']}{target}"
        self.send_header("Link", f'<{url}>; rel="next"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_next_link_back_to_a_page_already_read_fails_the_read(pages: str) -> None:
    with (
        OktaClient(pages, ApiToken("t")) as client,
        pytest.raises(OktaReadError, match="leads back to a page"),
    ):
        list(client.walk("/loop", {}))


def test_a_next_link_to_another_host_fails_the_read(pages: str) -> None:
    with OktaClient(pages, ApiToken("t")) as client, pytest.raises(OktaReadError, match="leaves the org"):
        list(client.walk("/away", {}))
