"""The SCIM client against a plain scim2-server (no Atlassian layer), as any SCIM 2.0 service
provider: the RFC's member-removal form, its own page size, its own error wording."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BearerTokenApplication
from scim2_server.testserver.cli import ThreadingWSGIServer
from scim2_server.utils import load_default_provider

from confluence_provisioning.targets.atlassian_cloud.client import ScimClient
from confluence_provisioning.targets.errors import ConflictError
from tests.targets.atlassian_cloud.conftest import FAST_RETRY


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def plain_scim() -> Iterator[str]:
    """A scim2-server on a free loopback port: its default provider, one bearer token; the base URL."""
    application = BearerTokenApplication(InMemoryStorage(), load_default_provider(), bearer_tokens=["plain"])
    server = make_server("127.0.0.1", 0, application, server_class=ThreadingWSGIServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v2"
    finally:
        server.shutdown()
        server.server_close()


def test_the_client_provisions_a_plain_scim_server(plain_scim: str) -> None:
    with ScimClient(
        plain_scim, token="plain", page_size=3, member_batch=2, remove_form="path_filter", retry=FAST_RETRY
    ) as scim:
        ids = [
            scim.create_user(f"u{n}@other.org", f"u{n}@other.org", f"U{n}", external_id=f"x-{n}")[1]
            for n in range(7)
        ]
        _, group_id = scim.create_group("staff")
        assert (
            scim.change_members(group_id, ids, add=True, target="staff") == [204] * 4
        )  # 204: a plain server may answer a PATCH without a body
        assert scim.change_members(group_id, ids[:5], add=False, target="staff") == [204] * 3
        assert scim.set_active(ids[6], False, target="u6@other.org") == 204
        with pytest.raises(ConflictError):
            scim.create_user("u0@other.org", "u0@other.org", "U0", external_id=None)
        users, (group,) = scim.users(), scim.groups()
        assert scim.find_user(external_id="x-3").id == ids[3]
    assert sorted(user.id for user in users) == sorted(ids)
    assert {user.id: user.active for user in users}[ids[6]] is False
    assert sorted(member.value for member in group.members) == sorted(ids[5:])
