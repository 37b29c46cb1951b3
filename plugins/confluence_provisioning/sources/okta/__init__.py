"""Reading Okta (the Management API) into the shared frames, failing closed; incremental where it can.

Entry points: `reading.read_okta(settings, ...)`, `hook.OktaHook`, and `errors.OktaReadError`, the
one error a failed read raises. Nothing is imported here, so `settings` stays free of Airflow.
"""
