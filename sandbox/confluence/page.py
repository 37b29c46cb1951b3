"""A plain HTML view of the site for people: users (active or disabled), groups and their members."""

from __future__ import annotations

from html import escape

from sandbox.confluence.state import Directory


def render_site(directory: Directory, limit: int = 500) -> str:
    """At most `limit` users, groups and members per group, every value HTML-escaped."""
    users, user_total = directory.users_page(0, limit)
    groups, group_total = directory.groups_page(0, limit)
    rows = "".join(
        f"<tr><td>{escape(user.username)}</td><td>{escape(user.display_name)}</td><td>{escape(user.email)}</td>"
        f"<td>{'active' if user.active else 'disabled'}</td>"
        f"<td><code>{escape(user.user_key)}</code></td></tr>"
        for user in users
    )
    sections = []
    for group in groups:
        members, member_total = directory.members_page(group, 0, limit)
        names = ", ".join(escape(member.username) for member in members) or "<em>no members</em>"
        sections.append(
            f"<h3>{escape(group)} ({member_total})</h3><p>{names}{_more(member_total, limit)}</p>"
        )
    seats = "unlimited" if directory.seats is None else str(directory.seats)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Confluence emulator</title></head><body>"
        f"<h1>Confluence emulator</h1><p>Seats in use: {directory.active_users} of {seats}</p>"
        f"<h2>Users ({user_total})</h2><table border='1'><tr><th>Username</th><th>Full name</th>"
        f"<th>Email</th><th>Status</th><th>User key</th></tr>{rows}</table>{_more(user_total, limit)}"
        f"<h2>Groups ({group_total})</h2>{''.join(sections)}{_more(group_total, limit)}"
        "</body></html>"
    )


def _more(total: int, shown: int) -> str:
    return f"<p>… and {total - shown} more</p>" if total > shown else ""
