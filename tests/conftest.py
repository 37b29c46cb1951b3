"""Shared fixtures: a real slapd, the emulators, and an Airflow home per test session."""

pytest_plugins = [
    "tests.fixtures.ldap",
    "tests.fixtures.confluence",
    "tests.fixtures.okta",
    "tests.fixtures.entra",
    "tests.fixtures.atlassian_cloud",
    "tests.fixtures.postgres",
    "tests.fixtures.airflow",
]
