"""error_from_response on its own: which class for which status, and what the message says."""

from __future__ import annotations

import json
import pickle

import pytest

from confluence_provisioning.targets.errors import (
    AuthError,
    ConflictError,
    ConfluenceError,
    NoLicenceSeatError,
    NotFoundError,
    RateLimitInfo,
    TransientError,
    ValidationError,
    error_from_response,
    parse_rate_limit,
    parse_retry_after,
    server_message,
)
from tests.rest_error_body import rest_error as contract_rest_error

HTML_429 = (
    b"<!DOCTYPE html><html><head><title>Rate limit exceeded</title></head>"
    b"<body><h1>Rate limit exceeded.</h1><p>Too many requests, try again later.</p></body></html>"
)


def rest_error(status: int, message: str, errors: list[str] = ()) -> bytes:
    return json.dumps(contract_rest_error(status, message, "Bad Request", list(errors))).encode()


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ValidationError),
        (401, AuthError),
        (402, NoLicenceSeatError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, TransientError),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (418, ConfluenceError),
    ],
)
def test_status_decides_the_type(status: int, kind: type) -> None:
    error = error_from_response("create user", "alice", status, rest_error(status, "nope"), {})
    assert type(error) is kind
    assert (error.operation, error.target, error.status, error.server_message) == (
        "create user",
        "alice",
        status,
        "nope",
    )
    assert str(error) == f"create user 'alice': HTTP {status}: nope"


def test_validation_errors_beyond_the_message_are_kept() -> None:
    body = rest_error(
        400,
        "The userName should not be null or blank",
        ["The userName should not be null or blank", "The email should be a valid email address"],
    )
    assert server_message(body, 400) == (
        "The userName should not be null or blank; The email should be a valid email address"
    )


def test_html_429_gives_its_visible_text_and_retry_after() -> None:
    error = error_from_response("list users", "", 429, HTML_429, {"Retry-After": "12"})
    assert isinstance(error, TransientError)
    assert (error.retry_after, error.rate_limit) == (12.0, None)
    assert str(error) == "list users: HTTP 429: Rate limit exceeded."


def test_a_429_carries_the_rate_its_headers_state() -> None:
    headers = {"Retry-After": "1", "X-RateLimit-FillRate": "30", "X-RateLimit-Interval-Seconds": "60"}
    error = error_from_response("add member", "x", 429, HTML_429, headers)
    assert error.rate_limit == RateLimitInfo(30.0, 60.0)
    assert error.rate_limit.per_second == 0.5


@pytest.mark.parametrize(
    ("fill_rate", "interval"),
    [("10", None), (None, "1"), ("ten", "1"), ("10", "0"), ("-1", "1"), ("nan", "1"), ("10", "inf")],
)
def test_rate_limit_headers_that_state_no_rate(fill_rate: str | None, interval: str | None) -> None:
    headers = {"X-RateLimit-FillRate": fill_rate, "X-RateLimit-Interval-Seconds": interval}
    assert parse_rate_limit({name: value for name, value in headers.items() if value is not None}) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "(empty body, HTTP 502)"),
        (b"   \n", "(empty body, HTTP 502)"),
        (b"Bad Gateway\nupstream went away", "Bad Gateway"),
        (b'{"error": "no message key"}', '{"error": "no message key"}'),
        (b"<html><body><p>\n  Proxy   error\n</p></body></html>", "Proxy error"),
        (b"<html><head><script>var x = 1;</script></head></html>", "(no message, HTTP 502)"),
    ],
)
def test_bodies_without_a_rest_error(body: bytes, message: str) -> None:
    assert server_message(body, 502) == message


def test_long_messages_are_cut() -> None:
    message = server_message(b"x" * 5000, 500)
    assert len(message) == 300
    assert message.endswith("…")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("5", 5.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-3", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
        ("soon", None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_without_a_status_or_a_target() -> None:
    assert str(TransientError("list groups", "", None, "connection failed: refused")) == (
        "list groups: connection failed: refused"
    )


def test_errors_pickle_with_their_attributes() -> None:
    error = TransientError(
        "create group",
        "eng",
        429,
        "Rate limit exceeded.",
        retry_after=3.0,
        rate_limit=RateLimitInfo(10.0, 1.0),
    )
    error.attempts = 4
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.retry_after, copy.rate_limit, copy.attempts) == (
        TransientError,
        "create group 'eng': HTTP 429: Rate limit exceeded.",
        3.0,
        RateLimitInfo(10.0, 1.0),
        4,
    )
