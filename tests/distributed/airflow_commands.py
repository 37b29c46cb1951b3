"""``python -m tests.distributed.airflow_commands '[["db", "migrate"], ...]'``: several ``airflow``
commands in one process, since starting the Airflow CLI costs seconds each time."""

from __future__ import annotations

import json
import sys

from airflow.cli.cli_parser import get_parser


def main(commands: list[list[str]]) -> None:
    for command in commands:
        args = get_parser().parse_args(command)
        args.func(args)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
