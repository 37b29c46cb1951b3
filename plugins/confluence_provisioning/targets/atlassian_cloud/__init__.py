"""Atlassian Cloud: SCIM client, snapshot, performer for the apply engine and (in hook.py) the Airflow hook.

The hook is not imported here, so pure code can use the client and its types without Airflow.
"""
