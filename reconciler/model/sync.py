"""Two-way sync of mirrored tables: the declaration, what each side read, and what a plan says.

A Supabase table with `mirror: <notion database>` and `sync:` is kept in step with its Notion
database row by row (issue 11; seed 001's 16 databases and tables). The pieces:

- `SyncTable` (with its `SyncField`s and `SeedRow`s): the resolved `sync:` declaration, built by
  `project.sync` and read by the merge (`diff.sync`) and the backends.
- `SideRow`, `NotionSide`, `PostgresSide`, `BaseRow`: what the backends read for the merge (the
  rows of each side, the base: the last synced value of every field, kept in the
  Postgres database's `reconciler` schema).
- `SyncInfo`, `FieldConflict`, `BasePair`: what sync changes carry
  (`model.changes`), and `SyncSummary`: the per-table summary a plan shows.

Field values in the base and in `FieldConflict` are in *sync form* (`diff.sync_values`): one
canonical JSON value per field that both sides convert to and from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from reconciler.model.base import Model
from reconciler.model.postgres import TableRef

Direction = Literal["notion_to_supabase", "supabase_to_notion", "both"]
ConflictPolicy = Literal["latest", "notion_wins", "supabase_wins", "manual"]
DeletePolicy = Literal["unlink", "delete"]
Side = Literal["notion", "supabase"]

#: The circuit breaker's defaults: a run may change or delete at most this share of a table's
#: rows on either side, unless fewer than `BREAKER_MIN_ROWS` rows would change.
BREAKER_SHARE = 0.5
BREAKER_MIN_ROWS = 5


class JoinTable(TableRef):
    """A relation kept in a join table: the table (`schema_name`, `table`; `address`), the column
    holding this table's page id (`own`) and the one holding the related page id (`other`)."""

    own: str
    other: str


class SyncField(Model):
    """One synced field: the Notion property and the column mirroring it.

    - `notion_type`, `column_type`: the property's type and the column's (canonical spelling).
    - `to_notion` / `to_supabase`: whether values may flow that way (the direction, and whether
      Notion lets the property be written: formulas, rollups, … only flow to Supabase).
    - `nullable`: the column takes NULL; `options`: the select's options when its vocabulary is
      closed (a value outside them cannot cross to Notion); `values`: the column's enum values.
    - `relation`: the logical name of the related Notion database; `single`: kept as one uuid
      (a foreign key) instead of `uuid[]`; `join`: kept in a join table instead of a column.
    - `sensitive`: its values are personal data (the property or the column is sensitive), so
      plans and reports hold keyed digests of them (`model.sensitive`).
    """

    column: str
    property: str
    notion_type: str
    column_type: str
    to_notion: bool = True
    to_supabase: bool = True
    nullable: bool = True
    options: tuple[str, ...] | None = None
    values: tuple[str, ...] | None = None
    relation: str | None = None
    single: bool = False
    join: JoinTable | None = None
    sensitive: bool = False


class SeedRow(Model):
    """An example row (`sync.seed`): created once on both sides, then synced like any row.

    `side` is where it is declared; `key` the value of that side's seed key field; `values` the
    row in that side's normal form (`model.content.SourceRow`), except relations, which hold the
    seed keys of related rows; `source`: `file:line`.
    """

    side: Side
    key: str
    values: dict[str, Any] = Field(default_factory=dict)
    source: str = ""


class SyncTable(Model):
    """A mirrored table kept in step with its Notion database.

    - `address` (`supabase.public.tasks`), `schema_name`, `name`; `database`: the Notion
      database's logical name.
    - `direction`, `conflicts` (the conflict policy), `deletes` (`unlink`, or `delete` which acts
      only with `--prune`), `max_share` / `min_rows`: the circuit breaker.
    - `fields`: the synced fields, in declaration order.
    - `required`: columns only Supabase has that are NOT NULL without a default (a row created
      from a Notion page cannot fill them).
    - `seeds`, `seed_keys` (side → the field seeds are keyed by: a property for `notion`, a column
      for `supabase`), `resolutions` (row id or page id → column → `notion` | `supabase`: how a
      `manual` conflict was resolved in YAML), `spec` (`file:line` of `sync:`).
    """

    address: str
    schema_name: str
    name: str
    database: str
    direction: Direction = "both"
    conflicts: ConflictPolicy = "latest"
    deletes: DeletePolicy = "unlink"
    max_share: float = BREAKER_SHARE
    min_rows: int = BREAKER_MIN_ROWS
    fields: tuple[SyncField, ...] = ()
    required: tuple[str, ...] = ()
    seeds: tuple[SeedRow, ...] = ()
    seed_keys: dict[str, str] = Field(default_factory=dict)
    resolutions: dict[str, dict[str, Side]] = Field(default_factory=dict)
    spec: str = ""

    @property
    def to_notion(self) -> bool:
        return self.direction != "notion_to_supabase"

    @property
    def to_supabase(self) -> bool:
        return self.direction != "supabase_to_notion"

    def field(self, column: str) -> SyncField | None:
        return next((f for f in self.fields if f.column == column), None)


# --- what the backends read --------------------------------------------------------------------


@dataclass(frozen=True)
class SideRow:
    """One row as a side read it: `id` (page id / row id), `values` in that side's normal form
    (by property name for Notion, by column for Supabase), `stamp` (Notion `last_edited_time`,
    Postgres `updated_at`, ISO), `page` (Supabase: `notion_page_id`), `created` (Notion
    `created_time`)."""

    id: str
    values: dict[str, Any]
    stamp: str | None = None
    page: str | None = None
    created: str | None = None


@dataclass
class NotionSide:
    """The Notion side of one synced table: pages read (by page id), pages found in the trash,
    whether `pages` holds every page (`complete`: a full read), and whether the database
    exists."""

    pages: dict[str, SideRow] = field(default_factory=dict)
    trashed: set[str] = field(default_factory=set)
    complete: bool = True
    exists: bool = False


@dataclass(frozen=True)
class BaseRow:
    """One pair in the base (`reconciler.sync_base`): `row` (Supabase row id), `page` (Notion page
    id; None while a create is pending), `state` (`linked`, `unlinked`, `pending`: a page create
    was sent and its id not yet written back), `seed` (`side:key` for a seeded pair), `values`
    (column → sync-form value last synced), `synced_at`."""

    row: str
    page: str | None
    state: str = "linked"
    seed: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    synced_at: str | None = None


@dataclass
class PostgresSide:
    """The Supabase side of one synced table: rows read (by row id, changed since the watermark
    or all), every row's page id (`keys`: row id → page id or None), the base, the `watermark`
    (ISO: when the read of the last applied plan started; both sides read what changed since,
    minus a minute), whether the table exists and its columns, and
    `check_value(value, column_type)`, which raises ValueError for a normal-form value a column
    cannot hold (the Postgres value converter)."""

    rows: dict[str, SideRow] = field(default_factory=dict)
    keys: dict[str, str | None] = field(default_factory=dict)
    base: list[BaseRow] = field(default_factory=list)
    complete: bool = True
    watermark: str | None = None
    exists: bool = False
    columns: frozenset[str] = frozenset()
    check_value: Any = None


# --- what sync changes carry -------------------------------------------------------------------


class FieldConflict(Model):
    """A field changed on both sides since the last sync: both values, the base, when each side
    was edited, and the `resolution` (`notion`, `supabase`, or `manual`: left alone).
    `sensitive`: the field holds personal data; in a plan (`sealed`) the three values are then
    keyed digests (`model.sensitive`), so a reviewer sees which of them are equal, not what
    they are."""

    field: str
    notion: Any = None
    supabase: Any = None
    base: Any = None
    notion_edited: str | None = None
    supabase_edited: str | None = None
    resolution: str
    reason: str = ""
    sensitive: bool = False
    sealed: bool = False


class SyncInfo(Model):
    """Where a sync change's values come from: `source` (the address of the row or page on the
    other side, or `seed <file:line>`), the `direction` (`to_notion` / `to_supabase`) and the
    conflicts resolved in its favour."""

    source: str
    direction: Literal["to_notion", "to_supabase"]
    conflicts: tuple[FieldConflict, ...] = ()


class BasePair(Model):
    """One base row an apply writes once the changes in `after` were applied.

    `row`: the Supabase row id; `page`: the page id, or None when the page is created by this
    apply (`page_ref`: the address of that create; apply writes its id back to the row's
    `notion_page_id` when `link`); `state`: `linked` or `unlinked`; `values`: column → sync form;
    `intent`: record the create before sending it (a rerun after a kill finds the page again).
    `sensitive`: the columns of `values` that hold personal data; `sensitive_seed`: the seed key
    in `seed` is personal data. In a plan (`sealed`) those are keyed digests (`plan.seal`).
    """

    row: str
    page: str | None = None
    page_ref: str | None = None
    state: Literal["linked", "unlinked"] = "linked"
    seed: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    after: tuple[str, ...] = ()
    link: bool = False
    intent: bool = False
    sensitive: tuple[str, ...] = ()
    sensitive_seed: bool = False
    sealed: bool = False


# --- what a plan shows -------------------------------------------------------------------------


class FlowCounts(Model):
    """Rows flowing one way: created, updated, deleted (or archived)."""

    create: int = 0
    update: int = 0
    delete: int = 0


class SyncSummary(Model):
    """Per synced table: the database, direction and conflict policy; rows flowing each way;
    conflicts (each with both values and the resolution); rows unchanged, unlinked, deletes
    waiting for `--prune`, rows only one side has that the direction does not carry
    (`not_in_source`); how each side was read; and `breaker`, the message when the circuit
    breaker trips (apply then needs `--force`)."""

    database: str
    direction: Direction
    policy: ConflictPolicy
    to_supabase: FlowCounts = Field(default_factory=FlowCounts)
    to_notion: FlowCounts = Field(default_factory=FlowCounts)
    conflicts: tuple[dict[str, Any], ...] = ()
    unchanged: int = 0
    unlinked: int = 0
    #: The pairs this plan unlinks: `{"row", "page", "gone": "notion" | "supabase"}`
    #: (ids only, never a value); a pair unlinked by an earlier apply is not listed again.
    unlinks: tuple[dict[str, Any], ...] = ()
    pending_deletes: int = 0
    not_in_source: int = 0
    read: dict[str, str] = Field(default_factory=dict)
    breaker: str | None = None


class PlanCost(Model):
    """What a plan's Notion requests cost: `calls` at `rate` requests per second take `seconds`
    (DESIGN.md "Performance, by design": the cost of a run is its number of API calls)."""

    calls: int = 0
    rate: float = 3.0
    seconds: float = 0.0
