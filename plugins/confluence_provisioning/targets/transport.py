"""HTTP for the targets: keep-alive ``http.client`` connections to one site, nothing more.

The standard library, not requests or urllib3's pool: a run sends hundreds of
thousands of writes, and per request (8 threads, loopback) ``http.client`` costs
about 70 µs of CPU, urllib3's pool 200 µs and a requests session 420 µs.

At most ``max_in_flight`` requests are in flight whatever the number of threads:
one more waits for a connection to come free. An idle connection is reused, the
newest first, unless the server closed it meanwhile. There are no proxies, no
redirects and no retries: the client decides what an answer means.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

# Idle for less than this, a connection is reused unchecked: servers keep idle connections
# open for 5 s or more, and the check (a poll) is a system call on every request.
FRESH_SECONDS = 1.0


class ConnectionFailed(Exception):
    """No answer came: the connection could not be made, or it broke."""


class TimedOut(ConnectionFailed):
    """The connect or the read timeout passed."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: http.client.HTTPMessage  # .get() ignores case


class Transport:
    """Sends requests to the origin of ``base_url``; ``headers`` go with every one of them."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        verify: bool | str,
        timeout: tuple[float, float],
        max_in_flight: int,
    ) -> None:
        parts = urlsplit(base_url)
        self.verify = verify
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._where = parts.netloc
        self._connect_timeout, self._read_timeout = timeout
        self._headers = headers
        self._json_headers = {**headers, "Content-Type": "application/json"}
        self._tls: ssl.SSLContext | None = None  # made on first connect: a bad CA path fails a request
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._idle: deque[tuple[http.client.HTTPConnection, float]] = deque()  # (connection, idle since)

    def request(self, method: str, target: str, json: object = None) -> Response:
        """Send ``method target`` (path and query); ``json``, when not None, is the body."""
        body = None if json is None else msgspec.json.encode(json)
        headers = self._headers if body is None else self._json_headers
        try:
            with self._slots:
                connection = self._checkout()
                try:
                    connection.request(method, target, body, headers)
                    response = connection.getresponse()
                    data = response.read()
                except BaseException:
                    connection.close()  # half a request or half an answer: unusable
                    raise
                if response.will_close:
                    connection.close()
                else:
                    self._idle.append((connection, time.monotonic()))
        except TimeoutError:
            raise TimedOut(f"no answer from {self._where} within {self._read_timeout:g} s") from None
        except (OSError, http.client.HTTPException) as error:
            raise ConnectionFailed(f"{self._where}: {error!r}") from None
        if response.headers.get("Content-Encoding") == "gzip":
            data = zlib.decompress(data, wbits=31)
        return Response(response.status, data, response.headers)

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[0].close()

    def _checkout(self) -> http.client.HTTPConnection:
        while True:
            try:
                connection, idle_since = self._idle.pop()
            except IndexError:
                return self._connect()
            if time.monotonic() - idle_since < FRESH_SECONDS or _still_open(connection):
                return connection
            connection.close()

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            if self._tls is None:
                self._tls = _tls_context(self.verify)
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._connect_timeout, context=self._tls
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
        try:
            connection.connect()
        except TimeoutError:
            raise TimedOut(f"could not connect to {self._where} within {self._connect_timeout:g} s") from None
        assert connection.sock is not None
        connection.sock.settimeout(self._read_timeout)  # http.client would keep the connect timeout
        return connection


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """An idle connection with something to read has been closed by the server (or is out of step)."""
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return not poller.poll(0)


def _tls_context(verify: bool | str) -> ssl.SSLContext:
    """The system's CAs; only the bundle (file or folder) ``verify`` names; or no verification at all."""
    if verify is True:
        return ssl.create_default_context()
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        if Path(verify).is_dir():
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(f"cannot load the TLS CA bundle {verify!r}: {error}") from None
