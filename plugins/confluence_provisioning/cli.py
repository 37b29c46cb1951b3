"""The ``confluence-provisioning`` console command: a dispatcher over ``commands/``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# sub-command -> (module under confluence_provisioning.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "check-ldap": ("check_ldap", "bind to LDAP, run the configured searches and print what they find"),
    "check-source": (
        "check_source",
        "read the rules' source (LDAP, Entra ID, Okta) and count what it can read",
    ),
    "validate": ("validate", "check a rules file and summarise what it does"),
    "preview": ("preview", "show the Confluence users and groups a rules file would produce"),
    "history": ("history", "show recent sync runs or one run's operations"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="confluence-provisioning", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(f"confluence_provisioning.commands.{module_name}")
        subparser = subparsers.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(subparser)
        subparser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
