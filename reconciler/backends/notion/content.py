"""Writing a plan's page changes: create, update (changed properties only), archive.

Requests of one database run a few at a time (`WORKERS` in flight) so latency does not waste
the rate budget; the pacing layer below spaces their starts. A create that may have committed
(a 5xx or a dropped connection on `POST /v1/pages`) is looked up by its key before it is sent
again, so a retry never duplicates a page. Relation values that name rows created in the same
apply are written in a second pass, once every page has an id. Fields the live schema still
lacks are deferred: the row is written without them and the ledger says so (DESIGN.md
"Schema lag, explicitly").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from notion_client import APIResponseError

from reconciler.addresses import parse
from reconciler.backends.notion.convert import value_to_api
from reconciler.backends.notion.resilience import create_exactly_once
from reconciler.diff.content import content_hash
from reconciler.errors import ApplyError
from reconciler.model.notion import Database
from reconciler.plan.changes import Change

WORKERS = 4
#: `(change, status, detail)`: status is applied / deferred; detail holds ids, hash, deferred.
OnRow = Callable[[Change, str, dict[str, Any]], None]


@dataclass
class PendingRelation:
    """A relation value to write after every page of the run exists."""

    change: Change
    page_id: str
    field: str
    keys: list[Any]


@dataclass
class NotionContentWriter:
    """Writes page changes with the schemas apply has at hand.

    - `schemas`: database key → its live schema (refreshed by the schema executor).
    - `data_sources`: database key → data source id.
    - `pages_by_key`: database key → {row key → page id}, from the live read; new pages join it.
    - `key_fields`: database key → the property holding its rows' keys.
    """

    client: Any
    schemas: Mapping[str, Database]
    data_sources: Mapping[str, str]
    pages_by_key: dict[str, dict[str, str]]
    key_fields: Mapping[str, str]
    hash_fields: Mapping[str, str]
    pending: list[PendingRelation] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def apply(self, changes: Sequence[Change], on_row: OnRow) -> None:
        """Make every page change, then the relations that waited for new pages."""
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for result in pool.map(lambda c: self._one(c, on_row), changes):
                del result
        for item in self.pending:
            self._relation(item, on_row)

    def _one(self, change: Change, on_row: OnRow) -> None:
        db = parse(change.address)[0][1]
        try:
            if change.kind == "archive_page":
                self.client.pages.update((change.before or {})["id"], in_trash=True)
                on_row(change, "applied", {"page_id": (change.before or {})["id"]})
                return
            properties, deferred, later = self._properties(db, change)
            page_id = (change.before or {}).get("id")
            if page_id is not None and not properties and not later:
                on_row(change, "deferred", {"page_id": page_id, "deferred": sorted(deferred)})
                return  # nothing writable yet: the row is left as it is, no request spent
            hash_field = self.hash_fields[db]
            after = change.after or {}
            if hash_field in self.schemas[db].properties_by_name():
                written_hash = after["hash"] if not deferred and not later else content_hash(
                    {k: v for k, v in after["values"].items() if k not in deferred})
                properties[hash_field] = value_to_api("rich_text", written_hash)
            if page_id is None:
                page_id = self._create(db, change, properties)
            elif properties:
                self.client.pages.update(page_id, properties=properties)
            for name, keys in later.items():
                with self._lock:
                    self.pending.append(PendingRelation(change, page_id, name, keys))
            on_row(change, "deferred" if deferred else "applied",
                   {"page_id": page_id, "hash": after.get("hash"), "deferred": sorted(deferred)})
        except APIResponseError as exc:
            raise ApplyError(f"Notion refused the write: {exc.code}: {exc}", applied=0,
                             address=change.address) from None
        except ValueError as exc:
            raise ApplyError(str(exc), applied=0, address=change.address) from None

    def _properties(self, db: str, change: Change
                    ) -> tuple[dict[str, Any], list[str], dict[str, list[Any]]]:
        """Page-write properties now, fields deferred (missing live), relations for pass two."""
        schema = self.schemas[db].properties_by_name()
        out: dict[str, Any] = {}
        deferred: list[str] = []
        later: dict[str, list[Any]] = {}
        for name, value in (change.after or {}).get("values", {}).items():
            prop = schema.get(name)
            if prop is None:
                deferred.append(name)
                continue
            if prop.type == "relation" and value:
                ids, waiting = self._resolve(prop.relation.database if prop.relation else db, value)
                if waiting:
                    later[name] = list(value)
                    continue
                value = ids
            out[name] = value_to_api(prop.type, value)
        return out, deferred, later

    def _resolve(self, db: str, refs: Sequence[Any]) -> tuple[list[str], bool]:
        ids, waiting = [], False
        for ref in refs:
            if isinstance(ref, dict):
                found = self.pages_by_key.get(db, {}).get(str(ref.get("key")))
                if found is None:
                    waiting = True
                    continue
                ids.append(found)
            else:
                ids.append(ref)
        return ids, waiting

    def _create(self, db: str, change: Change, properties: dict[str, Any]) -> str:
        parent = {"type": "data_source_id", "data_source_id": self.data_sources[db]}
        key = (change.after or {})["key"]
        found = lambda: (lambda page_id: {"id": page_id} if page_id else None)(  # noqa: E731
            self._find_by_key(db, key))
        page = create_exactly_once(
            lambda: self.client.pages.create(parent=parent, properties=properties), found)
        with self._lock:
            self.pages_by_key.setdefault(db, {})[key] = page["id"]
        return page["id"]

    def _find_by_key(self, db: str, key: str) -> str | None:
        """The page whose key property holds `key`, if a create did commit after all."""
        name = self.key_fields[db]
        prop = self.schemas[db].properties_by_name()[name]
        kind = {"title": "title", "rich_text": "rich_text", "number": "number",
                "select": "select", "url": "url", "email": "email"}.get(prop.type, "rich_text")
        value: Any = float(key) if kind == "number" else key
        found = self.client.data_sources.query(
            self.data_sources[db], filter={"property": name, kind: {"equals": value}}, page_size=2)
        results = found.get("results", [])
        return results[0]["id"] if results else None

    def _relation(self, item: PendingRelation, on_row: OnRow) -> None:
        db = parse(item.change.address)[0][1]
        prop = self.schemas[db].properties_by_name()[item.field]
        target = prop.relation.database if prop.relation else db
        ids, waiting = self._resolve(target, item.keys)
        self.client.pages.update(item.page_id, properties={
            item.field: value_to_api("relation", ids)})
        if waiting:
            on_row(item.change, "deferred", {"page_id": item.page_id,
                                             "deferred": [item.field], "reason":
                                             "a related row does not exist"})
