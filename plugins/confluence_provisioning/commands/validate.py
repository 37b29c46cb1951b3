"""``confluence-provisioning validate FILE``: check a rules file and say what it does.

Exit status 0 with "valid" and a one-screen summary; 1 with every mistake as
``FILE:LINE: path: what is wrong; what to write instead``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from confluence_provisioning.settings import (
    AttributeRule,
    GroupRules,
    OktaSourceSettings,
    OutOfScopeAction,
    RulesError,
    Settings,
    SourceSettings,
    UserRules,
    UserScope,
    load_settings,
)

MORE = " " * 12  # continuation lines line up under the first line's text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE", help="the rules file (YAML)")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # looked up now: tests and callers redirect them
    try:
        settings = load_settings(args.file)
    except RulesError as error:
        print(str(error), file=err)
        count = len(error.mistakes)
        print(f"{args.file}: {count} mistake{'s' if count != 1 else ''}", file=err)
        return 1
    except OSError as error:
        print(f"{args.file}: cannot be read: {error.strerror or error}", file=err)
        return 1
    print(f"{args.file}: valid", file=out)
    for line in summary(settings):
        print(line, file=out)
    return 0


def summary(settings: Settings) -> list[str]:
    """What the rules do, in a screenful of plain lines."""
    confluence, limits = settings.target, settings.limits
    return [
        *_source(settings.source),
        *_users(settings.users),
        *_groups(settings.groups),
        f"Protected   users: {_names(settings.protected.users)}; groups: {_names(settings.protected.groups)}",
        f"Limits      at most {limits.max_users_disabled_or_deleted} users "
        f"({limits.max_users_disabled_or_deleted_percent}%) disabled or deleted, "
        f"{limits.max_membership_removals} membership removals, "
        f"{limits.max_group_deletions} group deletions; "
        f"groups {'may' if limits.allow_emptying_groups else 'may not'} be emptied",
        f"Confluence  connection {confluence.connection_id!r}, "
        f"{confluence.max_in_flight} requests in flight, "
        f"new users {_welcome(confluence.new_users.notify_via_email)}",
    ]


def _source(source: SourceSettings) -> list[str]:
    extra = ", ".join(source.extra_attributes) or "none"
    if isinstance(source, OktaSourceSettings):
        groups = "OKTA_GROUP" + (", APP_GROUP" if source.app_groups else "")
        groups += ", Everyone" if source.everyone_group else ""
        return [
            f"Source      Okta via connection {source.connection_id!r}; groups {groups}; "
            f"{'incremental reads' if source.incremental else 'full reads'}",
            f"{MORE}active statuses: {', '.join(source.active_statuses)}; extra attributes: {extra}",
        ]
    return [
        f"Directory   {source.flavour.value} via connection {source.connection_id!r}; "
        f"users under {source.user_base_dn or 'the naming context'}, "
        f"groups under {source.group_base_dn or 'the naming context'}",
        f"{MORE}nested groups {'on' if source.nested_groups else 'off'}; extra attributes: {extra}",
    ]


def _welcome(notify: bool) -> str:
    return "notified by email" if notify else "get a random password"


def _users(users: UserRules) -> Iterator[str]:
    scope = "every user" if users.include is None else f"users in {_conditions(users.include)}"
    if not users.exclude.is_empty():
        scope += f", except {_conditions(users.exclude)}"
    yield f"Users       in scope: {scope}"
    operations = users.operations
    names = {"create": "create", "update": "update", "disable": "disable", "reenable": "re-enable"}
    allowed = [word for key, word in names.items() if getattr(operations, key)]
    if operations.delete:
        allowed.append("delete")
    gone = _out_of_scope(users.out_of_scope)
    yield f"{MORE}operations: {', '.join(allowed) or 'none'}; users out of scope are {gone}"
    yield f"{MORE}username = {_field(users.username, 'login')}"
    yield f"{MORE}display name = {_field(users.display_name, 'display_name')} (blank: the username)"
    yield f"{MORE}email = {_field(users.email, 'email')}"


def _out_of_scope(action: OutOfScopeAction) -> str:
    return {"disable": "disabled", "delete": "deleted", "keep": "kept as they are"}[action.value]


def _conditions(scope: UserScope) -> str:
    parts = [f"group {name}" for name in scope.groups]
    parts += [f"subtree {dn}" for dn in scope.dn_subtrees]
    parts += [f"{attribute} ~ '{pattern}'" for attribute, pattern in scope.attributes.items()]
    return " or ".join(parts) or "nothing"


def _field(rule: AttributeRule, column: str) -> str:
    steps = [rule.attribute or column]
    if rule.lowercase:
        steps.append("lower-cased")
    steps += [f"'{rewrite.pattern}' -> '{rewrite.replace}'" for rewrite in rule.rewrites]
    return ", ".join(steps)


def _groups(groups: GroupRules) -> Iterator[str]:
    defaults = groups.default_groups
    yield (
        f"Groups      default for all users: {_names(defaults.all_users)}; "
        f"for new users only: {_names(defaults.new_users)}"
    )
    for mapping in groups.manual.mappings:
        handling = "keeps other members" if mapping.keep_existing_members else "removes other members"
        sources = ", ".join(mapping.idp_groups)
        yield f"{MORE}manual: {mapping.confluence_group} <- {sources} ({handling})"
    manual = groups.manual
    if manual.import_unmapped:
        yield f"{MORE}unmapped IdP groups imported by name{_filters(manual.include, manual.exclude)}"
    on_the_fly = groups.on_the_fly
    if on_the_fly.enabled:
        rewrites = "; ".join(f"'{r.pattern}' -> '{r.replace}'" for r in on_the_fly.rewrites) or "none"
        chosen = _filters(on_the_fly.include, on_the_fly.exclude)
        yield f"{MORE}on-the-fly: every other IdP group{chosen}, lower-cased; rewrites: {rewrites}"
        created = "created" if on_the_fly.create_missing else "never created"
        pruned = "members only added" if on_the_fly.keep_existing_groups else "other members removed"
        yield f"{MORE}on-the-fly groups: {created} when missing; {pruned}"
    elif not groups.manual.mappings and not manual.import_unmapped:
        yield "            no IdP group is mapped"


def _filters(include: Sequence[str], exclude: Sequence[str]) -> str:
    text = "".join(f" matching '{pattern}'" for pattern in include[:1])
    text += "".join(f" or '{pattern}'" for pattern in include[1:])
    text += "".join(f", not '{pattern}'" for pattern in exclude)
    return text


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) or "none"
