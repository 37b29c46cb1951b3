"""The scheduler and the DAG processor import the DAG's libraries once, so their forks need not.

Airflow imports ``$AIRFLOW_HOME/config/airflow_local_settings.py`` in each of its processes;
README's "Task start-up" tells operators to put ``preload.LOCAL_SETTINGS`` there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from confluence_provisioning.pipeline import preload

REPO = Path(__file__).resolve().parents[2]
# python -c LOADED COMMAND MODULE...: which of the modules ``import airflow`` left loaded
LOADED = """
import json, sys
import airflow  # Airflow imports airflow_local_settings here
print(json.dumps([name for name in sys.argv[2:] if name in sys.modules]))
"""


def test_the_scheduler_starts_with_the_dags_libraries_and_the_asset_handlers_loaded(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "airflow_local_settings.py").write_text(preload.LOCAL_SETTINGS, encoding="utf-8")
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
    }
    expected = [*preload.MODULES, "pandas", "airflow.providers.amazon.aws.assets.s3"]
    done = subprocess.run(
        [sys.executable, "-c", LOADED, "scheduler", *expected],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == expected


@pytest.mark.parametrize("argv", [["airflow", "dags", "test"], ["airflow", "api-server"], ["airflow"]])
def test_other_airflow_commands_import_nothing(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    imported: list[str] = []
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(preload.importlib, "import_module", imported.append)
    assert preload.preload_for("scheduler", "dag-processor") is False
    assert imported == []
