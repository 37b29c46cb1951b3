"""Seeded fault injection: errors, dropped connections, 429 bursts and latency, per method and path.

Fault SPEC (`--faults`, `PUT /__emulator/faults`): a JSON list of rules, or an object
`{"seed": 7, "rules": [...]}`. A rule, every key optional::

    {
      "method": "PUT",                 # HTTP method, or "*" (default) for any
      "path": "/rest/api/user/*",      # glob on the request path (context path removed);
                                       # "*" matches across "/" too; default "*"
      "error_rate": 0.2,               # share of matching requests answered with an error status
      "statuses": [500, 503],          # the error statuses, picked at random (default [500, 503])
      "drop_rate": 0.05,               # share closed without any response
      "latency_ms": 10,                # added to every matching request
      "burst_429": {"rate": 0.01, "length": 5, "retry_after": 2},
                                       # chance that a request starts a run of `length` 429s
                                       # (HTML body, Retry-After: retry_after seconds)
      "after": false,                  # true: carry the request out first, then fail or drop it
                                       # (the write happened, the client never hears so)
      "limit": null                    # stop injecting after this many faults from this rule
    }

The first rule that matches a request decides. One random generator, seeded with `seed`
(`--seed`, default 0), drives every rule, so the same seed and the same sequence of requests
give the same sequence of outcomes. Replacing the spec restarts the generator.
"""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass, field
from fnmatch import translate
from pathlib import Path
from typing import Any, Literal

FaultKind = Literal["error", "drop", "burst_429"]


@dataclass(frozen=True, slots=True)
class Burst429:
    rate: float
    length: int = 3
    retry_after: int = 1


@dataclass(slots=True)
class FaultRule:
    method: str = "*"
    path: str = "*"
    error_rate: float = 0.0
    statuses: tuple[int, ...] = (500, 503)
    drop_rate: float = 0.0
    latency_ms: float = 0.0
    burst_429: Burst429 | None = None
    after: bool = False
    limit: int | None = None
    _pattern: re.Pattern[str] = field(init=False, repr=False)
    _count: int = field(default=0, init=False, repr=False)
    _burst_left: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._pattern = re.compile(translate(self.path))
        if not 0 <= self.error_rate + self.drop_rate <= 1:
            raise ValueError("error_rate + drop_rate must be between 0 and 1")
        if self.error_rate and not self.statuses:
            raise ValueError("error_rate needs at least one status")

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self._pattern.match(path) is not None

    def as_json(self) -> dict[str, Any]:
        burst = self.burst_429
        return {
            "method": self.method,
            "path": self.path,
            "error_rate": self.error_rate,
            "statuses": list(self.statuses),
            "drop_rate": self.drop_rate,
            "latency_ms": self.latency_ms,
            "burst_429": None
            if burst is None
            else {"rate": burst.rate, "length": burst.length, "retry_after": burst.retry_after},
            "after": self.after,
            "limit": self.limit,
            "fired": self._count,
        }


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request: wait `latency`, then (if `kind`) fail it."""

    latency: float
    kind: FaultKind | None = None
    status: int = 0
    retry_after: int = 0
    after: bool = False


_RULE_KEYS = {
    "method",
    "path",
    "error_rate",
    "statuses",
    "drop_rate",
    "latency_ms",
    "burst_429",
    "after",
    "limit",
}


def spec_text(argument: str | None) -> str:
    """An emulator's ``--faults`` argument as JSON text: inline JSON, ``@FILE`` or nothing (no faults)."""
    spec = argument or "[]"
    return Path(spec[1:]).read_text(encoding="utf-8") if spec.startswith("@") else spec


def parse_rule(raw: dict[str, Any]) -> FaultRule:
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
    burst = raw.get("burst_429")
    return FaultRule(
        method=str(raw.get("method", "*")),
        path=str(raw.get("path", "*")),
        error_rate=float(raw.get("error_rate", 0.0)),
        statuses=tuple(int(status) for status in raw.get("statuses", (500, 503))),
        drop_rate=float(raw.get("drop_rate", 0.0)),
        latency_ms=float(raw.get("latency_ms", 0.0)),
        burst_429=None
        if burst is None
        else Burst429(float(burst["rate"]), int(burst.get("length", 3)), int(burst.get("retry_after", 1))),
        after=bool(raw.get("after", False)),
        limit=None if raw.get("limit") is None else int(raw["limit"]),
    )


def parse_spec(spec: Any, seed: int | None = None) -> tuple[list[FaultRule], int]:
    """Rules and seed from a SPEC (JSON text, a list of rules or `{"seed", "rules"}`); ValueError if bad."""
    if isinstance(spec, str):
        spec = json.loads(spec) if spec.strip() else []
    if isinstance(spec, dict):
        seed = int(spec.get("seed", 0)) if seed is None else seed
        spec = spec.get("rules", [])
    if not isinstance(spec, list | tuple):
        raise ValueError('a fault spec is a list of rules or {"seed": N, "rules": [...]}')
    try:
        return [parse_rule(raw) for raw in spec], seed or 0
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"bad fault rule: {exc!r}") from exc


class FaultInjector:
    def __init__(self, rules: list[FaultRule], seed: int = 0) -> None:
        self.rules = rules
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def decide(self, method: str, path: str) -> Fault | None:
        for rule in self.rules:
            if rule.matches(method, path):
                with self._lock:
                    return self._roll(rule)
        return None

    def _roll(self, rule: FaultRule) -> Fault:
        latency = rule.latency_ms / 1000
        if rule.limit is not None and rule._count >= rule.limit:
            return Fault(latency)
        burst = rule.burst_429
        if burst is not None and rule._burst_left:
            rule._burst_left -= 1
            return self._counted(rule, Fault(latency, "burst_429", 429, burst.retry_after))
        draw = self._random.random()
        if draw < rule.drop_rate:
            return self._counted(rule, Fault(latency, "drop", after=rule.after))
        if draw < rule.drop_rate + rule.error_rate:
            status = rule.statuses[self._random.randrange(len(rule.statuses))]
            return self._counted(rule, Fault(latency, "error", status, after=rule.after))
        if burst is not None and self._random.random() < burst.rate:
            rule._burst_left = burst.length - 1
            return self._counted(rule, Fault(latency, "burst_429", 429, burst.retry_after))
        return Fault(latency)

    @staticmethod
    def _counted(rule: FaultRule, fault: Fault) -> Fault:
        rule._count += 1
        return fault

    def as_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [rule.as_json() for rule in self.rules]}
