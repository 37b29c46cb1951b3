"""Keep Confluence users and groups in step with your identity provider: check, preview and audit the sync.

The sync itself runs as the Airflow DAG ``confluence_provisioning``; these commands
check a rules file before it goes live, show what it would produce, test the LDAP
side, and read the history of the runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

# sub-command -> (module under confluence_provisioning.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "check a rules file and summarise what it does"),
    "preview": ("preview", "show the Confluence users and groups a rules file would produce"),
    "check-ldap": ("check_ldap", "bind to LDAP, run the configured searches and print what they find"),
    "check-source": (
        "check_source",
        "read the rules' source (LDAP, Entra ID, Okta) and count what it can read",
    ),
    "history": ("history", "show recent sync runs, or one run's operations"),
}
DISTRIBUTION = "confluence-provisioning"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported, so each command loads only what it uses."""
    parser = argparse.ArgumentParser(
        prog="confluence-provisioning",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(f"confluence_provisioning.commands.{module_name}")
            module.add_arguments(subparser)
            subparser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in arguments if word in COMMANDS), None)
    args = build_parser(command).parse_args(arguments)
    return args.run(args)


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


if __name__ == "__main__":
    sys.exit(main())
