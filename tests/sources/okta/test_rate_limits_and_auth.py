"""Rate limits honoured before a 429 and after one; bounded concurrency; the hook's credentials."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from confluence_provisioning.sources.okta import reading
from confluence_provisioning.sources.okta.errors import OktaReadError
from confluence_provisioning.sources.okta.hook import parse_options
from sandbox.okta import OktaServer, RateLimit
from tests.sources.okta.conftest import client, settings


def test_the_reader_waits_for_the_reset_instead_of_running_into_429(okta_server) -> None:
    okta = okta_server(rate_limit=RateLimit(6, 1))
    for n in range(30):
        okta.directory.create_user({"login": f"u{n}@example.com", "email": f"u{n}@example.com"})
    rules = settings(page_size=2, max_in_flight=1)  # 15 pages of users against 6 a second
    with client(okta, max_in_flight=1) as reader:
        state, report = reading.read_full(reader, rules)
    assert len(state.users) == 30
    statuses = okta.emulator.counters.as_json()["by_status"]
    assert statuses == {"200": report.requests} and report.rate_limit_waits >= 2


def test_a_429_waits_for_its_reset_and_goes_on(okta: OktaServer) -> None:
    okta.directory.create_user({"login": "a@example.com", "email": "a@example.com"})
    okta.emulator.set_faults(
        [{"path": "/api/v1/users", "burst_429": {"rate": 1, "length": 2, "retry_after": 1}, "limit": 2}]
    )
    slept: list[float] = []
    with client(okta, sleep=slept.append) as reader:
        state, report = reading.read_full(reader, settings())
    assert len(state.users) == 1 and report.rate_limit_waits == 2
    assert len(slept) == 2 and all(0 < seconds <= 2.1 for seconds in slept)


def test_rate_limit_waits_beyond_the_budget_fail_the_read(okta: OktaServer) -> None:
    okta.directory.create_user({"login": "a@example.com", "email": "a@example.com"})
    okta.emulator.set_faults(
        [{"path": "/api/v1/users", "burst_429": {"rate": 1, "length": 50, "retry_after": 30}}]
    )
    with (
        client(okta, sleep=lambda _: None) as reader,
        pytest.raises(OktaReadError, match=r"source\.budget_seconds"),
    ):
        reading.read_full(reader, settings(budget_seconds=100))


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_a_service_app_connection_reads_with_an_oauth_access_token(okta_server) -> None:
    private, public = _pem_pair()
    okta = okta_server(oauth_clients=(("0oasync", public),))
    okta.directory.create_user({"login": "a@example.com", "email": "a@example.com"})
    options = parse_options(
        "okta_default", okta.base_url, None, None, {"client_id": "0oasync", "private_key": private}
    )
    from confluence_provisioning.sources.okta.client import OktaClient

    with OktaClient(options.org_url, options.credentials) as reader:
        state, _ = reading.read_full(reader, settings())
    assert list(state.users["login"]) == ["a@example.com"]
    assert okta.emulator.counters.as_json()["by_route"]["POST /oauth2/v1/token"] == 1
    assert "private_key" not in repr(options) and private not in repr(options)

    narrow = parse_options(
        "okta_default", okta.base_url, None, None,
        {"client_id": "0oasync", "private_key": private, "scopes": "okta.users.read"},
    )  # fmt: skip
    with (
        OktaClient(narrow.org_url, narrow.credentials) as reader,
        pytest.raises(OktaReadError, match="403 E0000006"),
    ):
        reading.read_full(reader, settings())


@pytest.mark.parametrize(
    ("host", "password", "extra", "message"),
    [
        ("https://example.okta.com", None, {}, "give an API token as the password"),
        (None, "t", {}, "host must be the Okta org URL"),
        ("https://example.okta.com", "t", {"tenant": "x"}, "unknown extra keys ['tenant']"),
        ("https://example.okta.com", None, {"client_id": "0oa1"}, "needs extra private_key"),
    ],
)
def test_a_connection_missing_what_it_needs_is_a_clear_error(host, password, extra, message) -> None:
    with pytest.raises(OktaReadError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_options("okta_default", host, None, password, extra)


def test_an_org_url_without_a_scheme_is_https_and_the_token_is_masked() -> None:
    options = parse_options("okta_default", "example.okta.com", None, "secret-token", {"timeout": 5})
    assert options.org_url == "https://example.okta.com" and options.timeout == (5.0, 5.0)
    assert "secret-token" not in repr(options)
    assert options.credentials.authorization() == "SSWS secret-token"
