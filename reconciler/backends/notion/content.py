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
    """The relation values of one page to write after every page of the run exists, with the
    hash pass one wrote and the fields it deferred (the row's ledger line waits for pass two)."""

    change: Change
    page_id: str
    keys: dict[str, list[Any]]
    hash: str | None
    deferred: list[str]


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
            after = change.after or {}
            written_hash = (change.before or {}).get("hash")  # what the page holds until written
            hashes = {"desired_hash": after.get("hash")}
            if page_id is not None and not properties and not later:
                on_row(change, "deferred", {"page_id": page_id, "deferred": sorted(deferred),
                                            "hash": written_hash, **hashes})
                return  # nothing writable yet: the row is left as it is, no request spent
            hash_field = self.hash_fields[db]
            if hash_field in self.schemas[db].properties_by_name():
                written_hash = after["hash"] if not deferred and not later else content_hash(
                    {k: v for k, v in after["values"].items() if k not in deferred})
                properties[hash_field] = value_to_api("rich_text", written_hash)
            hashes["hash"] = written_hash
            if page_id is None:
                page_id = self._create(db, change, properties)
            elif properties:
                self.client.pages.update(page_id, properties=properties)
            if later:  # pass two writes the relations, the final hash and the ledger line
                with self._lock:
                    self.pending.append(PendingRelation(change, page_id, later, written_hash,
                                                        sorted(deferred)))
                return
            on_row(change, "deferred" if deferred else "applied",
                   {"page_id": page_id, "deferred": sorted(deferred), **hashes})
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
        """One update of a page's waiting relations; with them the desired hash when every
        field of the row is now written (else the page keeps pass one's hash)."""
        db = parse(item.change.address)[0][1]
        schema = self.schemas[db].properties_by_name()
        properties, waiting = {}, []
        for name, keys in item.keys.items():
            prop = schema[name]
            ids, missing = self._resolve(prop.relation.database if prop.relation else db, keys)
            properties[name] = value_to_api("relation", ids)
            waiting += [name] if missing else []
        written = item.hash
        if not waiting and not item.deferred and self.hash_fields[db] in schema:
            written = (item.change.after or {}).get("hash")
            properties[self.hash_fields[db]] = value_to_api("rich_text", written)
        self.client.pages.update(item.page_id, properties=properties)
        detail = {"page_id": item.page_id, "deferred": sorted(item.deferred + waiting),
                  "hash": written, "desired_hash": (item.change.after or {}).get("hash")}
        if waiting:
            detail["reason"] = "a related row does not exist"
        on_row(item.change, "deferred" if detail["deferred"] else "applied", detail)
