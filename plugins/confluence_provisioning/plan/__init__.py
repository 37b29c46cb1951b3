"""The parts of planning: operations and the plan, the user and group diffs, the safety guards.

``confluence_provisioning.planning.plan`` puts them together.
"""
