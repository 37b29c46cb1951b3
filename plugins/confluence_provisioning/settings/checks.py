"""Contradictions: options that are each valid but cannot hold together, found after validation."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from confluence_provisioning.frames import USER_COLUMNS
from confluence_provisioning.mapping.dn import dn_key
from confluence_provisioning.mapping.patterns import compile_pattern, compile_rewrite
from confluence_provisioning.settings.models import GroupMapping, GroupRules, OutOfScopeAction, Settings

Place = tuple[str | int, ...]  # a place in the rules file: keys and list indexes


@dataclass(frozen=True)
class _Finding:
    path: Place
    problem: str
    fix: str
    involves: tuple[Place, ...] = ()  # other places whose values the finding depends on


def _check_out_of_scope(settings: Settings) -> Iterator[_Finding]:
    users = settings.users
    needs = {OutOfScopeAction.delete: "delete", OutOfScopeAction.disable: "disable"}
    operation = needs.get(users.out_of_scope)
    if operation and not getattr(users.operations, operation):
        yield _Finding(
            ("users", "out_of_scope"),
            f"'{users.out_of_scope}' needs users.operations.{operation}: true, which is false",
            f"set users.operations.{operation}: true, or choose another out_of_scope "
            f"({', '.join(a.value for a in OutOfScopeAction if a != users.out_of_scope)})",
            (("users", "operations", operation),),
        )


def _check_target_can_delete(settings: Settings) -> Iterator[_Finding]:
    """Atlassian Cloud's provisioning API cannot delete an account (DELETE only deactivates it)."""
    if settings.target.kind != "atlassian_cloud":
        return
    users = settings.users
    if users.operations.delete:
        yield _Finding(
            ("users", "operations", "delete"),
            "is true, but an atlassian_cloud target cannot delete users (its API only deactivates them)",
            "set users.operations.delete: false; out-of-scope users are then disabled",
            (("target", "kind"),),
        )
    if users.out_of_scope is OutOfScopeAction.delete:
        yield _Finding(
            ("users", "out_of_scope"),
            "is delete, but an atlassian_cloud target cannot delete users",
            "set users.out_of_scope: disable (or keep)",
            (("target", "kind"),),
        )


def _check_user_scope(settings: Settings) -> Iterator[_Finding]:
    include, exclude = settings.users.include, settings.users.exclude
    if include is None:
        if "include" in settings.users.model_fields_set:
            yield _Finding(
                ("users", "include"),
                "is empty, which would put every user in scope by accident",
                "list groups, dn_subtrees or attributes under it, or remove the key to take every user",
            )
        return
    if include.is_empty():
        yield _Finding(
            ("users", "include"),
            "has no conditions, so no user would be in scope",
            "list groups, dn_subtrees or attributes under it, or remove the key to take every user",
        )
    included = {name.lower() for name in include.groups}
    for index, name in enumerate(exclude.groups):
        if name.lower() in included:
            yield _both_ways(("users", "exclude", "groups", index), name, "users.include.groups")
    included_dns = {dn_key(dn) for dn in include.dn_subtrees}
    for index, dn in enumerate(exclude.dn_subtrees):
        if dn_key(dn) in included_dns:
            yield _both_ways(("users", "exclude", "dn_subtrees", index), dn, "users.include.dn_subtrees")
    for attribute, pattern in exclude.attributes.items():
        if include.attributes.get(attribute) == pattern:
            yield _both_ways(
                ("users", "exclude", "attributes", attribute), pattern, "users.include.attributes"
            )


def _check_filters(settings: Settings) -> Iterator[_Finding]:
    for section in ("manual", "on_the_fly"):
        filters = getattr(settings.groups, section)
        for index, pattern in enumerate(filters.exclude):
            if pattern in filters.include:
                yield _both_ways(("groups", section, "exclude", index), pattern, f"groups.{section}.include")


def _both_ways(path: Place, value: str, other: str) -> _Finding:
    return _Finding(
        path, f"{value!r} is both included ({other}) and excluded", "remove it from one of the two lists"
    )


def _check_on_the_fly(settings: Settings) -> Iterator[_Finding]:
    on_the_fly = settings.groups.on_the_fly
    if not on_the_fly.enabled:
        for key in sorted(on_the_fly.model_fields_set - {"enabled"}):
            yield _Finding(
                ("groups", "on_the_fly", key),
                "has no effect: groups.on_the_fly.enabled is false",
                f"set groups.on_the_fly.enabled: true, or remove {key}",
                (("groups", "on_the_fly", "enabled"),),
            )
    elif settings.groups.manual.import_unmapped:
        yield _Finding(
            ("groups", "manual", "import_unmapped"),
            "both this and groups.on_the_fly import the IdP groups that no mapping names",
            "use one of them: set import_unmapped: false, or groups.on_the_fly.enabled: false",
            (("groups", "on_the_fly", "enabled"),),
        )


def _check_manual(settings: Settings) -> Iterator[_Finding]:
    manual = settings.groups.manual
    if not manual.import_unmapped:
        for key in ("include", "exclude"):
            if getattr(manual, key):
                yield _Finding(
                    ("groups", "manual", key),
                    "has no effect: these filters choose the groups import_unmapped imports, "
                    "and import_unmapped is false",
                    f"set groups.manual.import_unmapped: true, or remove {key}",
                    (("groups", "manual", "import_unmapped"),),
                )
    first_index: dict[str, int] = {}
    for index, mapping in enumerate(manual.mappings):
        here = ("groups", "manual", "mappings", index)
        earlier = first_index.setdefault(mapping.confluence_group, index)
        if earlier != index:
            yield _Finding(
                (*here, "confluence_group"),
                f"{mapping.confluence_group!r} is already mapped by groups.manual.mappings[{earlier}]",
                f"add these idp_groups to mappings[{earlier}] and remove this mapping",
            )
        seen: set[str] = set()
        for position, name in enumerate(mapping.idp_groups):
            if name.lower() in seen:
                yield _Finding(
                    (*here, "idp_groups", position), f"{name!r} is listed twice", "remove one of them"
                )
            seen.add(name.lower())
        if _maps_to_itself_redundantly(mapping, settings.groups):
            yield _Finding(
                here,
                f"maps the IdP group {mapping.confluence_group!r} to itself, which "
                f"{_same_name_importer(settings.groups)} already does with the same member handling",
                "remove this mapping (a mapping of a group to itself is only useful to change "
                "keep_existing_members)",
                (("groups", "manual", "import_unmapped"), ("groups", "on_the_fly")),
            )


def _same_name_importer(groups: GroupRules) -> str:
    return "groups.on_the_fly" if groups.on_the_fly.enabled else "groups.manual.import_unmapped"


def _maps_to_itself_redundantly(mapping: GroupMapping, groups: GroupRules) -> bool:
    """``x <- [x]`` when on-the-fly or import_unmapped would give the same group with the same pruning."""
    if [name.lower() for name in mapping.idp_groups] != [mapping.confluence_group]:
        return False
    name = mapping.confluence_group
    if groups.on_the_fly.enabled:
        on_the_fly = groups.on_the_fly
        rewritten = name
        for rewrite in on_the_fly.rewrites:
            rewritten = compile_rewrite(rewrite.pattern, rewrite.replace).apply(rewritten).lower()
        return (
            rewritten == name
            and _passes(name, on_the_fly.include, on_the_fly.exclude)
            and mapping.keep_existing_members == on_the_fly.keep_existing_groups
        )
    manual = groups.manual
    # import_unmapped groups keep their existing members (see mapping/groups.py)
    return (
        manual.import_unmapped
        and mapping.keep_existing_members
        and _passes(name, manual.include, manual.exclude)
    )


def _passes(name: str, include: list[str], exclude: list[str]) -> bool:
    included = not include or any(compile_pattern(p).search(name) for p in include)
    return included and not any(compile_pattern(p).search(name) for p in exclude)


def _check_protected(settings: Settings) -> Iterator[_Finding]:
    protected = {name.lower() for name in settings.protected.groups}
    places: list[tuple[Place, str]] = [
        (("groups", "default_groups", key, index), name)
        for key in ("new_users", "all_users")
        for index, name in enumerate(getattr(settings.groups.default_groups, key))
    ]
    places += [
        (("groups", "manual", "mappings", index, "confluence_group"), mapping.confluence_group)
        for index, mapping in enumerate(settings.groups.manual.mappings)
    ]
    for path, name in places:
        if name in protected:
            yield _Finding(
                path,
                f"{name!r} is a protected group (protected.groups), which a sync never changes",
                "remove it here, or remove it from protected.groups",
                (("protected", "groups"),),
            )


def _check_default_groups(settings: Settings) -> Iterator[_Finding]:
    defaults = settings.groups.default_groups
    for index, name in enumerate(defaults.new_users):
        if name in defaults.all_users:
            yield _Finding(
                ("groups", "default_groups", "new_users", index),
                f"{name!r} is also in groups.default_groups.all_users, which already covers new users",
                "remove it from new_users",
            )


def _check_attributes(settings: Settings) -> Iterator[_Finding]:
    readable = {*USER_COLUMNS, *(name.lower() for name in settings.source.extra_attributes)}
    references: list[tuple[Place, str]] = [
        (("users", field, "attribute"), rule.attribute)
        for field in ("username", "display_name", "email")
        if (rule := getattr(settings.users, field)).attribute is not None
    ]
    scopes = {"include": settings.users.include, "exclude": settings.users.exclude}
    references += [
        (("users", key, "attributes", name), name)
        for key, scope in scopes.items()
        if scope is not None
        for name in scope.attributes
    ]
    for path, name in references:
        if name.lower() not in readable:
            close = difflib.get_close_matches(name.lower(), sorted(readable), n=1)
            yield _Finding(
                path,
                f"attribute {name!r} is not read from the directory",
                (f"did you mean {close[0]!r}? " if close else "")
                + f"use one of {', '.join(USER_COLUMNS)} or add {name!r} to source.extra_attributes",
                (("source", "extra_attributes"),),
            )


def _check_retry(settings: Settings) -> Iterator[_Finding]:
    retry = settings.target.retry
    if retry.max_delay_seconds < retry.base_delay_seconds:
        yield _Finding(
            ("target", "retry", "max_delay_seconds"),
            f"{retry.max_delay_seconds} is below base_delay_seconds ({retry.base_delay_seconds})",
            "write a max_delay_seconds at least as large as base_delay_seconds",
            (("target", "retry", "base_delay_seconds"),),
        )


CHECKS: tuple[Callable[[Settings], Iterator[_Finding]], ...] = (
    _check_out_of_scope,
    _check_target_can_delete,
    _check_user_scope,
    _check_filters,
    _check_on_the_fly,
    _check_manual,
    _check_protected,
    _check_default_groups,
    _check_attributes,
    _check_retry,
)


# ---------------------------------------------------------------------------------------------
# Loading: YAML with line numbers, validation of everything, one error listing every mistake.
