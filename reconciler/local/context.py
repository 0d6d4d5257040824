"""What every endpoint handler gets: the store, the search lag, lookups that answer Notion's errors.

Writes under a trashed ancestor are refused with 404 ``object_not_found``, as Notion does: a
database under a trashed page "reads as alive but refuses every write, and the API answers 404
blaming sharing" (NOTION-API.md §1.4, NS:README.md "En cas d'échec"). Reads are not affected.
Ancestors: a row's data source, its database and the database's parent pages; a page's parent
pages; a database's parent pages; a data source's database and its parent pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .common import parse_uuid
from .errors import not_found
from .store import Store

Obj = dict[str, Any]
_MAX_DEPTH = 64


@dataclass
class Context:
    """``store``; ``search_lag``: seconds during which a new page or data source is not found by search
    (NOTION-API.md §1.5: search "indexing is not immediate")."""

    store: Store
    search_lag: float = 0.0

    def _find(self, raw: Any, where: str, kind: str, get: Callable[[str], Obj | None]) -> Obj:
        ident = parse_uuid(raw, where)
        found = get(ident)
        if found is None:
            raise not_found(kind, ident)
        return found

    def database(self, raw: Any, where: str = "path.database_id") -> Obj:
        """The database ``raw`` names (400 for a malformed id, 404 when unknown)."""
        return self._find(raw, where, "database", self.store.database)

    def data_source(self, raw: Any, where: str = "path.data_source_id") -> Obj:
        """The data source ``raw`` names (400 for a malformed id, 404 when unknown)."""
        return self._find(raw, where, "data source", self.store.data_source)

    def page(self, raw: Any, where: str = "path.page_id") -> Obj:
        """The page ``raw`` names (400 for a malformed id, 404 when unknown)."""
        return self._find(raw, where, "page", self.store.page)

    def trashed_above(self, parent: Obj) -> bool:
        """Whether the object ``parent`` refers to (``{"data_source_id"|"database_id"|"page_id": id}``)
        or one of its ancestors is in the trash."""
        store = self.store
        for _ in range(_MAX_DEPTH):
            if parent.get("data_source_id"):
                obj = store.data_source(parent["data_source_id"])
                following = {"database_id": obj["database_id"]} if obj else {}
            elif parent.get("database_id"):
                obj = store.database(parent["database_id"])
                following = obj["parent"] if obj else {}
            elif parent.get("page_id"):
                obj = store.page(parent["page_id"])
                following = obj["parent"] if obj else {}
            else:
                return False
            if obj is None:
                return False
            if obj["in_trash"]:
                return True
            parent = following
        return False

    def is_below(self, page: Obj, ancestor_id: str) -> bool:
        """Whether page ``ancestor_id`` is a parent, grand-parent, … of ``page``."""
        parent = page["parent"]
        for _ in range(_MAX_DEPTH):
            if not parent.get("page_id"):
                return False
            if parent["page_id"] == ancestor_id:
                return True
            above = self.store.page(parent["page_id"])
            parent = above["parent"] if above else {}
        return False

    def ensure_writable(self, parent: Obj, kind: str, ident: str) -> None:
        """404 ``object_not_found`` for ``kind`` ``ident`` when ``parent`` (its parent reference, or the
        parent a create names) is trashed or lies under a trashed ancestor."""
        if self.trashed_above(parent):
            raise not_found(kind, ident)
