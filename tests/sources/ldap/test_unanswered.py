"""LDAP errors that say what happened: a server that does not answer, and a filter the server refuses.

Real parts: a loopback socket that accepts connections and never answers, a real slapd
stopped (SIGSTOP) after the bind, and a loopback server that speaks just enough LDAP to
accept a bind and refuse a search filter (protocolError, with the server's message).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator

import ldap3
import pytest

from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.flavours import resolve_profile
from confluence_provisioning.sources.ldap.snapshot import extract
from sandbox.directories.make_example import PEOPLE
from tests.sources.ldap.directories import EXAMPLE, connect

WAIT = "; check that the server is healthy, or raise the receive_timeout extra of"


def read(conn: ldap3.Connection) -> None:
    extract(conn, resolve_profile(EXAMPLE))


def serve(answer: bool) -> Iterator[int]:
    """A loopback listener: each connection is read and, if ``answer``, answered as ``_respond`` does."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                peer, _ = listener.accept()
            except OSError:
                return
            accepted.append(peer)
            if answer:
                threading.Thread(target=_respond, args=(peer,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for peer in accepted:
            peer.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    yield from serve(answer=False)


@pytest.fixture
def refusing_server() -> Iterator[int]:
    yield from serve(answer=True)


REFUSAL = "Bad search filter"


def _respond(peer: socket.socket) -> None:
    """Answer a bind with success and any search with protocolError (2), in BER as RFC 4511 says."""
    with peer:
        while message := _read_message(peer):
            message_id, operation = message
            if operation == 0x60:  # BindRequest -> BindResponse [APPLICATION 1]
                peer.sendall(_result(message_id, 0x61, 0, ""))
            elif operation == 0x63:  # SearchRequest -> SearchResultDone [APPLICATION 5]
                peer.sendall(_result(message_id, 0x65, 2, REFUSAL))
            else:  # UnbindRequest
                return


def _read_message(peer: socket.socket) -> tuple[int, int] | None:
    header = peer.recv(2)
    if len(header) < 2:
        return None
    length = header[1]
    if length & 0x80:
        length = int.from_bytes(_exactly(peer, length & 0x7F), "big")
    body = _exactly(peer, length)
    id_length = body[1]  # body: INTEGER tag, length, value; then the operation's tag
    return int.from_bytes(body[2 : 2 + id_length], "big"), body[2 + id_length]


def _exactly(peer: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        data += peer.recv(count - len(data))
    return data


def _tlv(tag: int, value: bytes) -> bytes:
    length = len(value)
    encoded = bytes([length]) if length < 0x80 else bytes([0x82]) + length.to_bytes(2, "big")
    return bytes([tag]) + encoded + value


def _result(message_id: int, tag: int, code: int, message: str) -> bytes:
    result = _tlv(0x0A, bytes([code])) + _tlv(0x04, b"") + _tlv(0x04, message.encode())
    # a BER INTEGER is signed: ids of 128 and up need a leading zero byte (ldap3 counts ids per process)
    encoded_id = message_id.to_bytes(message_id.bit_length() // 8 + 1, "big")
    return _tlv(0x30, _tlv(0x02, encoded_id) + _tlv(tag, result))


def _state(pid: int) -> str:
    """The process state letter (R, S, T, ...) from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def test_a_server_that_accepts_but_never_answers_the_bind(ldap_example, silent_server: int) -> None:
    with pytest.raises(IdpReadError) as raised:
        connect(ldap_example, uri=f"ldap://127.0.0.1:{silent_server}", receive_timeout=1)
    assert str(raised.value) == (
        f"no answer from the LDAP server within 1 s: ldap://127.0.0.1:{silent_server} accepted the "
        f"connection but did not answer{WAIT} Airflow connection 'ldap_test'"
    )


def test_a_server_that_stops_answering_after_the_bind(ldap_server) -> None:
    sandbox = ldap_server()
    conn = connect(sandbox, receive_timeout=1)
    pid = sandbox.process.pid
    os.killpg(pid, signal.SIGSTOP)  # the kernel still accepts on its socket; slapd answers nothing
    try:
        while _state(pid) != "T":  # stopping is asynchronous
            time.sleep(0.01)
        with pytest.raises(IdpReadError) as raised:
            read(conn)
    finally:
        os.killpg(pid, signal.SIGCONT)
    assert re.fullmatch(
        rf"LDAP user search under '{re.escape(PEOPLE)}' failed: no answer from the LDAP server within 1 s "
        rf"\(127\.0\.0\.1:\d+\){re.escape(WAIT)} the Airflow connection",
        str(raised.value),
    )


def test_a_filter_the_server_refuses_fails_with_its_message_and_the_filter(
    ldap_example, refusing_server: int
) -> None:
    conn = connect(ldap_example, uri=f"ldap://127.0.0.1:{refusing_server}")
    with pytest.raises(IdpReadError) as raised:
        read(conn)
    assert str(raised.value) == (
        f"LDAP user search under '{PEOPLE}' failed: protocolError (2): {REFUSAL}; the server refused the "
        "filter '(objectClass=inetOrgPerson)'; check directory.user_filter. Nothing was read."
    )
