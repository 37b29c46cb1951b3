"""The console command itself: its help, its version, and what each command loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from confluence_provisioning import cli
from tests.fixtures.airflow import REPO

# what validate and preview (of an LDIF file) do not need: they start in a fraction of a second
HEAVY = ("airflow", "sqlalchemy", "requests")
# validate checks the rules' patterns and DNs without the frames: no pandas, pyarrow or numpy either
FRAMES = ("pandas", "pyarrow", "numpy")
RULES = "include/mapping_rules/default.yaml"


def test_the_help_says_what_the_tool_is_for(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "Keep Confluence users and groups in step with your identity provider" in text
    assert all(name in text for name in cli.COMMANDS)
    assert "dispatcher" not in text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("confluence-provisioning ")


@pytest.mark.parametrize(
    ("command", "unused"),
    [
        (["validate", RULES], HEAVY + FRAMES),
        (["preview", "--rules", RULES, "--ldif", "sandbox/directories/example.ldif"], HEAVY),
    ],
)
def test_validate_and_preview_load_only_what_they_use(command: list[str], unused: tuple[str, ...]) -> None:
    probe = (
        "import json, sys, contextlib, io\n"
        "from confluence_provisioning import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = cli.main({command!r})\n"
        f"print(json.dumps([code, [name for name in {unused!r} if name in sys.modules]]))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [0, []]
