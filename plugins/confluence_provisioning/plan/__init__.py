"""Planning: the pure diff of desired against current target state, with its safety guards.

``planner.plan`` puts the parts together: operations and the plan (``operations``), the user
and group diffs, the guards. No I/O, no Airflow.
"""
