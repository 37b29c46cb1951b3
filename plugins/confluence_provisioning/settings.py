"""Rules file (YAML) -> validated, typed settings.

One rules file describes one sync. Every section is optional and has safe
defaults; unknown keys are errors (a typo must never be silently ignored).

``load_settings(path)`` is the one entry point. It reports every mistake in
the file at once, as ``FILE:LINE: path: what is wrong; what to write instead``,
in a `RulesError`: YAML syntax, unknown keys (with the closest valid key),
wrong types, patterns RE2 cannot compile, and contradictions between options
(see ``_CHECKS``). The annotated example is ``include/mapping_rules/default.yaml``.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from confluence_provisioning.mapping.dn import DnError, dn_key
from confluence_provisioning.mapping.naming import USER_COLUMNS
from confluence_provisioning.mapping.patterns import (
    PATTERN_HINT,
    REPLACE_HINT,
    PatternError,
    compile_pattern,
    compile_rewrite,
)


def _compiles(source: str) -> str:
    try:
        compile_pattern(source)
    except PatternError as error:
        raise ValueError(f"{error}; {PATTERN_HINT}") from None
    return source


def _lower_case_group(name: str) -> str:
    if not name.strip():
        raise ValueError("a group name cannot be blank; write its name")
    if name != name.strip().lower():
        raise ValueError(f"Confluence stores group names in lower case; write '{name.strip().lower()}'")
    return name


def _not_blank(name: str) -> str:
    if not name.strip():
        raise ValueError("a name cannot be blank; write the name or remove the entry")
    return name


def _is_dn(text: str) -> str:
    try:
        dn_key(text)
    except DnError as error:
        raise ValueError(f"{error}; write a DN such as ou=people,dc=example,dc=com") from None
    return text


Regex = Annotated[str, AfterValidator(_compiles)]  # an RE2 pattern, searched (anchor it with ^...$)
ConfluenceGroup = Annotated[str, AfterValidator(_lower_case_group)]
Name = Annotated[str, AfterValidator(_not_blank)]  # a name matched ignoring case
DnText = Annotated[str, AfterValidator(_is_dn)]


class Strict(BaseModel):
    """Base of every section: unknown keys are refused, values are not coerced across types.

    Enumerations stay lenient (``strict=False``) so that YAML text selects a member.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Flavour(StrEnum):
    openldap = "openldap"
    active_directory = "active_directory"
    freeipa = "freeipa"


class DisabledRule(Strict):
    """How a disabled account is recognised from one attribute.

    With ``mask`` the account is disabled when the integer value has any of its bits set
    (Active Directory: ``userAccountControl``, mask 2); with ``equals`` when a value equals
    it, ignoring case (FreeIPA: ``nsAccountLock``, ``TRUE``); with neither when the
    attribute is present at all (OpenLDAP ppolicy: ``pwdAccountLockedTime``).
    """

    attribute: str
    mask: int | None = Field(default=None, ge=1)
    equals: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> DisabledRule:
        if self.mask is not None and self.equals is not None:
            raise ValueError("give either mask or equals, not both")
        return self


class DirectorySettings(Strict):
    """Where and how to read the identity provider. ``None`` means the flavour's default."""

    flavour: Flavour = Field(default=Flavour.openldap, strict=False)
    connection_id: str = "ldap_default"
    user_base_dn: str | None = None
    user_filter: str | None = None
    group_base_dn: str | None = None
    group_filter: str | None = None
    id_attribute: str | None = None
    login_attribute: str | None = None
    email_attribute: str | None = None
    display_name_attribute: str | None = None
    member_attributes: list[str] | None = None
    group_name_attribute: str | None = None  # the group's name (cn, or sAMAccountName on AD)
    disabled: DisabledRule | None = None  # how a disabled account is recognised
    # extra user attributes to read (for scoping rules and rewrites)
    extra_attributes: list[str] = Field(default_factory=list)
    nested_groups: bool = True
    page_size: int = Field(default=500, ge=1, le=1000)
    # fail closed when the directory looks empty: fewer users than this is an error
    min_users: int = Field(default=1, ge=0)


class OutOfScopeAction(StrEnum):
    disable = "disable"
    delete = "delete"
    keep = "keep"


class UserOperations(Strict):
    create: bool = True
    update: bool = True
    disable: bool = True
    reenable: bool = True
    delete: bool = False


class Rewrite(Strict):
    """A regular-expression rewrite; ``replace`` may use back-references (\\1)."""

    pattern: Regex
    replace: str

    @field_validator("replace")
    @classmethod
    def _replace_fits_pattern(cls, replace: str, info: ValidationInfo) -> str:
        if "pattern" in info.data:  # a pattern that failed is reported on its own
            try:
                compile_rewrite(info.data["pattern"], replace)
            except PatternError as error:
                raise ValueError(f"{error}; {REPLACE_HINT}") from None
        return replace


class AttributeRule(Strict):
    """How one Confluence field is made from an IdP attribute: read, lower-case, then rewrite in order."""

    # None: the field's own column (login, email, display_name); else one of those
    # columns or an attribute listed in directory.extra_attributes
    attribute: str | None = None
    lowercase: bool = False
    rewrites: list[Rewrite] = Field(default_factory=list)


class UserScope(Strict):
    """A user matches when any listed condition matches (groups, DN subtrees, attribute patterns)."""

    groups: list[Name] = Field(default_factory=list)  # IdP group names (cn), nested membership counts
    dn_subtrees: list[DnText] = Field(default_factory=list)
    # attribute -> regular expression; the attribute is a users-frame column or an extra_attribute
    attributes: dict[str, Regex] = Field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.groups or self.dn_subtrees or self.attributes)


class UserRules(Strict):
    operations: UserOperations = Field(default_factory=UserOperations)
    out_of_scope: OutOfScopeAction = Field(default=OutOfScopeAction.disable, strict=False)
    include: UserScope | None = None  # None: every IdP user is in scope
    exclude: UserScope = Field(default_factory=UserScope)
    username: AttributeRule = Field(default_factory=lambda: AttributeRule(lowercase=True))
    display_name: AttributeRule = Field(default_factory=AttributeRule)
    email: AttributeRule = Field(default_factory=lambda: AttributeRule(lowercase=True))


class DefaultGroups(Strict):
    new_users: list[ConfluenceGroup] = Field(default_factory=list)
    all_users: list[ConfluenceGroup] = Field(default_factory=list)


class GroupMapping(Strict):
    """Manual mapping: one Confluence group from one or more IdP groups."""

    confluence_group: ConfluenceGroup
    idp_groups: list[Name] = Field(min_length=1)
    keep_existing_members: bool = True


class ManualMapping(Strict):
    mappings: list[GroupMapping] = Field(default_factory=list)
    import_unmapped: bool = False  # also import IdP groups no mapping names (same name)
    # regular expressions on the lower-cased names of the IdP groups import_unmapped imports
    include: list[Regex] = Field(default_factory=list)
    exclude: list[Regex] = Field(default_factory=list)


class OnTheFlyMapping(Strict):
    enabled: bool = False
    # regular expressions on lower-cased IdP group names, before the rewrites
    include: list[Regex] = Field(default_factory=list)
    exclude: list[Regex] = Field(default_factory=list)
    rewrites: list[Rewrite] = Field(default_factory=list)
    # False: map an IdP group only onto a Confluence group that already exists
    create_missing: bool = True
    # False: on-the-fly groups are pruned (members the IdP group does not have are removed)
    keep_existing_groups: bool = True


class GroupRules(Strict):
    default_groups: DefaultGroups = Field(default_factory=DefaultGroups)
    manual: ManualMapping = Field(default_factory=ManualMapping)
    on_the_fly: OnTheFlyMapping = Field(default_factory=OnTheFlyMapping)


class Protected(Strict):
    """Never created, changed, disabled or deleted by a sync. Names are compared ignoring case."""

    users: list[Name] = Field(default_factory=lambda: ["admin"])
    groups: list[Name] = Field(default_factory=lambda: ["confluence-administrators", "system-administrators"])


class Limits(Strict):
    """Safety guards: a plan over any of these fails before anything is written."""

    max_users_disabled_or_deleted: int = Field(default=50, ge=0)
    max_users_disabled_or_deleted_percent: float = Field(default=5.0, ge=0, le=100)
    max_membership_removals: int = Field(default=500, ge=0)
    max_group_deletions: int = Field(default=0, ge=0)
    allow_emptying_groups: bool = False


class RetrySettings(Strict):
    max_attempts: int = Field(default=6, ge=1)
    base_delay_seconds: float = Field(default=0.5, ge=0)
    max_delay_seconds: float = Field(default=30.0, ge=0)
    budget_seconds: float = Field(default=600.0, ge=0)
    # a server's Retry-After is honoured up to this many seconds (a broken header must not stall a run)
    retry_after_cap_seconds: float = Field(default=120.0, ge=0)


class NewUserSettings(Strict):
    # False: a random strong password, never logged (for SSO sites); True: Confluence emails the user
    notify_via_email: bool = False


class ConfluenceSettings(Strict):
    connection_id: str = "confluence_default"
    max_in_flight: int = Field(default=8, ge=1, le=64)
    page_size: int = Field(default=200, ge=1, le=1000)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    new_users: NewUserSettings = Field(default_factory=NewUserSettings)


class RunSettings(Strict):
    """How the DAG runs this sync."""

    schedule: str | None = "0 2 * * *"  # cron; an Airflow Variable may override it
    storage_base: str | None = None  # ObjectStoragePath URI; None: file:// under AIRFLOW_HOME
    keep_run_folders_days: int = Field(default=14, ge=1)
    audit_connection_id: str = "confluence_provisioning_audit"
    # operations per mapped apply task: smaller chunks retry less work, more chunks cost scheduling
    apply_chunk_size: int = Field(default=5000, ge=1)
    # Airflow retries of the tasks that talk to LDAP, Confluence or storage (exponential backoff
    # from the delay); taken from the DAG's default rules file when the DAG file is parsed
    task_retries: int = Field(default=2, ge=0, le=10)
    task_retry_delay_seconds: float = Field(default=60.0, ge=0)


class Settings(Strict):
    directory: DirectorySettings = Field(default_factory=DirectorySettings)
    users: UserRules = Field(default_factory=UserRules)
    groups: GroupRules = Field(default_factory=GroupRules)
    protected: Protected = Field(default_factory=Protected)
    limits: Limits = Field(default_factory=Limits)
    confluence: ConfluenceSettings = Field(default_factory=ConfluenceSettings)
    run: RunSettings = Field(default_factory=RunSettings)


# ---------------------------------------------------------------------------------------------
# Contradictions: options that are each valid but cannot hold together.

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
    readable = {*USER_COLUMNS, *(name.lower() for name in settings.directory.extra_attributes)}
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
                + f"use one of {', '.join(USER_COLUMNS)} or add {name!r} to directory.extra_attributes",
                (("directory", "extra_attributes"),),
            )


def _check_retry(settings: Settings) -> Iterator[_Finding]:
    retry = settings.confluence.retry
    if retry.max_delay_seconds < retry.base_delay_seconds:
        yield _Finding(
            ("confluence", "retry", "max_delay_seconds"),
            f"{retry.max_delay_seconds} is below base_delay_seconds ({retry.base_delay_seconds})",
            "write a max_delay_seconds at least as large as base_delay_seconds",
            (("confluence", "retry", "base_delay_seconds"),),
        )


_CHECKS: tuple[Callable[[Settings], Iterator[_Finding]], ...] = (
    _check_out_of_scope,
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


@dataclass(frozen=True)
class Mistake:
    """One thing wrong in a rules file, and what to write instead."""

    file: str
    line: int
    path: str  # dotted, e.g. groups.manual.mappings[0].idp_groups
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.problem}; {self.fix}"


class RulesError(ValueError):
    """A rules file with mistakes; ``mistakes`` lists them all, the message one per line."""

    def __init__(self, mistakes: list[Mistake]) -> None:
        self.mistakes = mistakes
        super().__init__("\n".join(str(mistake) for mistake in mistakes))


def load_settings(path: str | Path) -> Settings:
    """The validated settings of a rules file; RulesError lists every mistake in it.

    OSError when the file cannot be read at all.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RulesError(
            [Mistake(str(path), 1, "(file)", f"is not UTF-8 text ({error.reason})", "save it as UTF-8")]
        ) from None
    return _settings_from_text(text, str(path))


def _settings_from_text(text: str, file: str) -> Settings:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise RulesError([Mistake(file, line, "(yaml)", f"not valid YAML: {problem}", _YAML_FIX)]) from None
    lines: dict[Place, int] = {}
    mistakes: list[tuple[Place, str, str]] = []
    if root is not None:
        _index_lines(root, (), lines, mistakes)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesError(
            [
                Mistake(
                    file, 1, "(file)", "is not a mapping of sections", "start with a section such as 'users:'"
                )
            ]
        )
    settings, invalid, repaired = _validate_repairing(data)
    mistakes += invalid
    findings = [
        finding
        for check in _CHECKS
        for finding in check(settings)
        if not any(
            _overlaps(place, damaged) for place in (finding.path, *finding.involves) for damaged in repaired
        )
    ]
    mistakes += [(finding.path, finding.problem, finding.fix) for finding in findings]
    if mistakes:
        located = {
            Mistake(file, _line_of(path, lines), _dotted(path), problem, fix)
            for path, problem, fix in mistakes
        }
        raise RulesError(sorted(located, key=lambda m: (m.line, m.path, m.problem)))
    return settings


_YAML_FIX = "check the indentation and quoting there (quote patterns with single quotes: '^team-(.*)$')"


def _index_lines(
    node: yaml.Node, path: Place, lines: dict[Place, int], mistakes: list[tuple[Place, str, str]]
) -> None:
    """Record the line of every key and list item; report keys written twice."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            here = (*path, key)
            if key in seen:  # YAML keeps the last value: lines from here on point at it
                mistakes.append(
                    (
                        here,
                        f"key {key!r} is written twice (line {lines[here]} and line "
                        f"{key_node.start_mark.line + 1}), and only the last one counts",
                        "keep one of them",
                    )
                )
            seen.add(key)
            lines[here] = key_node.start_mark.line + 1
            _index_lines(value_node, here, lines, mistakes)
    elif isinstance(node, yaml.SequenceNode):
        if _split_dns(node):
            mistakes.append(
                (
                    path,
                    f"the DN in [...] is split at its commas into {len(node.value)} entries",
                    "write one DN per '- ' line, or quote it: ['ou=people,dc=example,dc=com']",
                )
            )
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _index_lines(item, (*path, index), lines, mistakes)


def _split_dns(node: yaml.SequenceNode) -> bool:
    """``[ou=people,dc=example,dc=com]``: YAML reads three RDNs, and ``dc=com`` takes everyone in."""
    plain = [item for item in node.value if isinstance(item, yaml.ScalarNode) and item.style is None]
    return bool(node.flow_style) and len(plain) > 1 and all("=" in item.value for item in plain)


def _validate_repairing(data: dict[str, Any]) -> tuple[Settings, list[tuple[Place, str, str]], list[Place]]:
    """Validate; on errors, drop each bad value (its default applies) and validate again.

    The repaired settings let the contradiction checks run over everything that
    *is* valid, so one run reports every mistake. Returns the settings, the
    mistakes of the first validation and the places that were dropped.
    """
    mistakes: list[tuple[Place, str, str]] = []
    repaired: list[Place] = []
    for _ in range(8):  # each round drops at least one value; nesting is shallow
        try:
            return Settings.model_validate(data), mistakes, repaired
        except ValidationError as error:
            errors = error.errors(include_url=False)
            if not repaired:
                mistakes = [_describe(item) for item in errors]
            for item in errors:
                place = _droppable(tuple(part for part in item["loc"] if part != "[key]"))
                data = _without(data, place)
                repaired.append(place)
    return Settings(), mistakes, [()]  # give up on contradictions: every place counts as repaired


def _droppable(loc: Place) -> Place:
    """The innermost place that can be removed so that its default applies: a key, not a list item."""
    droppable: Place = loc[:1]
    annotation: Any = Settings
    for depth, part in enumerate(loc):
        model = _model_in(annotation)
        if model is not None and part not in model.model_fields:  # an unknown key
            return loc[: depth + 1]
        if model is not None:
            field = model.model_fields[str(part)]
            annotation = field.annotation
            if not field.is_required():
                droppable = loc[: depth + 1]
        elif _is_mapping(annotation):
            annotation = _item_type(annotation)
            droppable = loc[: depth + 1]
        else:  # a list index
            annotation = _item_type(annotation)
    return droppable


def _without(data: Any, place: Place) -> Any:
    """A copy of ``data`` without the value at ``place`` (unchanged when it is not there)."""
    if not place or not isinstance(data, dict) or place[0] not in data:
        return data
    if len(place) == 1:
        return {key: value for key, value in data.items() if key != place[0]}
    return {**data, place[0]: _without(data[place[0]], place[1:])}


def _overlaps(a: Place, b: Place) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _describe(error: Mapping[str, Any]) -> tuple[Place, str, str]:
    """A pydantic error as (path, what is wrong, what to write instead)."""
    loc: Place = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    if loc and loc[-1] == "[key]":  # a mapping key of the wrong type: YAML read ``1:`` as a number
        return (*loc[:-2], str(loc[-2])), f"key {loc[-2]!r} is not text", "write the key as text"
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}", _closest_key(loc)
    if kind == "missing":
        return loc, f"required key {loc[-1]!r} is missing", f"add '{loc[-1]}: ...' here"
    if kind == "value_error":
        problem, _, fix = str(ctx["error"]).partition("; ")
        return loc, problem, fix or "correct the value"
    problem = f"{error['msg'][0].lower()}{error['msg'][1:]}"
    if kind != "too_short":  # its message already says what was given
        problem += f", not {_shown(error.get('input'))}"
    return loc, problem, _type_fix(kind, ctx, loc)


def _shown(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _type_fix(kind: str, ctx: Mapping[str, Any], loc: Place) -> str:
    bounds = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le", "less_than": "lt"}
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    if kind in bounds:
        bound = bounds[kind]
        return f"write a number {words[bound]} {ctx[bound]}"
    if kind == "enum":
        return f"write one of {ctx['expected']}"
    if kind == "too_short":
        return f"list at least {ctx['min_length']} item(s)"
    if kind.startswith(("model", "dict")):
        keys = _keys_at(loc)
        return "write a mapping of 'key: value' lines" + (f" (keys: {', '.join(keys)})" if keys else "")
    fixes = {
        "bool": "write true or false",
        "int": "write a whole number, e.g. 500",
        "float": "write a number, e.g. 5.0",
        "string": "write text (quote it if it looks like a number or true/false)",
        "list": "write a list: one '- item' per line, or [a, b]",
    }
    return fixes.get(kind.split("_")[0], "see include/mapping_rules/default.yaml for the expected form")


def _closest_key(loc: Place) -> str:
    keys = _keys_at(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"remove it; valid keys here: {', '.join(keys)}" if keys else "remove it"


def _keys_at(path: Place) -> list[str]:
    """The keys the settings model accepts at ``path`` (a section or list item), in declaration order."""
    annotation: Any = Settings
    for part in path:
        model = _model_in(annotation)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
        else:  # a list index or a dict key: step into the item type
            annotation = _item_type(annotation)
    model = _model_in(annotation)
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if _is_union(annotation):
        return next((m for arg in typing.get_args(annotation) if (m := _model_in(arg))), None)
    return None


def _item_type(annotation: Any) -> Any:
    if _is_union(annotation):
        return next((_item_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)), None)
    args = typing.get_args(annotation)
    return args[-1] if args else None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _is_mapping(annotation: Any) -> bool:
    return typing.get_origin(annotation) is dict


def _line_of(path: Place, lines: Mapping[Place, int]) -> int:
    """The line of the deepest part of ``path`` the file has (a missing key: its parent's line)."""
    for depth in range(len(path), -1, -1):
        if path[:depth] in lines:
            return lines[path[:depth]]
    return 1


def _dotted(path: Place) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"
