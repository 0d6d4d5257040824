"""Workspace members by e-mail: content declares people by e-mail, Notion writes need user ids.

One `GET /v1/users` (paginated, 100 a page) per plan: `{"object":"list","results":[user…],
"next_cursor","has_more","type":"user","user":{}}`. Person users are
`{"object":"user","id","name","avatar_url","type":"person","person":{"email"}}`; bots and people
whose e-mail the integration may not see (no "user information with e-mail" capability: no
`person.email`) are left out (NOTION-API.md §2 people row; DOC:list-all-users).
"""

from __future__ import annotations

from collections.abc import Mapping

from notion_client import APIResponseError

from reconciler.backends.notion.client import notion_refusal
from reconciler.errors import ReadError


def user_ids_by_email(client) -> dict[str, str]:
    """`{e-mail (lower case): user id}` of every person user the integration can see.

    Raises `ReadError` when Notion refuses the list (e.g. the integration lacks the capability
    to read user information).
    """
    found: dict[str, str] = {}
    cursor = None
    while True:
        try:
            page = client.users.list(start_cursor=cursor, page_size=100) if cursor \
                else client.users.list(page_size=100)
        except APIResponseError as exc:
            raise ReadError(f"cannot list the Notion workspace's users to resolve people by e-mail: "
                            f"{notion_refusal(exc)}. Give the integration the 'Read user information "
                            "including email addresses' capability") from None
        for user in page.get("results", []):
            email = ((user.get("person") or {}).get("email") or "").strip().lower()
            if user.get("type") == "person" and email and user.get("id"):
                found.setdefault(email, user["id"])
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor:
            return found


def user_id(users: Mapping[str, str], email: str) -> str | None:
    """The user id of `email` (case-insensitive), or None when no member has it."""
    return users.get(email.strip().lower())
