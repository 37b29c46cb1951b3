"""ConfluenceHook: a working client from AIRFLOW_CONN_CONFLUENCE_DEFAULT JSON; secrets never shown."""

from __future__ import annotations

import json
import logging

import pytest

from confluence_provisioning.settings import ConfluenceDcTargetSettings, RetrySettings, Settings
from confluence_provisioning.targets.confluence_dc import AuthError, RetryPolicy
from confluence_provisioning.targets.confluence_dc.hook import ConfluenceHook
from confluence_provisioning.targets.connection_extras import base_url_of

PASSWORD = "pa55-Very-Secret"
TOKEN = "tok-Very-Secret-123"


def set_connection(monkeypatch, conn_id: str = "confluence_default", **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "http", **fields}))


@pytest.fixture
def site(confluence):
    """The emulator site with an admin password and a token of our own."""
    confluence.directory.create_user("sync-bot", "Sync Bot", "bot@example.com", PASSWORD)
    confluence.directory.add_member("sync-bot", "confluence-administrators")
    confluence.directory.issue_token("sync-bot", TOKEN)
    return confluence


def test_basic_auth_from_the_default_connection(site, monkeypatch) -> None:
    set_connection(monkeypatch, host=site.base_url, login="sync-bot", password=PASSWORD)
    settings = Settings(
        target=ConfluenceDcTargetSettings(max_in_flight=3, page_size=50, retry=RetrySettings(max_attempts=2))
    )

    with ConfluenceHook().get_client(settings=settings) as client:
        assert client.check_auth() == "sync-bot"
        assert (client.base_url, client.max_in_flight, client.page_size, client.dry_run) == (
            site.base_url,
            3,
            50,
            False,
        )
        assert client.retry == RetryPolicy.from_settings(RetrySettings(max_attempts=2))
        assert client.timeout == (10, 60)


def test_a_token_from_extra_wins_over_a_login(site, monkeypatch) -> None:
    set_connection(
        monkeypatch,
        "confluence_pat",
        host=site.base_url,
        login="someone",
        password="ignored",
        extra={"token": TOKEN},
    )
    hook = ConfluenceHook("confluence_pat")
    assert hook.confluence_conn_id == "confluence_pat"
    with hook.get_client(dry_run=True) as client:
        assert client.check_auth() == "sync-bot"
        assert client.dry_run is True
        assert client.create_group("eng") is None
    assert site.emulator.counters.as_json()["by_method"] == {"GET": 1}


def test_a_wrong_token_is_caught_by_check_auth(site, monkeypatch) -> None:
    set_connection(monkeypatch, host=site.base_url, extra={"token": "not-a-token"})
    client = ConfluenceHook().get_client()
    with pytest.raises(AuthError, match="anonymous caller: the personal access token was not accepted"):
        client.check_auth()


def test_test_connection_for_the_ui(site, monkeypatch) -> None:
    set_connection(monkeypatch, host=site.base_url, login="sync-bot", password=PASSWORD)
    assert ConfluenceHook().test_connection() == (
        True,
        "authenticated as sync-bot, a member of confluence-administrators",
    )
    set_connection(monkeypatch, host=site.base_url, login="sync-bot", password="wrong")
    ok, message = ConfluenceHook().test_connection()
    assert not ok
    assert message.endswith("HTTP 401: Authentication failed: wrong username or password")


def test_secrets_never_reach_logs_reprs_or_errors(site, monkeypatch, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    set_connection(monkeypatch, host=site.base_url, login="sync-bot", password=PASSWORD)
    set_connection(monkeypatch, "confluence_pat", host=site.base_url, extra={"token": TOKEN})
    seen = []
    for conn_id in ("confluence_default", "confluence_pat"):
        hook = ConfluenceHook(conn_id)
        with hook.get_client(dry_run=True) as client:
            client.check_auth()
            client.snapshot()
            client.create_user("x", "X", "x@example.com", password=PASSWORD, notify_via_email=False)
            seen += [repr(client), str(client.recorded_requests), repr(hook)]
        with hook.get_client() as client:
            site.emulator.set_faults([{"method": "POST", "error_rate": 1, "statuses": [500]}])
            with pytest.raises(Exception) as raised:
                client.create_group("eng")
            seen += [str(raised.value), repr(raised.value)]
            site.emulator.set_faults([])
    assert caplog.records  # something was logged (the dry run), just not the secrets
    captured = capsys.readouterr()  # Airflow's own loggers write through structlog
    for text in [caplog.text, captured.out, captured.err, *seen]:
        assert PASSWORD not in text
        assert TOKEN not in text


@pytest.mark.parametrize(
    ("extra", "verify", "timeout", "max_in_flight"),
    [
        ({}, True, (10, 60), 8),
        ({"verify": False, "timeout": 5, "max_in_flight": 4}, False, (5.0, 5.0), 4),
        ({"verify": "false", "timeout": [2, 30], "max_in_flight": "16"}, False, (2.0, 30.0), 8),
        ({"verify": "/etc/ssl/corp-ca.pem"}, "/etc/ssl/corp-ca.pem", (10, 60), 8),
    ],
)
def test_extras(monkeypatch, extra, verify, timeout, max_in_flight) -> None:
    set_connection(
        monkeypatch, host="https://wiki.example.com/confluence", login="bot", password="pw", extra=extra
    )
    with ConfluenceHook().get_client() as client:
        assert client._transport.verify == verify
        assert (client.timeout, client.max_in_flight) == (timeout, max_in_flight)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"host": "https://wiki.example.com"},
            "Airflow connection 'confluence_default' has no credentials: "
            "set login and password, or extra 'token'",
        ),
        (
            {"login": "bot"},
            "Airflow connection 'confluence_default' has no host: set it to Confluence's base URL, "
            "e.g. https://wiki.example.com",
        ),
        (
            {"host": "wiki.example.com", "schema": "ldap", "login": "bot"},
            "Airflow connection 'confluence_default': "
            "schema must be http or https (the URL scheme), got 'ldap'",
        ),
        (
            {"host": "https://wiki.example.com", "login": "bot", "extra": {"timeout": "soon"}},
            "Airflow connection 'confluence_default': extra 'timeout' must be positive seconds or "
            "[connect, read] seconds, got 'soon'",
        ),
        (
            {"host": "https://wiki.example.com", "login": "bot", "extra": {"verify": ""}},
            "Airflow connection 'confluence_default': "
            "extra 'verify' must be true, false or a CA bundle path, got ''",
        ),
        (
            {"host": "https://wiki.example.com", "login": "bot", "extra": {"max_in_flight": 0}},
            "Airflow connection 'confluence_default': "
            "extra 'max_in_flight' must be a positive integer, got 0",
        ),
    ],
)
def test_bad_connections_are_named_with_the_fix(monkeypatch, fields, message) -> None:
    set_connection(monkeypatch, **fields)
    with pytest.raises(ValueError) as raised:
        ConfluenceHook().get_client()
    assert str(raised.value) == message


def test_unknown_extras_are_warned_about_by_name_only(monkeypatch, caplog, capsys) -> None:
    set_connection(
        monkeypatch,
        host="https://wiki.example.com",
        login="bot",
        password="pw",
        extra={"tokn": "typo-secret"},
    )
    with ConfluenceHook().get_client():
        pass
    logged = caplog.text + capsys.readouterr().out  # Airflow's hook logger writes through structlog
    assert "ignoring unknown extra keys ['tokn']" in logged
    assert "typo-secret" not in logged


@pytest.mark.parametrize(
    ("host", "schema", "port", "url"),
    [
        ("https://wiki.example.com/confluence", None, None, "https://wiki.example.com/confluence"),
        ("https://wiki.example.com/confluence/", None, 8443, "https://wiki.example.com:8443/confluence"),
        ("http://127.0.0.1:8090", None, 9999, "http://127.0.0.1:8090"),
        ("wiki.example.com", None, None, "https://wiki.example.com"),
        ("wiki.example.com/confluence", "http", 8090, "http://wiki.example.com:8090/confluence"),
    ],
)
def test_base_url_of_a_connection(host, schema, port, url) -> None:
    assert base_url_of(host, schema, port, "test") == url
