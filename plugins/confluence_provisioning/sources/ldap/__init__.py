"""Reading the identity provider (LDAP) into the shared frames, failing closed.

Entry points: `reading.read_directory(settings)` (through the Airflow connection),
`snapshot.extract(connection, profile)` (any bound ldap3 connection, no Airflow),
`hook.LdapHook`, and `errors.IdpReadError`, the one error a failed read raises.
Nothing is imported here, so the pure modules stay free of Airflow.
"""
