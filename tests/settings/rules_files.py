"""Write a rules file and load it; mistakes come back as their lines, with the file shown as rules.yaml."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from confluence_provisioning.settings import RulesError, Settings, load_settings


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_settings(path)


def mistakes(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(RulesError) as raised:
        load(tmp_path, text)
    lines = str(raised.value).splitlines()
    assert lines == [str(mistake) for mistake in raised.value.mistakes]
    return [line.replace(str(tmp_path / "rules.yaml"), "rules.yaml") for line in lines]
