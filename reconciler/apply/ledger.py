"""The ledger: one JSON line per change made, skipped or left pending, in
`.reconciler/ledger.ndjson` (append-only; never holds a token)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from reconciler.plan.changes import Change


class Ledger:
    """Appends `{"time", "address", "action", "kind", "status"}` lines to `path`."""

    def __init__(self, path: Path):
        self.path = path

    def record(self, change: Change, status: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "address": change.address, "action": change.action.value,
                "kind": change.kind, "status": status}
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
