"""The ledger: one JSON line per change made, skipped or left pending, in
`.reconciler/ledger.ndjson` (append-only; never holds a token). Lines are buffered
(`apply.lines`): `close()` the ledger when the apply is done."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.apply.lines import JsonLines
from reconciler.model.changes import ChangeBase


class Ledger:
    """Appends `{"time", "address", "action", "kind", "status", …}` lines to `path`.

    Content rows add `page_id`, `hash` (the content hash the page or row holds after this
    apply: what was written, or what it already held when nothing could be written; absent when
    no row exists), `desired_hash` (the hash of the source row) and `deferred` (fields the live
    schema lacked). On a `deferred` line the two hashes differ, and that is what makes the next
    plan pick the row up: it finds the stored `hash`, not the desired one, compares the row
    field by field and writes what the schema now takes (docs/content.md "Schema lag").
    """

    def __init__(self, path: Path):
        self.path = path
        self._lines = JsonLines(path)

    def record(self, change: ChangeBase, status: str, **detail: Any) -> None:
        self._write({"address": change.address, "action": change.action.value,
                     "kind": change.kind, "status": status,
                     **{k: v for k, v in detail.items() if v not in (None, [], ())}})

    def record_row(self, address: str, status: str, **detail: Any) -> None:
        """A line for a row no change was needed for (e.g. `skipped`, hash equal)."""
        self._write({"address": address, "action": "no-op", "status": status, **detail})

    def close(self) -> None:
        """Write what is buffered and close the file."""
        self._lines.close()

    def _write(self, line: dict[str, Any]) -> None:
        self._lines.write({"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                           **line})
