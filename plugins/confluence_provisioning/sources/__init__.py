"""Sources: one folder per kind of identity provider, each reading it into the shared frames."""
