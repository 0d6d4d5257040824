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

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field

from reconciler.model.base import Model
from reconciler.model.change_base import (  # noqa: F401  (re-exported: one entry point)
    Action, ChangeBase, Diagnostic, Phase, RequestPreview,
)
from reconciler.model.content import RowState
from reconciler.model.notion import Property, SelectOption
from reconciler.model.postgres import TableRef
from reconciler.model.postgres_changes import (  # noqa: F401  (re-exported)
    CreateTable, DropTable, RenameTable, ModifyTable, AddColumn, DropColumn, RenameColumn,
    ModifyColumn, AddConstraint, DropConstraint, AddIndex, DropIndex, AddPolicy, DropPolicy,
    ModifyPolicy, GrantPrivileges, RevokePrivileges, AddTrigger, DropTrigger, ModifyTrigger,
    AddEnum, DropEnum, ModifyEnum, AddExtension, DropExtension, ModifyExtension, AddSequence,
    DropSequence, ModifySequence, AddView, DropView, ModifyView, AddFunction, DropFunction,
    ModifyFunction, ModifyDefaultPrivileges, POSTGRES_CHANGES,
)
from reconciler.model.sync import BasePair, FieldConflict, SyncInfo


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
    *POSTGRES_CHANGES,
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
