"""One module per console sub-command; each has ``add_arguments(parser)`` and ``run(args) -> int``."""
