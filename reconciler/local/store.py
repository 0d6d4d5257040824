"""Workspace state of the local Notion: users, databases, data sources and pages as plain dicts.

Persisted as ``<root>/workspace.json`` (written atomically: temp file + ``os.replace``) and loaded on
start. One re-entrant lock guards everything; the WSGI app holds it for a whole request.

Stored shapes (internal, not Notion's response shapes — those are built in ``app``/``values``/``schema``):

* ``databases[id]``: ``{id, title[], description[], parent{}, is_inline, in_trash, is_locked,
  created_time, last_edited_time, data_sources[ds ids], icon, cover}``
* ``data_sources[id]``: ``{id, database_id, title[], properties[{id,name,description,type,config}],
  icon, cover, in_trash, created_time, last_edited_time, counters{prop id: last unique_id}}``
* ``pages[id]``: ``{id, parent{}, values{prop id: stored value}, icon, cover, in_trash, is_locked,
  created_time, last_edited_time, seq}``

On first start the workspace holds one bot user (``users.me``), the person users of ``SEED_PEOPLE``
and one workspace-level page titled "Reconciler workspace" (parent ``{"type":"workspace","workspace":true}``,
as the recorded root page in REC:UN/test_session/test_get_page_by_id.yaml #0).

* ``users[id]``: response shape (NOTION-API.md §2 created_by row, DOC:user object): the bot
  ``{object:"user", id, name, avatar_url, type:"bot", bot:{owner, workspace_name, workspace_id, …}}``; people
  ``{object:"user", id, name, avatar_url:null, type:"person", person:{email}}``.

A workspace saved before people were seeded gets the missing ``SEED_PEOPLE`` when it is loaded (by e-mail,
same ids), so content that names them plans the same on old and new workspaces.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .errors import validation

ROOT_PAGE_TITLE = "Reconciler workspace"
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

    Raises 400 ``validation_error`` "path failed validation: path.page_id should be a valid uuid, instead
    was `"…"`." (REC:UN/test_cli/test_upload_invalid_page_uuid.yaml: Notion also rejects a bad variant nibble;
    the nil UUID passes and is then not found, REC:RA/test_build_request_error_integration.yaml).
    """
    text = value if isinstance(value, str) else ""
    hexs = text.replace("-", "")
    if not _HEX32.match(hexs) or (hexs[16].lower() not in "89ab" and hexs != "0" * 32):
        raise validation(f"{where} should be a valid uuid, instead was `{json.dumps(value)}`.")
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


class Store:
    """The workspace state under ``root`` with one lock; ``save()`` after every mutation.

    ``lock`` is re-entrant; callers hold it around read-modify-save sequences.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.path = self.root / "workspace.json"
        self.lock = threading.RLock()
        self.data: dict[str, Any]
        if self.path.exists():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
            self._seed_people()
        else:
            self.data = self._fresh()
            self.save()

    @staticmethod
    def _fresh() -> dict[str, Any]:
        bot_id, ws_id, root_id = new_uuid(), new_uuid(), new_uuid()
        bot = {"object": "user", "id": bot_id, "name": "Reconciler (local)", "avatar_url": None, "type": "bot",
               "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Local workspace",
                       "workspace_id": ws_id,
                       "workspace_limits": {"max_file_upload_size_in_bytes": 5242880}}}
        ts = now_minute()
        root_page = {"id": root_id, "parent": {"type": "workspace", "workspace": True},
                     "values": {"title": text_rich(ROOT_PAGE_TITLE)}, "icon": None, "cover": None,
                     "in_trash": False, "is_locked": False, "created_time": ts, "last_edited_time": ts, "seq": 0}
        users = {bot_id: bot} | {u["id"]: u for u in (person_user(*p) for p in SEED_PEOPLE)}
        return {"workspace_id": ws_id, "bot_id": bot_id, "users": users, "databases": {},
                "data_sources": {}, "pages": {root_id: root_page}, "seq": 1}

    def _seed_people(self) -> None:
        """Add the ``SEED_PEOPLE`` a workspace saved before they existed lacks (in memory; saved with
        the next write)."""
        users = self.data.setdefault("users", {})
        emails = {(u.get("person") or {}).get("email", "").lower() for u in users.values()}
        for name, email in SEED_PEOPLE:
            if email.lower() not in emails:
                user = person_user(name, email)
                users[user["id"]] = user

    # -- accessors -------------------------------------------------------------------------------
    @property
    def bot(self) -> dict[str, Any]:
        """The integration's bot user (``GET /v1/users/me``, REC:RA/test_users_me.yaml)."""
        return self.data["users"][self.data["bot_id"]]

    @property
    def workspace_id(self) -> str:
        return self.data["workspace_id"]

    @property
    def databases(self) -> dict[str, dict[str, Any]]:
        return self.data["databases"]

    @property
    def data_sources(self) -> dict[str, dict[str, Any]]:
        return self.data["data_sources"]

    @property
    def pages(self) -> dict[str, dict[str, Any]]:
        return self.data["pages"]

    @property
    def users(self) -> dict[str, dict[str, Any]]:
        return self.data["users"]

    def next_seq(self) -> int:
        """Monotonic creation counter (stable order for equal minute timestamps)."""
        self.data["seq"] += 1
        return self.data["seq"]

    def save(self) -> None:
        """Write ``workspace.json`` atomically (temp file in the same directory, then ``os.replace``)."""
        with self.lock:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".workspace.", suffix=".tmp", dir=self.root)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(self.data, fh, separators=(",", ":"), ensure_ascii=False)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
