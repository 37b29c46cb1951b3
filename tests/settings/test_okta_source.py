"""The `source:` section of kind okta: its keys, their defaults and the mistakes reported."""

from __future__ import annotations

from pathlib import Path

from confluence_provisioning.settings import OktaSourceSettings
from confluence_provisioning.settings.sources import UserStatus
from tests.settings.rules_files import load, mistakes


def test_an_okta_source_takes_its_own_keys_and_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, "source:\n  kind: okta\n  app_groups: true\n  active_statuses: [ACTIVE]\n")
    assert settings.source == OktaSourceSettings(app_groups=True, active_statuses=[UserStatus.ACTIVE])
    defaults = OktaSourceSettings()
    assert (defaults.connection_id, defaults.page_size, defaults.everyone_group) == (
        "okta_default",
        200,
        False,
    )
    assert defaults.active_statuses == ["ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"]


def test_okta_mistakes_name_the_line_and_the_fix(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "source:\n  kind: okta\n  pagesize: 3\n") == [
        "rules.yaml:3: source.pagesize: unknown key 'pagesize'; did you mean 'page_size'?"
    ]
    assert mistakes(tmp_path, "source:\n  kind: okta\n  page_size: 500\n") == [
        "rules.yaml:3: source.page_size: input should be less than or equal to 200, not 500; "
        "write a number <= 200"
    ]
    assert mistakes(tmp_path, "source:\n  kind: okta\n  active_statuses: [ACTIVE, DEPROVISIONED]\n") == [
        "rules.yaml:3: source.active_statuses: DEPROVISIONED can never count as active (STAGED and "
        "PROVISIONED users are not created, DEPROVISIONED ones are disabled): remove them from "
        "source.active_statuses; correct the value"
    ]


def test_an_unknown_source_kind_lists_the_known_ones(tmp_path: Path) -> None:
    assert mistakes(tmp_path, "source:\n  kind: okta2\n") == [
        "rules.yaml:2: source.kind: unknown kind 'okta2'; write one of ldap, okta, entra_id"
    ]
