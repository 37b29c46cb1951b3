"""The building blocks of every rules section: the strict base model and the checked value types."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from confluence_provisioning.mapping.dn import DnError, dn_key
from confluence_provisioning.mapping.naming import group_name_problem
from confluence_provisioning.mapping.patterns import PATTERN_HINT, PatternError, compile_pattern


def _compiles(source: str) -> str:
    try:
        compile_pattern(source)
    except PatternError as error:
        raise ValueError(f"{error}; {PATTERN_HINT}") from None
    return source


def _lower_case_group(name: str) -> str:
    if not name.strip():
        raise ValueError("a group name cannot be blank; write its name")
    if problem := group_name_problem(name):
        raise ValueError(f"{problem}; write the name without them")
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


class RetrySettings(Strict):
    max_attempts: int = Field(default=6, ge=1)
    base_delay_seconds: float = Field(default=0.5, ge=0)
    max_delay_seconds: float = Field(default=30.0, ge=0)
    budget_seconds: float = Field(default=600.0, ge=0)
    # a server's Retry-After is honoured up to this many seconds (a broken header must not stall a run)
    retry_after_cap_seconds: float = Field(default=120.0, ge=0)


class BreakerSettings(Strict):
    """When apply stops sending because the target is down (the task fails, Airflow retries it)."""

    consecutive_failures: int = Field(default=20, ge=1)  # connection errors or 5xx in a row
    no_success_seconds: float = Field(default=60.0, gt=0)  # or this long without a successful request
