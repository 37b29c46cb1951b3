"""Mapping rules: IdP frames + settings -> the users, groups and memberships Confluence should have.

Pure functions, no I/O: ``stage.map_rules`` is the stage's one entry point. The same
input gives the same output whatever its row order: every output is sorted.

The single-value parts (``dn.dn_key``, ``patterns.compile_pattern``, the ``*_problem``
checks of ``naming``) load without pandas or pyarrow, and so does this package: the
rules' settings check a file with them, and ``confluence-provisioning validate`` starts
in a fraction of a second.
"""
