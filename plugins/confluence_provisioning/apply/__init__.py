"""The parts of applying: the shared pacing gate and what each operation sends.

``confluence_provisioning.applying`` runs a plan with them.
"""
