"""The change vocabulary: what the diff finds and the plan carries.

A `Change` is data: an address, a `kind` (the compact tag tests assert on, like Alembic's
`to_diff_tuple()`), the Terraform-style `action` it implies, `before`/`after` as plain JSON data,
and flags. Backends turn changes into requests (Notion) or SQL (Postgres); nothing here does I/O.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any, Literal

from reconciler.model.base import Model


class Action(StrEnum):
    """What a change does to its resource (Terraform's action words)."""

    CREATE = "create"
    UPDATE = "update"
    RENAME = "rename"
    DELETE = "delete"
    ARCHIVE = "archive"
    NOOP = "no-op"
    MANUAL = "manual"


class Phase(IntEnum):
    """Dependency order of apply: databases, then properties, then relations, then options.

    The property a two-way relation creates on the other database (SYNCED) exists only once the
    relation does. Rollups and formulas follow relations because they may refer to them; Postgres work comes
    after Notion's so mirrored tables see the final Notion schema. Content (pages and rows)
    comes last: the schema it needs is in place by then (DESIGN.md "Schema lag, explicitly").
    """

    DATABASE = 10
    PROPERTY = 20
    RELATION = 30
    SYNCED = 35
    DERIVED = 40
    OPTION = 50
    MANUAL = 60
    TABLE = 110
    COLUMN = 120
    CONSTRAINT = 130
    INDEX = 140
    POLICY = 150
    GRANT = 160
    CONTENT = 200


ChangeKind = Literal[
    # Notion
    "create_database", "update_database",
    "add_property", "rename_property", "modify_property", "drop_property",
    "add_option", "drop_option", "manual",
    # Postgres
    "create_table", "drop_table", "rename_table", "modify_table",
    "add_column", "drop_column", "rename_column", "modify_column",
    "add_constraint", "drop_constraint", "add_index", "drop_index",
    "add_policy", "drop_policy", "modify_policy", "grant", "revoke",
    # Content
    "create_page", "update_page", "archive_page", "insert_row", "update_row", "delete_row",
]

#: The action each kind implies, for the kinds whose action never varies.
ACTIONS: dict[str, Action] = {
    "create_database": Action.CREATE, "update_database": Action.UPDATE,
    "add_property": Action.CREATE, "rename_property": Action.RENAME,
    "modify_property": Action.UPDATE, "drop_property": Action.DELETE,
    "add_option": Action.CREATE, "drop_option": Action.DELETE, "manual": Action.MANUAL,
    "create_table": Action.CREATE, "drop_table": Action.DELETE, "rename_table": Action.RENAME,
    "modify_table": Action.UPDATE, "add_column": Action.CREATE, "drop_column": Action.DELETE,
    "rename_column": Action.RENAME, "modify_column": Action.UPDATE,
    "add_constraint": Action.CREATE, "drop_constraint": Action.DELETE,
    "add_index": Action.CREATE, "drop_index": Action.DELETE,
    "add_policy": Action.CREATE, "drop_policy": Action.DELETE, "modify_policy": Action.UPDATE,
    "grant": Action.UPDATE, "revoke": Action.UPDATE,
    "create_page": Action.CREATE, "update_page": Action.UPDATE, "archive_page": Action.ARCHIVE,
    "insert_row": Action.CREATE, "update_row": Action.UPDATE, "delete_row": Action.DELETE,
}


class Change(Model):
    """One difference between desired and live state, and what apply will do about it.

    - `address`: the resource, e.g. `notion.tasks.property["Status"]`.
    - `kind`: the change's tag (`add_property`, `rename_column`, …); `action` follows from it.
    - `phase`: its place in apply's dependency order (`Phase`).
    - `before` / `after`: JSON-able data of the resource (None when absent).
    - `destructive`: data may be lost; apply refuses it without `--allow-destroy`.
      `rows_affected` counts the rows holding data that would be lost, where it can be known.
    - `manual`: for `action == manual`, exactly what to do by hand (e.g. in the Notion UI).
    - `note`: one line of context for reviewers (why the change exists).
    - `sql`: for Postgres, the statements the change will run, shown in the plan.
    - `lagging`: for content, the fields the row sets that the live schema lacks at plan time
      (schema lag): apply writes them once the schema has them, else defers them.
    """

    address: str
    kind: ChangeKind
    action: Action
    phase: Phase
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    destructive: bool = False
    rows_affected: int | None = None
    manual: str | None = None
    note: str | None = None
    sql: tuple[str, ...] = ()
    lagging: tuple[str, ...] = ()

    @classmethod
    def make(cls, kind: str, address: str, phase: Phase, **fields: Any) -> "Change":
        """Build a change whose action is the one its kind implies (see `ACTIONS`)."""
        return cls(kind=kind, address=address, action=ACTIONS[kind], phase=phase, **fields)

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (int(self.phase), self.address, self.kind)
