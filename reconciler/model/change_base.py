"""The base of every change: its action word, its phase in apply order, and the fields every
change has. The change classes are in `model.changes` (Notion, content) and
`model.postgres_changes`; `model.changes` is the vocabulary's one entry point."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import ClassVar, Literal

from reconciler.model.base import Model


class Diagnostic(Model):
    """One finding of an analyzer about a change (Atlas `sqlcheck.Diagnostic`): a stable `code`
    (`DS103`, `MF103`, …; documented in docs/supabase.md with what to do), its `severity`
    (`error`: the plan cannot be applied as is; `warning`: review it), the `message`, and the
    number of live rows it `count`s when it counted any."""

    code: str
    severity: Literal["error", "warning"] = "warning"
    message: str
    count: int | None = None


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
    relation does. Rollups and formulas follow relations because they may refer to them. In
    Postgres, extensions, enum types and sequences come before the tables that use them;
    functions after the columns their bodies read (SQL function bodies are checked when
    created) and before the constraints, views, indexes, policies and triggers that call them;
    drops of what tables use (functions, types, sequences, extensions) come last (CLEANUP).
    Content (pages and rows) comes last: the schema it needs is in place by then (DESIGN.md
    "Schema lag, explicitly").
    """

    DATABASE = 10
    PROPERTY = 20
    RELATION = 30
    SYNCED = 35
    DERIVED = 40
    OPTION = 50
    MANUAL = 60
    EXTENSION = 102
    TYPE = 104
    SEQUENCE = 106
    TABLE = 110
    COLUMN = 120
    FUNCTION = 125
    CONSTRAINT = 130
    VIEW = 135
    INDEX = 140
    POLICY = 150
    TRIGGER = 155
    GRANT = 160
    DEFAULT_PRIVILEGES = 170
    CLEANUP = 180
    CONTENT = 200


class RequestPreview(Model):
    """The Notion request a change is sent in, as the plan shows it: `method`, `path` (with
    `(known after apply: <address>)` for an id that only exists once an earlier step ran),
    `keys`, the property names the request's body writes (sorted; empty for bodies without
    properties), and `shared_by`: how many of the plan's changes this one request carries when
    more than one does (every property change of a database in one phase goes in one
    `PATCH /v1/data_sources/{id}`), None when it carries this change alone. Apply sends each
    request once, whichever changes it carries (`plan.build.plan_cost` counts them so)."""

    method: str
    path: str
    keys: tuple[str, ...] = ()
    shared_by: int | None = None


class ChangeBase(Model):
    """Fields every change has.

    - `address`: the resource, e.g. `notion.tasks.property["Status"]`.
    - `phase`: its place in apply's dependency order (`Phase`).
    - `destructive`: data may be lost; apply refuses it without `--allow-destroy`.
      `rows_affected` counts the rows holding data that would be lost, where it can be known.
    - `note`: one line of context for reviewers (why the change exists).
    - `lint`: what the backend's analyzers found (`Diagnostic`s with stable codes), attached by
      its `assess`.
    - `sql` / `requests`: what the backend compiled it to (Postgres statements; the Notion
      requests it is sent in), attached by the plan builder so the plan shows exactly what apply
      sends.
    """

    action: ClassVar[Action]
    address: str
    phase: Phase
    destructive: bool = False
    rows_affected: int | None = None
    note: str | None = None
    lint: tuple[Diagnostic, ...] = ()
    sql: tuple[str, ...] = ()
    requests: tuple[RequestPreview, ...] = ()

    @property
    def root(self) -> str:
        """The backend the change belongs to: the address's first part (`notion`, `supabase`)."""
        return self.address.split(".", 1)[0]

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (int(self.phase), self.address, self.kind)  # type: ignore[attr-defined]
