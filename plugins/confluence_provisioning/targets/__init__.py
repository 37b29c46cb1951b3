"""Targets: one folder per kind of Atlassian site, each reading it into the shared frames and
carrying out a plan's operations."""
