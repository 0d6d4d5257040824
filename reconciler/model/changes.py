"""The change vocabulary: what a diff finds, a plan carries and a backend compiles.

A change is a small frozen model (STYLE.md §8 rule 2; Atlas `schema.Change`, Alembic ops): an
`address`, a `kind` (the discriminator, also the compact tag tests assert on), the
Terraform-style `action` it implies (a class constant), a `phase` (its place in apply order),
`before` / `after` as model objects, and flags. Executors take these typed changes: they read
the database, table, property and ids from fields, never from the address text.

`Change` is the discriminated union of every class here; `plan.planfile` is the only module that
turns changes into the plan file's YAML and back. What a change compiles to (SQL statements,
Notion requests) is attached by the plan builder as `sql` / `requests` previews.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field

from reconciler.model.base import Model
from reconciler.model.content import RowState
from reconciler.model.notion import Property, SelectOption
from reconciler.model.postgres import (ColumnOn, ConstraintOn, ForeignKeyRef, GrantOn, IndexOn,
                                       PolicyOn, Table, TableAttrs, TableRef)
from reconciler.model.sync import BasePair, FieldConflict, SyncInfo


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
    relation does. Rollups and formulas follow relations because they may refer to them; Postgres
    work comes after Notion's so mirrored tables see the final Notion schema. Content (pages and
    rows) comes last: the schema it needs is in place by then (DESIGN.md "Schema lag,
    explicitly").
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


class RequestPreview(Model):
    """The Notion request a change is sent in, as the plan shows it: `method`, `path` (with
    `(known after apply: <address>)` for an id that only exists once an earlier step ran) and
    `keys`, the property names the body writes for this change (empty for bodies without
    properties)."""

    method: str
    path: str
    keys: tuple[str, ...] = ()


class ChangeBase(Model):
    """Fields every change has.

    - `address`: the resource, e.g. `notion.tasks.property["Status"]`.
    - `phase`: its place in apply's dependency order (`Phase`).
    - `destructive`: data may be lost; apply refuses it without `--allow-destroy`.
      `rows_affected` counts the rows holding data that would be lost, where it can be known.
    - `note`: one line of context for reviewers (why the change exists).
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
    sql: tuple[str, ...] = ()
    requests: tuple[RequestPreview, ...] = ()

    @property
    def root(self) -> str:
        """The backend the change belongs to: the address's first part (`notion`, `supabase`)."""
        return self.address.split(".", 1)[0]

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (int(self.phase), self.address, self.kind)  # type: ignore[attr-defined]


# --- Notion schema -----------------------------------------------------------------------------


class NewDatabase(Model):
    """What a database is created with: title, description, parent page and its title property
    (every other property is an `AddProperty` of its own)."""

    title: str
    description: str | None = None
    parent_page_id: str | None = None
    title_property: Property


class DatabaseAttrs(Model):
    """A database's own settings that an update changes."""

    title: str
    description: str = ""


class PropertyRef(Model):
    """A property by name, and its Notion id when it exists live."""

    name: str
    id: str | None = None


class NotionChange(ChangeBase):
    """A change to one database; `database` is its logical name (`tasks` in `notion.tasks`)."""

    database: str


class CreateDatabase(NotionChange):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["create_database"] = "create_database"
    after: NewDatabase


class UpdateDatabase(NotionChange):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["update_database"] = "update_database"
    before: DatabaseAttrs
    after: DatabaseAttrs


class AddProperty(NotionChange):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_property"] = "add_property"
    after: Property


class RenameProperty(NotionChange):
    action: ClassVar[Action] = Action.RENAME
    kind: Literal["rename_property"] = "rename_property"
    before: PropertyRef
    after: PropertyRef


class ModifyProperty(NotionChange):
    """A retype or a settings change. For a settings change `before`/`after` hold the settings
    the diff compares (no options: those are `AddOption`/`DropOption`); `before.id` is the live
    property's id."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_property"] = "modify_property"
    before: Property
    after: Property


class DropProperty(NotionChange):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_property"] = "drop_property"
    before: Property


class AddOption(NotionChange):
    """`property` is the live property (its current name and id) the option is added to."""

    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_option"] = "add_option"
    property: PropertyRef
    after: SelectOption


class DropOption(NotionChange):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_option"] = "drop_option"
    property: PropertyRef
    before: SelectOption


class ManualChange(ChangeBase):
    """What the API cannot do (NOTION-API.md §3.2-3.5): `manual` says exactly what to do by hand;
    `before`/`after` show the resource as it is and as the spec wants it."""

    action: ClassVar[Action] = Action.MANUAL
    kind: Literal["manual"] = "manual"
    manual: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


# --- Postgres schema ---------------------------------------------------------------------------


class CreateTable(ChangeBase):
    """`after` is the table with its grants, without its foreign keys, indexes and policies
    (each is a change of its own, in a later phase)."""

    action: ClassVar[Action] = Action.CREATE
    kind: Literal["create_table"] = "create_table"
    after: Table


class DropTable(ChangeBase):
    """`referenced_by`: live foreign keys of other tables that point at it (dropped first)."""

    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_table"] = "drop_table"
    before: Table
    referenced_by: tuple[ForeignKeyRef, ...] = ()


class RenameTable(ChangeBase):
    action: ClassVar[Action] = Action.RENAME
    kind: Literal["rename_table"] = "rename_table"
    before: TableRef
    after: TableRef


class ModifyTable(ChangeBase):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_table"] = "modify_table"
    before: TableAttrs
    after: TableAttrs


class AddColumn(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_column"] = "add_column"
    after: ColumnOn


class DropColumn(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_column"] = "drop_column"
    before: ColumnOn


class RenameColumn(ChangeBase):
    action: ClassVar[Action] = Action.RENAME
    kind: Literal["rename_column"] = "rename_column"
    before: ColumnOn
    after: ColumnOn


class ModifyColumn(ChangeBase):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_column"] = "modify_column"
    before: ColumnOn
    after: ColumnOn


class AddConstraint(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_constraint"] = "add_constraint"
    after: ConstraintOn


class DropConstraint(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_constraint"] = "drop_constraint"
    before: ConstraintOn


class AddIndex(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_index"] = "add_index"
    after: IndexOn


class DropIndex(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_index"] = "drop_index"
    before: IndexOn


class AddPolicy(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_policy"] = "add_policy"
    after: PolicyOn


class DropPolicy(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_policy"] = "drop_policy"
    before: PolicyOn


class ModifyPolicy(ChangeBase):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_policy"] = "modify_policy"
    before: PolicyOn
    after: PolicyOn


class GrantPrivileges(ChangeBase):
    """A role gains privileges (and maybe loses some)."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["grant"] = "grant"
    before: GrantOn
    after: GrantOn


class RevokePrivileges(ChangeBase):
    """A role only loses privileges."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["revoke"] = "revoke"
    before: GrantOn
    after: GrantOn


# --- content -----------------------------------------------------------------------------------


class PageChange(NotionChange):
    """A page of a database. `lagging`: fields the row sets that the live schema lacks at plan
    time (schema lag): apply writes them once the schema has them, else defers them. `sync`: set
    when the values come from the mirrored table (two-way sync), not from a content source."""

    lagging: tuple[str, ...] = ()
    sync: SyncInfo | None = None


class CreatePage(PageChange):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["create_page"] = "create_page"
    after: RowState


class UpdatePage(PageChange):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["update_page"] = "update_page"
    before: RowState
    after: RowState


class ArchivePage(PageChange):
    action: ClassVar[Action] = Action.ARCHIVE
    kind: Literal["archive_page"] = "archive_page"
    before: RowState


class RowChange(ChangeBase):
    """A row of a Postgres table (`table`); `lagging` as for pages (columns the table lacks);
    `sync` as for pages (the values come from the mirrored Notion database)."""

    table: TableRef
    lagging: tuple[str, ...] = ()
    sync: SyncInfo | None = None


class InsertRow(RowChange):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["insert_row"] = "insert_row"
    after: RowState


class UpdateRow(RowChange):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["update_row"] = "update_row"
    before: RowState
    after: RowState


class DeleteRow(RowChange):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["delete_row"] = "delete_row"
    before: RowState


# --- two-way sync (model.sync) -----------------------------------------------------------------


class SyncChange(ChangeBase):
    """A change of the two-way sync's own bookkeeping for a synced `table` and its Notion
    `database` (the rows themselves move as page and row changes with `sync` set)."""

    table: TableRef
    database: str


class UpdateSyncBase(SyncChange):
    """What one apply records for a synced `table` (Notion `database`) in the base
    (`reconciler.sync_base`) once both sides were written: the `pairs` (their last synced values;
    page ids written back to rows created from Supabase) and the base rows to `drop`; apply also
    records the plan's read time (`header.created_at`) as the table's watermark, which the next
    plan reads from; `moved`: the fields each sync change of the table
    moves (change address → fields), recorded in `reconciler.sync_activity`. Address:
    `supabase.<schema>.<table>.sync["base"]`."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["update_sync_base"] = "update_sync_base"
    pairs: tuple[BasePair, ...] = ()
    drop: tuple[str, ...] = ()
    moved: dict[str, tuple[str, ...]] = {}


class SyncConflict(SyncChange):
    """A field changed on both sides under the `manual` conflict policy: left alone until it is
    resolved in YAML (`sync.resolve`) or made equal on one side. Address:
    `supabase.<schema>.<table>.row["<row id>"].column["<column>"]`."""

    action: ClassVar[Action] = Action.MANUAL
    kind: Literal["sync_conflict"] = "sync_conflict"
    conflict: FieldConflict
    manual: str


#: Every change class: Notion schema, Postgres schema, content.
CHANGE_CLASSES: tuple[type[ChangeBase], ...] = (
    CreateDatabase, UpdateDatabase, AddProperty, RenameProperty, ModifyProperty, DropProperty,
    AddOption, DropOption, ManualChange,
    CreateTable, DropTable, RenameTable, ModifyTable, AddColumn, DropColumn, RenameColumn,
    ModifyColumn, AddConstraint, DropConstraint, AddIndex, DropIndex, AddPolicy, DropPolicy,
    ModifyPolicy, GrantPrivileges, RevokePrivileges,
    CreatePage, UpdatePage, ArchivePage, InsertRow, UpdateRow, DeleteRow,
    UpdateSyncBase, SyncConflict,
)

Change = Annotated[Union[CHANGE_CLASSES], Field(discriminator="kind")]  # type: ignore[valid-type]

#: The class of each kind.
BY_KIND: dict[str, type[ChangeBase]] = {
    cls.model_fields["kind"].default: cls for cls in CHANGE_CLASSES}

#: Every change's `kind` tag.
ChangeKind = Literal[tuple(BY_KIND)]  # type: ignore[valid-type]

ROW_KINDS = frozenset({"create_page", "update_page", "archive_page", "insert_row",
                       "update_row", "delete_row"})
