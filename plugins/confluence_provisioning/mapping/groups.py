"""IdP groups -> desired Confluence groups and memberships: default, manual and on-the-fly rules.

Every group these rules produce is *managed* (``managed=True``): the plan may
add and remove its members. Groups no rule produces are never changed, but for the
deletion of groups an earlier run created (see ``planning``, ``limits.max_group_deletions``).

- Default groups: every desired user is a member of ``all_users`` groups; a
  ``new_users`` group is joined only when the user is created
  (``new_users_only``). Never pruned: pruning would remove every member the
  sync did not create.
- Manual mappings: a Confluence group from the members of one or more IdP
  groups (nested members included); pruned when ``keep_existing_members`` is
  false. The IdP groups a mapping names are consumed by it: on-the-fly and
  ``import_unmapped`` only see the others. ``import_unmapped`` imports those
  others under their own lower-cased name, never pruned.
- On-the-fly: each remaining IdP group that passes the filters becomes the
  Confluence group of its lower-cased name after the rewrites. With
  ``keep_existing_groups: false`` these groups are pruned: a user leaves the
  Confluence group when they leave the IdP group. With true, the sync only adds.
- Manual wins: an on-the-fly group that lands on a manually mapped group is
  dropped (and reported). Otherwise a group produced by several rules gets
  the union of their members, and is pruned only if every one of them prunes.
- A group that would land on a protected group is reported, never applied; so is an IdP
  group whose Confluence name would hold a control character, a bidirectional or
  zero-width character, or more than 255 characters (see ``naming.group_name_problems``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.mapping.naming import group_name_problems
from confluence_provisioning.mapping.patterns import compile_pattern, compile_rewrite, rewrite_all, search_all

if TYPE_CHECKING:
    from confluence_provisioning.settings import GroupRules, ManualMapping, OnTheFlyMapping, Protected

# When two rules produce the same group or membership, the first kind names the rule.
DEFAULT_ALL, DEFAULT_NEW, MANUAL, UNMAPPED, ON_THE_FLY = range(5)
_SOURCE_COLUMNS = ["group_id", "dn", "name", "group", "prune", "rule", "precedence"]


def map_groups(
    groups: pd.DataFrame,
    memberships: pd.DataFrame,
    desired_users: pd.DataFrame,
    rules: GroupRules,
    protected: Protected,
    existing_groups: Collection[str] | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(desired groups, desired memberships, rejects), unsorted.

    ``desired_users`` are the users map_users kept (username, source_id).
    ``existing_groups`` are the Confluence group names, for ``create_missing:
    false``; None means unknown, and every group is taken to exist.
    """
    idp = groups.dropna(subset=["name"]).rename(columns={"id": "group_id"})
    idp = idp.assign(lname=idp["name"].str.lower())
    manual_sources, missing = _manual(idp, rules.manual)
    unnamed = idp[~idp["lname"].isin(_named_by_mappings(rules.manual))]
    sources = [manual_sources]
    rejects = [missing]
    if rules.manual.import_unmapped:
        sources.append(_unmapped(unnamed, rules.manual))
    if rules.on_the_fly.enabled:
        taken = {mapping.confluence_group for mapping in rules.manual.mappings}
        on_the_fly, refused = _on_the_fly(unnamed, rules.on_the_fly, taken, existing_groups)
        sources.append(on_the_fly)
        rejects.append(refused)
    idp_sources = pd.concat(sources, ignore_index=True)
    unusable = group_name_problems(idp_sources["group"])
    rejects.append(_unusable(idp_sources, unusable))
    idp_sources = idp_sources[unusable.isna()]
    defaults = _defaults(rules)
    protected_groups = {name.lower() for name in protected.groups}
    rejects.append(_onto_protected(idp_sources, defaults, protected_groups))
    idp_sources = idp_sources[~idp_sources["group"].isin(protected_groups)]
    defaults = defaults[~defaults["group"].isin(protected_groups)]

    columns = ["group", "prune", "rule", "precedence"]
    definitions = pd.concat([idp_sources[columns], defaults[columns]], ignore_index=True)
    desired_groups = _merged_groups(definitions)
    desired_memberships = _merged_memberships(
        _idp_memberships(idp_sources, memberships, desired_users),
        _default_memberships(defaults, desired_users["username"]),
    )
    return desired_groups, desired_memberships, frames.conform(pd.concat(rejects), frames.REJECTS)


def _named_by_mappings(manual: ManualMapping) -> set[str]:
    return {name.lower() for mapping in manual.mappings for name in mapping.idp_groups}


def _manual(idp: pd.DataFrame, manual: ManualMapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sources of the manual mappings, and rejects for the IdP groups they name that do not exist."""
    rows, missing = [], []
    for index, mapping in enumerate(manual.mappings):
        found = idp[idp["lname"].isin([name.lower() for name in mapping.idp_groups])]
        absent = [name for name in mapping.idp_groups if name.lower() not in set(found["lname"])]
        consequence = (
            f"the others still feed '{mapping.confluence_group}'"
            if len(found)
            else f"so '{mapping.confluence_group}' is left alone this run"
        )
        missing += [
            _reject(
                "",
                name,
                f"groups.manual.mappings[{index}] names IdP group '{name}', which the "
                f"directory does not have; {consequence}",
            )
            for name in absent
        ]
        rows.append(
            found.assign(
                group=mapping.confluence_group,
                prune=not mapping.keep_existing_members,
                rule="manual mapping from '" + found["name"] + "'",
                precedence=MANUAL,
            )
        )
    return _sources(rows), pd.DataFrame(missing, columns=list(frames.REJECTS))


def _unmapped(unnamed: pd.DataFrame, manual: ManualMapping) -> pd.DataFrame:
    chosen = unnamed[_passes(unnamed["lname"], manual.include, manual.exclude)]
    return _sources(
        [
            chosen.assign(
                group=chosen["lname"],
                prune=False,
                rule="unmapped IdP group '" + chosen["name"] + "'",
                precedence=UNMAPPED,
            )
        ]
    )


def _on_the_fly(
    unnamed: pd.DataFrame,
    on_the_fly: OnTheFlyMapping,
    manual_groups: set[str],
    existing_groups: Collection[str] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sources of on-the-fly groups, and rejects for the IdP groups that cannot become one."""
    chosen = unnamed[_passes(unnamed["lname"], on_the_fly.include, on_the_fly.exclude)]
    rewrites = [compile_rewrite(rewrite.pattern, rewrite.replace) for rewrite in on_the_fly.rewrites]
    target = rewrite_all(chosen["lname"], rewrites).str.lower()
    blank = target.str.strip().eq("")
    manual = target.isin(manual_groups)
    if existing_groups is None or on_the_fly.create_missing:
        absent = pd.Series(False, index=chosen.index)
    else:
        absent = ~target.isin({name.lower() for name in existing_groups})
    refused = blank | manual | absent
    why = pd.Series("", index=chosen.index, dtype="string")
    why = why.mask(
        absent,
        "on-the-fly maps it onto '" + target + "', which Confluence does not have, "
        "and groups.on_the_fly.create_missing is false",
    )
    why = why.mask(
        manual,
        "on-the-fly maps it onto '" + target + "', which a manual mapping defines (manual mappings win)",
    )
    why = why.mask(blank, "on-the-fly rewrites make its name blank; change groups.on_the_fly.rewrites")
    rejects = pd.DataFrame(
        {
            "source": "mapping",
            "kind": "group",
            "dn": chosen.loc[refused, "dn"],
            "id": chosen.loc[refused, "group_id"],
            "reason": why[refused],
        }
    )
    kept = chosen[~refused]
    sources = kept.assign(
        group=target[~refused],
        prune=not on_the_fly.keep_existing_groups,
        rule="on-the-fly from '" + kept["name"] + "'",
        precedence=ON_THE_FLY,
    )
    return _sources([sources]), rejects


def _passes(names: pd.Series, include: list[str], exclude: list[str]) -> pd.Series:
    """Which names an include pattern finds (any, when there are none) and no exclude pattern finds."""
    passes = pd.Series(not include, index=names.index)
    for pattern in include:
        passes |= search_all(names, compile_pattern(pattern))
    for pattern in exclude:
        passes &= ~search_all(names, compile_pattern(pattern))
    return passes


def _sources(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat([part[_SOURCE_COLUMNS] for part in parts if len(part)] or [_empty_sources()])
    return frame.reset_index(drop=True)


def _empty_sources() -> pd.DataFrame:
    return pd.DataFrame(
        {
            **{column: pd.Series(dtype="string") for column in ["group_id", "dn", "name", "group", "rule"]},
            "prune": pd.Series(dtype=bool),
            "precedence": pd.Series(dtype=int),
        }
    )[_SOURCE_COLUMNS]


def _defaults(rules: GroupRules) -> pd.DataFrame:
    """One definition per default group: never pruned; ``new_users_only`` for the new-users kind."""
    defaults = rules.default_groups
    rows = [(name, False, "default group for all users", DEFAULT_ALL, False) for name in defaults.all_users]
    rows += [(name, False, "default group for new users", DEFAULT_NEW, True) for name in defaults.new_users]
    frame = pd.DataFrame(rows, columns=["group", "prune", "rule", "precedence", "new_users_only"])
    return frame.astype(
        {"group": "string", "prune": bool, "rule": "string", "precedence": int, "new_users_only": bool}
    )


def _onto_protected(sources: pd.DataFrame, defaults: pd.DataFrame, protected: set[str]) -> pd.DataFrame:
    hit = sources[sources["group"].isin(protected)]
    reason = "it maps onto '{}', a protected group (protected.groups), which a sync never changes"
    rows = [
        _reject(dn, group_id, reason.format(group))
        for dn, group_id, group in hit[["dn", "group_id", "group"]].itertuples(index=False)
    ]
    rows += [
        _reject("", group, reason.format(group))
        for group in defaults.loc[defaults["group"].isin(protected), "group"]
    ]
    return pd.DataFrame(rows, columns=list(frames.REJECTS))


def _unusable(sources: pd.DataFrame, problems: pd.Series) -> pd.DataFrame:
    """Rejects for the IdP groups whose Confluence name cannot be used, e.g. one with a newline."""
    hit = problems.notna()
    found = sources.loc[hit, ["dn", "group_id"]].assign(problem=problems[hit])
    rows = [_reject(dn, group_id, problem) for dn, group_id, problem in found.itertuples(index=False)]
    return pd.DataFrame(rows, columns=list(frames.REJECTS))


def _reject(dn: str, identifier: str, reason: str) -> dict[str, str]:
    return {"source": "mapping", "kind": "group", "dn": dn, "id": identifier, "reason": reason}


def _merged_groups(definitions: pd.DataFrame) -> pd.DataFrame:
    """One row per group: pruned only if every rule producing it prunes; the first rule names it."""
    ordered = definitions.sort_values(["group", "precedence", "rule"])
    merged = ordered.groupby("group", sort=False).agg(prune_members=("prune", "all"), rule=("rule", "first"))
    return merged.reset_index().rename(columns={"group": "name"}).assign(managed=True)


def _idp_memberships(sources: pd.DataFrame, memberships: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """(group, username, rule, precedence) for every desired user in a source IdP group."""
    pairs = memberships[["group_id", "user_id"]].merge(
        users[["source_id", "username"]], left_on="user_id", right_on="source_id"
    )
    joined = pairs.merge(sources[["group_id", "group", "rule", "precedence"]], on="group_id")
    return joined[["group", "username", "rule", "precedence"]].assign(new_users_only=False)


def _default_memberships(defaults: pd.DataFrame, usernames: pd.Series) -> pd.DataFrame:
    everyone = pd.DataFrame({"username": usernames.astype("string")})
    return defaults.drop(columns="prune").merge(everyone, how="cross")


def _merged_memberships(*parts: pd.DataFrame) -> pd.DataFrame:
    """One row per (group, username): permanent if any rule makes it so; the first such rule names it."""
    rows = pd.concat(parts, ignore_index=True)
    repeated = rows.duplicated(["group", "username"], keep=False)
    ordered = rows[repeated].sort_values(["group", "username", "new_users_only", "precedence", "rule"])
    return pd.concat([rows[~repeated], ordered.drop_duplicates(["group", "username"])])
