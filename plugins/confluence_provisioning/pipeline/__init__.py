"""The DAG's per-task logic: run context, task bodies, what results mean for the history, task logs.

The DAG file (``dags/confluence_provisioning.py``) only wires these together.
"""
