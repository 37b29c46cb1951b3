"""Shared fixtures: real slapd, PostgreSQL, Redis and S3, the emulators, an Airflow home per session."""

pytest_plugins = [
    "tests.fixtures.ldap",
    "tests.fixtures.confluence",
    "tests.fixtures.okta",
    "tests.fixtures.entra",
    "tests.fixtures.atlassian_cloud",
    "tests.fixtures.postgres",
    "tests.fixtures.airflow",
    "tests.fixtures.services",
]
