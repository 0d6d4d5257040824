"""`sync:` sections → `model.sync.SyncTable`s, with every problem located (`file:line:col`).

`load_sync(root, items, tables, notion, databases, env)` resolves the `sync:` of each mirrored
table file: the synced fields (each mirrored property and its column, and whether the two can
hold the same values: `diff.sync_values.field_kind`), the join tables of relations, the manual
resolutions, and the seed rows (read from their content sources, typed like content). Never
raises for bad input; nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.diff.sync_values import READ_ONLY, field_kind
from reconciler.errors import SpecProblem
from reconciler.model.notion import Database, NotionDatabases, Property
from reconciler.model.postgres import Table
from reconciler.model.property_types import TEXT_TYPES
from reconciler.model.sync import JoinTable, SeedRow, SyncField, SyncTable
from reconciler.project.content import ContentResource, _rows, vocabulary_gate
from reconciler.project.fields import shaper
from reconciler.project.mirror import SYSTEM_NAMES, column_name
from reconciler.project.sources import READERS, ReadContext
from reconciler.project.supabase_docs import TableDoc
from reconciler.project.sync_docs import SeedDoc, SyncDoc, sync_doc
from reconciler.project.yaml import Loaded

#: Key types of seed rows: a property (Notion, `model.property_types.TEXT_TYPES`) or a column
#: (Supabase) holding text.
SEED_KEY_TYPES = TEXT_TYPES + ("text", "character varying", "citext")


def sync_direction(doc: TableDoc) -> str | None:
    """The direction a table file's `sync:` declares (None without `sync:`)."""
    return sync_doc(doc.sync).direction if doc.sync is not None else None


def load_sync(root: Path, items: Sequence[Loaded[TableDoc]], tables: Sequence[Table],
              notion: NotionDatabases, databases: Mapping[str, Loaded], env: Mapping[str, str]
              ) -> tuple[tuple[SyncTable, ...], list[SpecProblem]]:
    """Every synced table of the project, and the problems found (see the module docstring).
    `items` are the validated table files and `tables` the tables they resolved to (same
    order); `databases` the validated Notion database files by logical name."""
    out, problems = [], []
    for item, table in zip(items, tables):
        if item.doc.sync is None:
            continue
        synced, more = _sync_table(root, item, table, tables, notion, databases)
        problems += more
        if synced is not None:
            out.append(synced)
    problems += _check_seed_relations(out, items)
    return tuple(out), problems


def _sync_table(root: Path, item: Loaded[TableDoc], table: Table, tables: Sequence[Table],
                notion: NotionDatabases, databases: Mapping[str, Loaded]
                ) -> tuple[SyncTable | None, list[SpecProblem]]:
    doc, sync = item.doc, sync_doc(item.doc.sync)
    if doc.mirror is None or table.mirror is None:
        return None, [item.problem(("sync",), "sync: only a mirrored table syncs: add "
                                   "`mirror: <notion database>`")]
    db = notion.database(table.mirror)
    if db is None:
        return None, []  # the mirror: problem is reported already
    problems = []
    if doc.content is not None:
        problems.append(item.problem(("content",), "content: a synced table takes its rows from "
                                     "the sync; seed example rows with sync.seed instead"))
    owner = databases.get(db.name)
    if owner is not None and owner.doc.content is not None and sync.direction != \
            "notion_to_supabase":
        problems.append(item.problem(("sync", "direction"), (
            f"sync: the Notion database {db.name!r} takes its pages from content: "
            f"({owner.file}), which would undo what the sync brings from Supabase: use "
            "direction notion_to_supabase, or seed rows with sync.seed")))
    fields, more = _fields(item, sync, table, tables, db, notion)
    problems += more
    required = _required(item, sync, table, fields)
    synced = SyncTable(
        address=table.address, schema_name=table.schema_name, name=table.name, database=db.name,
        direction=sync.direction, conflicts=sync.conflicts, deletes=sync.deletes,
        max_share=sync.circuit_breaker.max_share, min_rows=sync.circuit_breaker.min_rows,
        fields=tuple(fields), required=required, resolutions=sync.resolve,
        spec=f"{item.file}:{item.yaml.locate(('sync',))[0]}")
    problems += _check_resolutions(item, sync, synced)
    if sync.seed is not None:
        seeds, keys, more = _seeds(root, item, sync, synced, db)
        problems += more
        synced = synced.model_copy(update={"seeds": seeds, "seed_keys": keys})
    return synced, problems


def _fields(item: Loaded[TableDoc], sync: SyncDoc, table: Table, tables: Sequence[Table],
            db: Database, notion: NotionDatabases) -> tuple[list[SyncField], list[SpecProblem]]:
    fields, problems = [], []
    unknown = [n for n in sync.relations if db.property(n) is None or
               db.property(n).type != "relation"]
    problems += [item.problem(("sync", "relations", n), f"sync.relations: {n!r} is not a "
                              f"relation property of {db.name!r}") for n in unknown]
    for prop in db.properties:
        name = column_name(prop.name)
        if name in SYSTEM_NAMES or prop.type == "button":
            continue
        join = None
        if prop.name in sync.relations and prop.name not in unknown:
            join, more = _join(item, prop, sync.relations[prop.name].join_table, table, tables)
            problems += more
        column = table.column(name)
        if column is None and join is None:
            continue
        column_type = column.type if column is not None else "uuid[]"
        kind = field_kind(prop.type, column_type, join=join is not None)
        if kind is None:
            problems.append(item.problem(("columns", name) if name in item.doc.columns else
                                         ("mirror",), (
                f"sync: column {name!r} ({column_type}) cannot hold the values of the "
                f"{prop.type} property {prop.name!r}: give it a type that can, or leave the "
                "table unsynced")))
            continue
        fields.append(_field(sync, prop, name, column_type, column, item, join, notion))
    return fields, problems


def _field(sync: SyncDoc, prop: Property, name: str, column_type: str, column: Any,
           item: Loaded[TableDoc], join: JoinTable | None, notion: NotionDatabases) -> SyncField:
    declared = item.doc.columns.get(name)
    closed = prop.type in ("select", "status", "multi_select") and prop.options_mode == "exact"
    related = prop.relation.database if prop.relation is not None else None
    return SyncField(
        column=name, property=prop.name, notion_type=prop.type, column_type=column_type,
        to_notion=sync.direction != "notion_to_supabase" and prop.type not in READ_ONLY
        and (related is None or notion.database(related) is not None),
        to_supabase=sync.direction != "supabase_to_notion",
        nullable=column.nullable if column is not None else True,
        options=tuple(o.name for o in prop.options) if closed else None,
        values=tuple(declared.values) if declared is not None and declared.values else None,
        relation=related, single=column_type == "uuid", join=join,
        sensitive=prop.sensitive or bool(column is not None and column.sensitive))


def _join(item: Loaded[TableDoc], prop: Property, name: str, table: Table,
          tables: Sequence[Table]) -> tuple[JoinTable | None, list[SpecProblem]]:
    """The join table of a relation: declared, with a uuid column referencing this table's
    `notion_page_id` and one referencing the related mirrored table's."""
    loc = ("sync", "relations", prop.name, "join_table")
    join = next((t for t in tables if t.name == name and t.schema_name == table.schema_name),
                None)
    if join is None:
        return None, [item.problem(loc, f"sync.relations: no table {name!r} is declared in "
                                   "schemas/supabase")]
    related = next((t for t in tables if t.mirror == prop.relation.database), None)

    def column_to(referenced: Table | None, skip: str | None = None) -> str | None:
        return next((fk.columns[0] for fk in join.foreign_keys if referenced is not None and
                     (fk.ref_schema, fk.ref_table, fk.ref_columns) ==
                     (referenced.schema_name, referenced.name, ("notion_page_id",))
                     and fk.columns[0] != skip), None)

    own = column_to(table)
    other = column_to(related, skip=own)
    if related is None or own is None or other is None:
        return None, [item.problem(loc, (
            f"sync.relations: join table {name!r} needs two uuid columns with references: one "
            f"to {table.name}.notion_page_id and one to the notion_page_id of the table "
            f"mirroring {prop.relation.database!r}"))]
    return JoinTable(schema_name=join.schema_name, table=join.name, own=own, other=other), []


def _required(item: Loaded[TableDoc], sync: SyncDoc, table: Table, fields: list[SyncField]
              ) -> tuple[str, ...]:
    synced = {f.column for f in fields} | SYSTEM_NAMES
    return tuple(c.name for c in table.columns if c.name not in synced and not c.nullable
                 and c.default is None)


def _check_resolutions(item: Loaded[TableDoc], sync: SyncDoc, synced: SyncTable
                       ) -> list[SpecProblem]:
    problems = []
    if synced.required and synced.to_supabase:
        problems += [item.problem(("columns", c), (
            f"sync: column {c!r} is NOT NULL without a default and no Notion property fills it: "
            "rows created from Notion pages could not be inserted; give it a default or make it "
            "nullable")) for c in synced.required]
    for row, columns in sync.resolve.items():
        for column in columns:
            if synced.field(column) is None:
                problems.append(item.problem(("sync", "resolve", row, column), (
                    f"sync.resolve: {column!r} is not a synced column of {synced.name}")))
    return problems


# --- seeds -------------------------------------------------------------------------------------


class _SeedResource(ContentResource):
    """The side of a synced table a seed writes (its database or table), typed like content,
    except relations: they hold seed keys of related rows."""

    relations: frozenset[str] = frozenset()
    #: Where the seed is declared (`sync.seed.<side>`): problems are located under it.
    base: tuple = ()

    def problem(self, loc: tuple, message: str) -> SpecProblem:
        return self.item.problem(self.base + loc, message)

    def coerce(self, name: str, value: Any) -> Any:
        if name in self.relations:
            items = value if isinstance(value, list) else [] if value in (None, "") else [value]
            return tuple(str(v) for v in items)
        return super().coerce(name, value)


def _seeds(root: Path, item: Loaded[TableDoc], sync: SyncDoc, synced: SyncTable, db: Database
           ) -> tuple[tuple[SeedRow, ...], dict[str, str], list[SpecProblem]]:
    rows, keys, problems = [], {}, []
    for side in ("notion", "supabase"):
        seed: SeedDoc | None = getattr(sync.seed, side)
        if seed is None:
            continue
        resource, more = _seed_resource(item, side, seed, synced, db)
        problems += more
        if resource is None:
            continue
        keys[side] = seed.key
        ctx = ReadContext(root, seed.source,
                          lambda loc, msg, s=side: item.problem(("sync", "seed", s, "source")
                                                                + loc, msg))
        records, more = READERS[seed.source.kind](ctx)
        problems += more
        if more:
            continue
        typed, spots, more = _rows(resource, records)
        problems += more
        if side == "notion":
            problems += vocabulary_gate(resource, typed, spots)[1]
        taken = {r.key: r.source for r in rows}
        problems += [item.problem(("sync", "seed", side, "key"), (
            f"seed row {r.key!r} ({r.source}) has the key of the {rows[0].side} seed row at "
            f"{taken[r.key]}: seed keys are unique across both sides")) for r in typed
            if r.key in taken]
        rows += [SeedRow(side=side, key=r.key, values=r.values, source=r.source) for r in typed]
    return tuple(rows), keys, problems


def _seed_resource(item: Loaded[TableDoc], side: str, seed: SeedDoc, synced: SyncTable,
                   db: Database) -> tuple[_SeedResource | None, list[SpecProblem]]:
    loc = ("sync", "seed", side)
    if side == "notion":
        types = {p.name: p.type for p in db.properties}
        fields = {f.property: f for f in synced.fields}
    else:
        types = {f.column: f.column_type for f in synced.fields}
        fields = {f.column: f for f in synced.fields}
    problems = []
    if not seed.source.field_specs():  # no `fields`: every synced field, by its own name
        writable = [n for n, f in fields.items() if side == "supabase" or
                    f.notion_type not in READ_ONLY]
        seed.source = seed.source.model_copy(update={"fields": {n: n for n in writable}})
    if types.get(seed.key) not in SEED_KEY_TYPES or seed.key not in fields:
        problems.append(item.problem(loc + ("key",), (
            f"sync.seed.{side}.key: {seed.key!r} must be a synced "
            f"{'property' if side == 'notion' else 'column'} holding text")))
    specs = seed.source.field_specs()
    if seed.key not in specs:
        problems.append(item.problem(loc + ("source",), f"fields must map the key {seed.key!r}"))
    for name in specs:
        field = fields.get(name)
        if field is None or (side == "notion" and field.notion_type in READ_ONLY):
            problems.append(item.problem(loc + ("source", "fields", name), (
                f"sync.seed.{side}: {name!r} is not a writable synced "
                f"{'property' if side == 'notion' else 'column'}")))
    if problems:
        return None, problems
    doc = _ContentLike(key=seed.key, source=seed.source)
    resource = _SeedResource(synced.address, item, doc, types,  # type: ignore[arg-type]
                             notion={p.name: p for p in db.properties} if side == "notion" else {},
                             sensitive=frozenset(n for n, f in fields.items() if f.sensitive))
    resource.relations = frozenset(n for n, f in fields.items() if f.relation and n in specs)
    resource.base = loc
    markdown = seed.source.kind in ("markdown", "markdown_sections")
    for name, spec in seed.source.field_specs().items():  # how each value is read (fields.py)
        found, more = shaper(spec, types[name], resource.takes_list(name), markdown,
                             at=("source", "fields", name))
        problems += [item.problem(loc + ("source", "fields", name) + at, message)
                     for at, message in more]
        if found is not None:
            resource.shapers[name] = found
    return (None if problems else resource), problems


class _ContentLike:
    """What the content row reader needs of a `content:` document: `key` and `source`."""

    def __init__(self, key: str, source: Any):
        self.key, self.source, self.hash = key, source, ""


def _check_seed_relations(tables: Sequence[SyncTable], items: Sequence[Loaded[TableDoc]]
                          ) -> list[SpecProblem]:
    """A seed's relation names seed rows of the related table, by their seed key."""
    keys = {t.database: {s.key for s in t.seeds} for t in tables}
    problems = []
    for table in tables:
        for seed in table.seeds:
            for name, value in seed.values.items():
                field = next((f for f in table.fields
                              if name in (f.property, f.column) and f.relation), None)
                if field is None:
                    continue
                for key in value:
                    if key not in keys.get(field.relation or "", set()):
                        file, _, line = seed.source.rpartition(":")
                        problems.append(SpecProblem(
                            file if line.isdigit() else seed.source,
                            int(line) if line.isdigit() else 1, 1,
                            f"seed row {seed.key!r}: {name} names {key!r}, which is no seed row "
                            f"of the synced table mirroring {field.relation!r}"))
    return problems
