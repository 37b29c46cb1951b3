"""Administrator patterns run with RE2: Python syntax, bounded time, Python-style replacements."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from confluence_provisioning.mapping.patterns import (
    PatternError,
    compile_pattern,
    compile_rewrite,
    rewrite_all,
    search_all,
)
from tests.mapping.idp import directory, mapped, person, rows


def texts(*values: str | None) -> pd.Series:
    return pd.Series(values, dtype="string", index=[10 * n for n in range(len(values))])


def test_search_finds_the_pattern_anywhere_and_keeps_the_index() -> None:
    found = search_all(texts("team-web", "my-team-x", None, "web"), compile_pattern("team-"))
    assert found.tolist() == [True, True, False, False]
    assert found.index.tolist() == [0, 10, 20, 30]


def test_python_end_of_text_is_translated() -> None:
    assert search_all(texts("ab", "ab\n"), compile_pattern("b\\Z")).tolist() == [True, False]


def test_replacements_take_python_syntax() -> None:
    values = texts("team-web", "Équipe-Paris", None, "c:\\x")
    cases = {
        ("^team-(.*)$", "\\1-team"): ["web-team", "Équipe-Paris", None, "c:\\x"],
        ("^(?P<who>[^-]+)-(.*)$", "\\2/\\g<who>/\\g<0>"): [
            "web/team/team-web",
            "Paris/Équipe/Équipe-Paris",
            None,
            "c:\\x",
        ],
        ("-", "é\\\\"): [
            "teamé\\web",
            "Équipeé\\Paris",
            None,
            "c:\\x",
        ],  # non-ASCII and a backslash, literally
        ("\\\\", "/"): ["team-web", "Équipe-Paris", None, "c:/x"],
        # empty matches as re.sub makes them, except right after a match (RE2's rule: no "." after "x")
        ("x*", "."): [".t.e.a.m.-.w.e.b.", ".É.q.u.i.p.e.-.P.a.r.i.s.", None, ".c.:.\\."],
    }
    for (pattern, replace), expected in cases.items():
        result = rewrite_all(values, [compile_rewrite(pattern, replace)])
        assert [None if pd.isna(v) else v for v in result] == expected, (pattern, replace)
        assert result.index.tolist() == values.index.tolist()


def test_one_value_rewrite_matches_the_column_rewrite() -> None:
    assert compile_rewrite("^team-(.*)$", "\\1-team").apply("team-sre") == "sre-team"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?=x)", "pattern '(?=x)' does not compile: invalid perl operator: (?="),
        ("(a)\\1", "pattern '(a)\\1' does not compile: invalid escape sequence: \\1"),
        ("[a-", "pattern '[a-' does not compile: missing ]: [a-"),
    ],
)
def test_patterns_re2_cannot_run_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as raised:
        compile_pattern(pattern)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("pattern", "replace", "message"),
    [
        ("^(.*)$", "\\2", "replacement '\\2' refers to group 2, but pattern '^(.*)$' has 1 group(s)"),
        (
            "^(.*)$",
            "\\g<name>",
            "replacement '\\g<name>' names group <name>, which pattern '^(.*)$' does not define",
        ),
        ("^(.*)$", "\\q", "replacement '\\q' has an unknown escape \\q"),
        ("^(.*)$", "x\\", "replacement 'x\\' ends with a lone backslash"),
        (
            "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)",
            "\\10",
            "replacement '\\10' refers to group 10; RE2 numbers groups 1 to 9 only",
        ),
    ],
)
def test_replacements_naming_groups_the_pattern_lacks_are_refused(
    pattern: str, replace: str, message: str
) -> None:
    with pytest.raises(PatternError) as raised:
        compile_rewrite(pattern, replace)
    assert str(raised.value) == message


PATHOLOGICAL = "(a+)+$"  # exponential for a backtracking engine on "aaaa...b"


def test_a_pathological_pattern_on_a_long_text_finishes_in_bounded_time() -> None:
    evil = "a" * 200_000 + "!"
    started = time.monotonic()
    assert search_all(texts(evil, "aaa"), compile_pattern(PATHOLOGICAL)).tolist() == [False, True]
    assert rewrite_all(texts(evil), [compile_rewrite("(a+)+b", "x")]).tolist() == [evil]
    assert compile_pattern(PATHOLOGICAL).search(evil) is False
    assert time.monotonic() - started < 2.0


def test_a_pathological_pattern_in_the_rules_does_not_hang_the_mapping() -> None:
    long_name = "a" * 50_000 + "!"
    idp = directory(
        [person("alice", **{"attr.title": long_name}), person("bob", **{"attr.title": "aaa"})],
        groups={long_name: ["alice"], "aaaa": ["bob"]},
    )
    started = time.monotonic()
    result = mapped(
        idp,
        source={"extra_attributes": ["title"]},
        users={"exclude": {"attributes": {"title": PATHOLOGICAL}}},
        groups={
            "on_the_fly": {
                "enabled": True,
                "exclude": [PATHOLOGICAL],
                "rewrites": [{"pattern": "(a+)+!", "replace": "x"}],
            }
        },
    )
    assert time.monotonic() - started < 5.0
    assert rows(result.users, "username") == [("alice",)]
    assert rows(result.groups, "name") == [("x",)]
