"""Workspace state of the local Notion in SQLite: ``<root>/notion.sqlite3`` (WAL mode).

One row per object, its JSON in ``data`` and the columns that index it beside it:

* ``meta(key, value)``: ``workspace_id``, ``bot_id``, ``seq`` (the creation counter);
* ``users(id, data)``; ``databases(id, parent_id, data)``; ``data_sources(id, database_id, data)``;
* ``pages(id, ds_id, parent_id, seq, in_trash, title, created_at, data)``, indexed by
  ``(ds_id, in_trash, seq)`` (a query reads only its data source's rows) and by ``parent_id``.

Every request runs in one ``transaction()``. A write takes SQLite's write lock first (``BEGIN
IMMEDIATE``), so ``reconciler local serve`` and an embedded client on the same directory serialise
their writes, and each reads what the other committed: nothing is cached across transactions.
Objects read in a transaction are kept in an identity map (one dict per object, mutated in place by
the handlers); at commit the ones whose JSON changed are written back. A write therefore costs the
objects it touched, never the whole workspace. An exception rolls the transaction back.

Stored shapes (internal, not Notion's response shapes — those are built in ``objects``/``values``/``schema``):

* database: ``{id, title[], description[], parent{page_id}, is_inline, in_trash, is_locked,
  created_time, last_edited_time, data_sources[ds ids], icon, cover, created_at}``
* data source: ``{id, database_id, title[], properties[{id,name,description,type,config}], icon, cover,
  in_trash, created_time, last_edited_time, counters{prop id: last unique_id}, seq, created_at}``
* page: ``{id, parent{data_source_id|page_id|workspace}, values{prop id: stored value}, icon, cover,
  in_trash, is_locked, created_time, last_edited_time, created_by, last_edited_by, seq, created_at}``
* user: the response shape (NOTION-API.md §2 created_by row): the bot, and the ``SEED_PEOPLE``.

``created_at`` is the creation moment in epoch seconds, used by the search lag (``app``); objects
that exist before anyone asks (the root page, migrated objects) have 0.

A fresh workspace holds the bot, the ``SEED_PEOPLE`` and one workspace-level page titled
"Reconciler workspace" (parent ``{"type":"workspace","workspace":true}``, as the recorded root page in
REC:UN/test_session/test_get_page_by_id.yaml #0). A ``workspace.json`` written by the former store is
imported on first open and renamed ``workspace.json.migrated``; a workspace lacking some
``SEED_PEOPLE`` gains them (same ids, derived from the e-mail).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .common import (ROOT_PAGE_TITLE, SEED_PEOPLE, bot_user, new_uuid, now_minute, person_user, plain,
                     text_rich)

DB_FILE = "notion.sqlite3"
LEGACY_FILE = "workspace.json"
Obj = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS databases (id TEXT PRIMARY KEY, parent_id TEXT, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS databases_parent ON databases (parent_id);
CREATE TABLE IF NOT EXISTS data_sources (id TEXT PRIMARY KEY, database_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (id TEXT PRIMARY KEY, ds_id TEXT, parent_id TEXT, seq INTEGER NOT NULL,
    in_trash INTEGER NOT NULL, title TEXT NOT NULL, created_at REAL NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS pages_ds ON pages (ds_id, in_trash, seq);
CREATE INDEX IF NOT EXISTS pages_parent ON pages (parent_id);
"""

#: Index columns of each table, derived from the stored object.
_COLUMNS = {
    "users": lambda o: {},
    "databases": lambda o: {"parent_id": o["parent"].get("page_id")},
    "data_sources": lambda o: {"database_id": o["database_id"]},
    "pages": lambda o: {"ds_id": o["parent"].get("data_source_id"), "parent_id": o["parent"].get("page_id"),
                        "seq": o["seq"], "in_trash": int(bool(o["in_trash"])),
                        "title": plain(o["values"].get("title")).lower(), "created_at": o.get("created_at", 0.0)},
}


def _dumps(obj: Obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Store:
    """The workspace under ``root``. Use every accessor inside ``with store.transaction(write=…):``.

    ``lock`` (re-entrant) serialises the transactions of this process; SQLite's locks serialise
    the writers of different processes (waiting up to ``timeout`` seconds for the write lock).
    """

    def __init__(self, root: Path, timeout: float = 60.0):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / DB_FILE
        self.lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._loaded: dict[tuple[str, str], list[Any]] = {}
        self._depth = 0
        self._write = False
        migrated = False
        with self.transaction(write=True):
            if self._meta("workspace_id") is None:
                migrated = self._import_legacy()
                if not migrated:
                    self._seed_fresh()
            self._seed_people()
            self.bot_id = self._meta("bot_id") or ""
            self.workspace_id = self._meta("workspace_id") or ""
        legacy = self.root / LEGACY_FILE
        if migrated and legacy.exists():
            legacy.replace(self.root / (LEGACY_FILE + ".migrated"))

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[None]:
        """One SQLite transaction; nested calls join the outer one (a write inside a read raises
        RuntimeError). On success the changed objects are written back and committed."""
        with self.lock:
            if self._depth:
                if write and not self._write:
                    raise RuntimeError("a write inside a read transaction")
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            self._depth, self._write, self._loaded = 1, write, {}
            try:
                yield
                if write:
                    self._flush()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._depth, self._write, self._loaded = 0, False, {}

    def _flush(self) -> None:
        for (table, _), entry in self._loaded.items():
            text = _dumps(entry[0])
            if text != entry[1]:
                self._upsert(table, entry[0], text)
                entry[1] = text

    def _upsert(self, table: str, obj: Obj, text: str) -> None:
        cols = _COLUMNS[table](obj)
        names = ["id", *cols, "data"]
        sets = ", ".join(f"{n}=excluded.{n}" for n in names[1:])
        self._db.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                         f"ON CONFLICT(id) DO UPDATE SET {sets}", [obj["id"], *cols.values(), text])

    def _rows(self, table: str, sql: str, params: tuple[Any, ...] = ()) -> list[Obj]:
        """Objects of ``table`` whose rows ``sql`` selects (``SELECT id, data …``), through the identity map."""
        out = []
        for ident, text in self._db.execute(sql, params):
            entry = self._loaded.get((table, ident))
            if entry is None:
                entry = self._loaded[(table, ident)] = [json.loads(text), text]
            out.append(entry[0])
        return out

    def _get(self, table: str, ident: str | None) -> Obj | None:
        if not ident:
            return None
        entry = self._loaded.get((table, ident))
        if entry is not None:
            return entry[0]
        found = self._rows(table, f"SELECT id, data FROM {table} WHERE id = ?", (ident,))
        return found[0] if found else None

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    # -- objects ---------------------------------------------------------------------------------
    def add(self, table: str, obj: Obj) -> Obj:
        """Store a new object (``table``: users, databases, data_sources or pages) in this write transaction."""
        text = _dumps(obj)
        self._upsert(table, obj, text)
        self._loaded[(table, obj["id"])] = [obj, text]
        return obj

    def user(self, ident: str | None) -> Obj | None:
        """The user with dashed id ``ident``, or None."""
        return self._get("users", ident)

    def users(self) -> list[Obj]:
        """Every user: the bot and the people."""
        return self._rows("users", "SELECT id, data FROM users")

    def database(self, ident: str | None) -> Obj | None:
        """The stored database with dashed id ``ident``, or None (trashed ones included)."""
        return self._get("databases", ident)

    def data_source(self, ident: str | None) -> Obj | None:
        """The stored data source with dashed id ``ident``, or None (trashed ones included)."""
        return self._get("data_sources", ident)

    def page(self, ident: str | None) -> Obj | None:
        """The stored page with dashed id ``ident``, or None (trashed ones included)."""
        return self._get("pages", ident)

    @property
    def bot(self) -> Obj:
        """The integration's bot user."""
        return self.user(self.bot_id) or {}

    def sources_of(self, db: Obj) -> list[Obj]:
        """The data sources of database ``db``, in creation order."""
        return [ds for ds in (self.data_source(i) for i in db["data_sources"]) if ds is not None]

    def data_sources(self) -> list[Obj]:
        """Every data source (search), in creation order."""
        rows = self._rows("data_sources", "SELECT id, data FROM data_sources")
        return sorted(rows, key=lambda ds: ds.get("seq", 0))

    def pages_in(self, ds_id: str, in_trash: bool | None = None) -> list[Obj]:
        """Pages of one data source, in creation order; ``in_trash`` None means both."""
        if in_trash is None:
            return self._rows("pages", "SELECT id, data FROM pages WHERE ds_id = ? ORDER BY seq", (ds_id,))
        return self._rows("pages", "SELECT id, data FROM pages WHERE ds_id = ? AND in_trash = ? ORDER BY seq",
                          (ds_id, int(in_trash)))

    def iter_pages_in(self, ds_id: str, in_trash: bool, from_seq: int = 0) -> Iterator[Obj]:
        """Pages of one data source from creation number ``from_seq`` on, in creation order, read
        lazily (a page of a query reads its rows, not the whole data source)."""
        rows = self._db.execute("SELECT id, data FROM pages WHERE ds_id = ? AND in_trash = ? AND seq >= ? "
                                "ORDER BY seq", (ds_id, int(in_trash), from_seq))
        for ident, text in rows:
            entry = self._loaded.get(("pages", ident))
            if entry is None:
                entry = self._loaded[("pages", ident)] = [json.loads(text), text]
            yield entry[0]

    def pages_under(self, page_id: str) -> list[Obj]:
        """Pages whose parent is page ``page_id``, in creation order."""
        return self._rows("pages", "SELECT id, data FROM pages WHERE parent_id = ? ORDER BY seq", (page_id,))

    def databases_under(self, page_id: str) -> list[Obj]:
        """Databases whose parent is page ``page_id``."""
        return self._rows("databases", "SELECT id, data FROM databases WHERE parent_id = ?", (page_id,))

    def has_children(self, page_id: str) -> bool:
        """Whether a page or a database has page ``page_id`` as parent."""
        return self._db.execute("SELECT EXISTS (SELECT 1 FROM pages WHERE parent_id = ?) OR "
                                "EXISTS (SELECT 1 FROM databases WHERE parent_id = ?)",
                                (page_id, page_id)).fetchone()[0] == 1

    def has_rows(self, ds_ids: list[str]) -> bool:
        """Whether any page belongs to one of the data sources ``ds_ids``."""
        marks = ", ".join("?" * len(ds_ids))
        return bool(ds_ids) and self._db.execute(
            f"SELECT EXISTS (SELECT 1 FROM pages WHERE ds_id IN ({marks}))", ds_ids).fetchone()[0] == 1

    def search_pages(self, query: str, created_before: float) -> list[Obj]:
        """Untrashed pages whose lower-cased title contains ``query`` (lower case), created at or
        before ``created_before`` (epoch seconds), in creation order."""
        return self._rows("pages", "SELECT id, data FROM pages WHERE in_trash = 0 AND created_at <= ? "
                          "AND instr(title, ?) > 0 ORDER BY seq", (created_before, query))

    def next_seq(self) -> int:
        """Monotonic creation counter (stable order for equal minute timestamps)."""
        row = self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq' "
                               "RETURNING value").fetchone()
        return int(row[0])

    # -- seeding and migration -----------------------------------------------------------------
    def _set_meta(self, **values: Any) -> None:
        for key, value in values.items():
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))

    def _seed_fresh(self) -> None:
        bot_id, ws_id, root_id = new_uuid(), new_uuid(), new_uuid()
        self._set_meta(workspace_id=ws_id, bot_id=bot_id, seq=1)
        self.add("users", bot_user(bot_id, ws_id))
        ts = now_minute()
        self.add("pages", {"id": root_id, "parent": {"type": "workspace", "workspace": True},
                           "values": {"title": text_rich(ROOT_PAGE_TITLE)}, "icon": None, "cover": None,
                           "in_trash": False, "is_locked": False, "created_time": ts, "last_edited_time": ts,
                           "seq": 0, "created_at": 0.0})

    def _import_legacy(self) -> bool:
        """Import ``workspace.json`` of the former whole-file store, if there is one."""
        legacy = self.root / LEGACY_FILE
        if not legacy.exists():
            return False
        data = json.loads(legacy.read_text(encoding="utf-8"))
        self._set_meta(workspace_id=data["workspace_id"], bot_id=data["bot_id"], seq=data.get("seq", 1))
        for table in ("users", "databases", "data_sources", "pages"):
            for obj in (data.get(table) or {}).values():
                self.add(table, obj)
        return True

    def _seed_people(self) -> None:
        emails = {(u.get("person") or {}).get("email", "").lower() for u in self.users()}
        for name, email in SEED_PEOPLE:
            if email.lower() not in emails:
                self.add("users", person_user(name, email))
