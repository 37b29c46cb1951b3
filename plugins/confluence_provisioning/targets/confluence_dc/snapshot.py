"""What Confluence has at one moment: the three directory frames the planner diffs against."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class ConfluenceSnapshot:
    users: pd.DataFrame  # frames.USERS
    groups: pd.DataFrame  # frames.GROUPS
    memberships: pd.DataFrame  # frames.MEMBERSHIPS of the groups that were read
