"""Which email the planner compares against: Confluence's own, or the one we last pushed.

Confluence can hide emails (its email-visibility setting); the client then reads every
email as <NA>. Reading <NA> as "no email" would plan an email update for every user on
every run, so instead the planner compares with the ledger the audit store keeps (what
this sync last sent for each user). With neither, no email update is planned.
"""

from __future__ import annotations

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.plan.operations import EmailSource

LEDGER: dict[str, str] = {"username": frames.STRING, "email": frames.STRING}


def known_emails(
    current_users: pd.DataFrame, ledger: pd.DataFrame | None
) -> tuple[pd.Series, EmailSource, list[str]]:
    """The email to compare with per current user (aligned with ``current_users``), its source, notes.

    <NA> means unknown for that user: no email update is planned for them.
    """
    if current_users.empty or current_users["email"].notna().any():  # nothing hidden
        return current_users["email"], "confluence", []
    if ledger is None:
        note = (
            "Confluence hides emails and no ledger of pushed emails was given: email changes are not planned"
        )
        return pd.Series(pd.NA, index=current_users.index, dtype=frames.STRING), "none", [note]
    latest = _latest_per_user(ledger)
    emails = current_users["username"].map(latest).astype(frames.STRING)
    notes = ["Confluence hides emails: email changes are compared with the emails this sync last pushed"]
    unknown = int(emails.isna().sum())
    if unknown:
        notes.append(
            f"{unknown} Confluence users have no pushed email on record: their emails are not compared"
        )
    return emails, "ledger", notes


def _latest_per_user(ledger: pd.DataFrame) -> pd.Series:
    """username -> the email pushed last (the ledger may keep several rows per user)."""
    rows = ledger.sort_values("pushed_at", kind="stable") if "pushed_at" in ledger.columns else ledger
    rows = frames.conform(rows, LEDGER).dropna(subset=["email"])
    rows = rows.assign(username=rows["username"].str.lower())
    return rows.drop_duplicates("username", keep="last").set_index("username")["email"]
