"""Small shared pieces of the local Notion: ids, timestamps, rich text, seeded users.

Nothing here touches the store; every other module of ``reconciler.local`` may import it.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from .errors import validation

ROOT_PAGE_TITLE = "Reconciler workspace"
BOT_NAME = "Reconciler (local)"
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
# Characters seen in Notion property ids (NOTION-API.md A.1: "%3FB%3AW", "v_%5D%3C", "~e%3F%5E").
_PROP_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789?:;<=>@[]^_{|}~\\"

#: Person users every local workspace has: (name, e-mail). Content declares people by e-mail
#: (docs/content.md); these are the members such content can name on the local Notion.
SEED_PEOPLE = (("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com"),
               ("Linus Torvalds", "linus@example.com"))


def person_user(name: str, email: str) -> dict[str, Any]:
    """A person user in Notion's shape; its id is derived from the e-mail (stable across workspaces)."""
    ident = str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:" + email.lower()))
    return {"object": "user", "id": ident, "name": name, "avatar_url": None, "type": "person",
            "person": {"email": email}}


def bot_user(bot_id: str, workspace_id: str) -> dict[str, Any]:
    """The integration's bot user (``GET /v1/users/me``, REC:RA/test_users_me.yaml)."""
    return {"object": "user", "id": bot_id, "name": BOT_NAME, "avatar_url": None, "type": "bot",
            "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Local workspace",
                    "workspace_id": workspace_id,
                    "workspace_limits": {"max_file_upload_size_in_bytes": 5242880}}}


def new_uuid() -> str:
    """A fresh dashed UUID (version 4, RFC variant: passes Notion's path validation)."""
    return str(uuid.uuid4())


def new_property_id(taken: set[str]) -> str:
    """A short Notion-like property id, URL-encoded like Notion's (``%3FB%3AW``), never ``title``."""
    while True:
        raw = "".join(random.choice(_PROP_ID_CHARS) for _ in range(4))
        pid = quote(raw, safe="~_")
        if pid not in taken and pid != "title":
            return pid


def parse_uuid(value: Any, where: str) -> str:
    """Dashed lower-case UUID from an id with or without dashes.

    ``where`` is the path of the value (``path.page_id``, ``body.parent.page_id``). Raises 400
    ``validation_error`` "path failed validation: path.page_id should be a valid uuid, instead was `"…"`."
    (REC:UN/test_cli/test_upload_invalid_page_uuid.yaml #0: Notion also rejects a bad variant nibble; the
    nil UUID passes and is then not found, REC:RA/test_build_request_error_integration.yaml #0).
    """
    text = value if isinstance(value, str) else ""
    hexs = text.replace("-", "")
    if not _HEX32.match(hexs) or (hexs[16].lower() not in "89ab" and hexs != "0" * 32):
        part = where.split(".", 1)[0]
        raise validation(f"{part} failed validation: {where} should be a valid uuid, instead was "
                         f"`{json.dumps(value)}`.")
    h = hexs.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def now_minute() -> str:
    """Page/data source timestamp, minute-granular: ``2026-06-27T06:00:00.000Z`` (NOTION-API.md §1.1)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:00.000Z")


def now_ms() -> str:
    """Database timestamp with milliseconds: ``2026-07-04T09:09:51.502+00:00`` (REC:RA/test_databases_create.yaml)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def text_rich(content: str) -> list[dict[str, Any]]:
    """A one-item rich text array in Notion's response shape."""
    return [{"type": "text", "text": {"content": content, "link": None},
             "annotations": {"bold": False, "italic": False, "strikethrough": False, "underline": False,
                             "code": False, "color": "default"},
             "plain_text": content, "href": None}]


def plain(rich: list[dict[str, Any]] | None) -> str:
    """Concatenated ``plain_text`` of a stored rich text array."""
    return "".join(r.get("plain_text", "") for r in rich or [])
