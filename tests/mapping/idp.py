"""Small IdP frames for mapping tests: users by login, groups by name, memberships by login."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.mapping.stage import MappingResult, map_rules
from confluence_provisioning.settings import Settings

BASE = "dc=example,dc=com"


@dataclass(frozen=True)
class Idp:
    users: pd.DataFrame
    groups: pd.DataFrame
    memberships: pd.DataFrame


def person(login: str, **fields: Any) -> dict[str, Any]:
    """A users-frame row: id u:<login>, DN under ou=people, email <login>@example.com, unless given."""
    return {
        "id": f"u:{login}",
        "dn": f"uid={login},ou=people,{BASE}",
        "login": login,
        "email": f"{login}@example.com",
        "display_name": login.title(),
        "active": True,
        **fields,
    }


def directory(
    users: Iterable[Mapping[str, Any]],
    groups: Mapping[str, Iterable[str]] | None = None,
    nested: Mapping[str, Iterable[str]] | None = None,
) -> Idp:
    """Groups map a name to member logins (direct); ``nested`` adds members that came through nesting."""
    groups, nested = groups or {}, nested or {}
    names = sorted({*groups, *nested})
    memberships = [
        {"group_id": f"g:{name}", "user_id": f"u:{login}", "direct": direct}
        for direct, members in ((True, groups), (False, nested))
        for name, logins in members.items()
        for login in logins
    ]
    return Idp(
        users=frames.from_records(users, frames.USERS),
        groups=frames.from_records(
            [{"id": f"g:{name}", "dn": f"cn={name},ou=groups,{BASE}", "name": name} for name in names],
            frames.GROUPS,
        ),
        memberships=frames.from_records(memberships, frames.MEMBERSHIPS),
    )


def rules(**sections: Any) -> Settings:
    return Settings.model_validate(sections)


def mapped(idp: Idp, **sections: Any) -> MappingResult:
    return map_rules(idp, rules(**sections))


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    """The frame's rows as tuples of plain values, in the frame's order."""
    picked = frame[list(columns)] if columns else frame
    return [tuple(None if pd.isna(v) else v for v in row) for row in picked.itertuples(index=False)]
