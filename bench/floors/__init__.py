"""The floors: the same reads and writes done as barely as the tools allow, to compare each phase with."""
