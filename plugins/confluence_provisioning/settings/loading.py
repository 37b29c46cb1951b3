"""Loading: YAML with line numbers, validation of everything, one error listing every mistake.

``load_settings(path)`` reports every mistake in the file at once, as
``FILE:LINE: path: what is wrong; what to write instead``, in a `RulesError`: YAML syntax,
unknown keys (with the closest valid key), wrong types, patterns RE2 cannot compile, and
contradictions between options (``checks.CHECKS``).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from confluence_provisioning.settings.checks import CHECKS, Place
from confluence_provisioning.settings.models import Settings


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
    data, lines, renamed = _legacy_sections(data, lines, mistakes)
    settings, invalid, repaired = _validate_repairing(data)
    mistakes += invalid
    findings = [
        finding
        for check in CHECKS
        for finding in check(settings)
        if not any(
            _overlaps(place, damaged) for place in (finding.path, *finding.involves) for damaged in repaired
        )
    ]
    mistakes += [(finding.path, finding.problem, finding.fix) for finding in findings]
    if mistakes:
        located = {
            Mistake(
                file,
                _line_of(path, lines),
                _dotted(path, renamed),
                _as_written(problem, renamed),
                _as_written(fix, renamed),
            )
            for path, problem, fix in mistakes
        }
        raise RulesError(sorted(located, key=lambda m: (m.line, m.path, m.problem)))
    return settings


# the sections of the first rules files, each the form of one kind: section -> (key, kind)
LEGACY_SECTIONS = {"directory": ("source", "ldap"), "confluence": ("target", "confluence_data_center")}


def _legacy_sections(
    data: dict[str, Any], lines: dict[Place, int], mistakes: list[tuple[Place, str, str]]
) -> tuple[dict[str, Any], dict[Place, int], dict[str, str]]:
    """``directory:`` read as ``source: {kind: ldap, ...}``, ``confluence:`` as a Data Center ``target:``.

    Returns the data, the lines with the new keys too, and the renames, so a mistake is
    reported under the name the file uses.
    """
    renamed: dict[str, str] = {}
    for legacy, (key, kind) in LEGACY_SECTIONS.items():
        if legacy not in data:
            continue
        if key in data:
            del data[legacy]  # reported here, not again as an unknown key
            mistakes.append(
                (
                    (legacy,),
                    f"is the {kind} form of '{key}:', which the file also has",
                    "keep one of the two",
                )
            )
            continue
        section = data.pop(legacy)
        data[key] = {"kind": kind, **section} if isinstance(section, dict) else section
        lines.update(
            {(key, *place[1:]): line for place, line in list(lines.items()) if place[:1] == (legacy,)}
        )
        renamed[key] = legacy
    return data, lines, renamed


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
            kinds = _kinds_chosen(data)
            errors = [
                {**item, "loc": _untagged(tuple(item["loc"]), kinds)}
                for item in error.errors(include_url=False)
            ]
            if not repaired:
                mistakes = [_describe(item, kinds) for item in errors]
            for item in errors:
                place = _droppable(tuple(part for part in item["loc"] if part != "[key]"), kinds)
                data = _without(data, place)
                repaired.append(place)
    return Settings(), mistakes, [()]  # give up on contradictions: every place counts as repaired


def _kinds_chosen(data: Mapping[str, Any]) -> dict[str, str]:
    """The kind each connector section (``source:``, ``target:``) names: section -> kind."""
    return {
        key: section["kind"]
        for key, section in data.items()
        if isinstance(section, dict) and isinstance(section.get("kind"), str)
    }


def _untagged(loc: Place, kinds: Mapping[str, str]) -> Place:
    """pydantic puts the chosen kind into the path (``source.okta.limit``); the file has no such level."""
    if len(loc) > 1 and loc[0] in kinds and loc[1] == kinds[str(loc[0])]:
        return (loc[0], *loc[2:])
    return loc


def _droppable(loc: Place, kinds: Mapping[str, str]) -> Place:
    """The innermost place that can be removed so that its default applies: a key, not a list item."""
    droppable: Place = loc[:1]
    annotation: Any = Settings
    for depth, part in enumerate(loc):
        model = _model_in(annotation, kinds.get(str(loc[0])) if depth == 1 else None)
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


def _describe(error: Mapping[str, Any], kinds: Mapping[str, str]) -> tuple[Place, str, str]:
    """A pydantic error as (path, what is wrong, what to write instead)."""
    loc: Place = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    if loc and loc[-1] == "[key]":  # a mapping key of the wrong type: YAML read ``1:`` as a number
        return (*loc[:-2], str(loc[-2])), f"key {loc[-2]!r} is not text", "write the key as text"
    # a kind pydantic cannot dispatch on is placed at the section itself (``source``) or at ``kind``
    if kind in ("union_tag_not_found", "union_tag_invalid", "literal_error") and (
        len(loc) <= 1 or loc[-1] == "kind"
    ):
        known = ", ".join(_kinds_of(Settings.model_fields[str(loc[0])].annotation))
        if kind == "union_tag_not_found":
            return (*loc, "kind"), "required key 'kind' is missing", f"add 'kind: ...', one of {known}"
        return (
            (*loc[:1], "kind"),
            f"unknown kind {ctx.get('tag', error.get('input'))!r}",
            f"write one of {known}",
        )
    if kind == "extra_forbidden":
        return loc, f"unknown key {loc[-1]!r}", _closest_key(loc, kinds)
    if kind == "missing":
        return loc, f"required key {loc[-1]!r} is missing", f"add '{loc[-1]}: ...' here"
    if kind == "value_error":
        problem, _, fix = str(ctx["error"]).partition("; ")
        return loc, problem, fix or "correct the value"
    problem = f"{error['msg'][0].lower()}{error['msg'][1:]}"
    if kind != "too_short":  # its message already says what was given
        problem += f", not {_shown(error.get('input'))}"
    return loc, problem, _type_fix(kind, ctx, loc, kinds)


def _shown(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _type_fix(kind: str, ctx: Mapping[str, Any], loc: Place, kinds: Mapping[str, str]) -> str:
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
        keys = _keys_at(loc, kinds)
        return "write a mapping of 'key: value' lines" + (f" (keys: {', '.join(keys)})" if keys else "")
    fixes = {
        "bool": "write true or false",
        "int": "write a whole number, e.g. 500",
        "float": "write a number, e.g. 5.0",
        "string": "write text (quote it if it looks like a number or true/false)",
        "list": "write a list: one '- item' per line, or [a, b]",
    }
    return fixes.get(kind.split("_")[0], "see include/mapping_rules/default.yaml for the expected form")


def _closest_key(loc: Place, kinds: Mapping[str, str]) -> str:
    keys = _keys_at(loc[:-1], kinds)
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"remove it; valid keys here: {', '.join(keys)}" if keys else "remove it"


def _keys_at(path: Place, kinds: Mapping[str, str]) -> list[str]:
    """The keys the settings model accepts at ``path`` (a section or list item), in declaration order."""
    annotation: Any = Settings
    for depth, part in enumerate(path):
        model = _model_in(annotation, kinds.get(str(path[0])) if depth == 1 else None)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
        else:  # a list index or a dict key: step into the item type
            annotation = _item_type(annotation)
    model = _model_in(annotation, kinds.get(str(path[0])) if len(path) == 1 else None)
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any, kind: str | None = None) -> type[BaseModel] | None:
    """The model of ``annotation``; of a union of kinds, the one ``kind`` names (else the first)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0], kind)
    if _is_union(annotation):
        models = [m for arg in typing.get_args(annotation) if (m := _model_in(arg))]
        chosen = [m for m in models if "kind" in m.model_fields and m.model_fields["kind"].default == kind]
        return next(iter(chosen or models), None)
    return None


def _kinds_of(annotation: Any) -> list[str]:
    """The kind names a connector section accepts."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    members = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    return [model.model_fields["kind"].default for member in members if (model := _model_in(member))]


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


def _as_written(text: str, renamed: Mapping[str, str]) -> str:
    """``text`` naming the sections as the file does (``directory.page_size``, not ``source.page_size``)."""
    for key, legacy in renamed.items():
        text = text.replace(f"{key}.", f"{legacy}.")
    return text


def _dotted(path: Place, renamed: Mapping[str, str]) -> str:
    """``path`` as the file writes it: a renamed legacy section under its own name."""
    if path and path[0] in renamed:
        path = (renamed[str(path[0])], *path[1:])
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"
