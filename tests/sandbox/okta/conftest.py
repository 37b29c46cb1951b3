"""Helpers for the Okta emulator's contract tests: an HTTP session and a paged walk."""

from __future__ import annotations

from typing import Any

import requests

from sandbox.okta import OktaServer


def session(server: OktaServer, token: str | None = None) -> requests.Session:
    http = requests.Session()
    http.headers.update({"Accept": "application/json", "Authorization": f"SSWS {token or server.token}"})
    return http


def walk(http: requests.Session, url: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following `rel="next"` links; and how many pages it took."""
    items: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        response = http.get(next_url, params=params if pages == 0 else None, timeout=10)
        assert response.status_code == 200, response.text
        items.extend(response.json())
        pages += 1
        next_url = response.links.get("next", {}).get("url")
    return items, pages


def add_users(server: OktaServer, count: int, prefix: str = "user") -> list[str]:
    """`count` ACTIVE users `{prefix}{n}@example.com`; their ids in creation order."""
    return [
        server.directory.create_user(
            {
                "login": f"{prefix}{n}@example.com",
                "email": f"{prefix}{n}@example.com",
                "firstName": prefix.title(),
                "lastName": str(n),
            }
        ).id
        for n in range(count)
    ]
