"""Local state: what the reconciler learnt from its own applies, per Notion connection.

Stored as JSON in `.reconciler/state.json` (git-ignored). It holds ids (database, data source,
property ids by declared name) and the formula text last applied next to the text Notion returned
for it, because Notion rewrites formula expressions (NOTION-API.md §2 "Formula expressions are not
round-trippable"). It never holds a token. Losing it is safe: databases are found again by title
under their parent page, properties by name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.model.notion import bare_id

STATE_VERSION = 1


class Model(BaseModel):
    """Mutable (apply updates it as it goes), strict about unknown keys."""

    model_config = ConfigDict(extra="forbid")


class PropertyState(Model):
    """What is known of one property: its Notion id and, for formulas, applied vs returned text."""

    id: str
    formula_applied: str | None = None
    formula_live: str | None = None


class DatabaseState(Model):
    """Ids of one database (by logical name) and of its properties (by declared name)."""

    database_id: str
    data_source_id: str
    properties: dict[str, PropertyState] = Field(default_factory=dict)


class NotionState(Model):
    """State of one Notion connection (a base URL and parent page)."""

    databases: dict[str, DatabaseState] = Field(default_factory=dict)

    def database_name_for(self, data_source_id: str) -> str | None:
        """The logical name whose data source is `data_source_id`, if known."""
        want = bare_id(data_source_id)
        return next((k for k, d in self.databases.items()
                     if bare_id(d.data_source_id) == want), None)


class State(Model):
    """The whole state file: `{"version": 1, "notion": {connection key: NotionState},
    "content_watermark": ISO time of the last full read of content}`."""

    version: int = STATE_VERSION
    notion: dict[str, NotionState] = Field(default_factory=dict)
    content_watermark: str | None = None


def state_path(root: Path) -> Path:
    return root / ".reconciler" / "state.json"


def load_state(root: Path) -> State:
    """Read `.reconciler/state.json`; a missing or unreadable file is an empty state."""
    path = state_path(root)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return State.model_validate(data)
    except (OSError, ValueError):
        return State()


def save_state(root: Path, state: State) -> None:
    """Write the state atomically (temp file + rename)."""
    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state.model_dump(mode="json"), indent=2, sort_keys=True) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)
