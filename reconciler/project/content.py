"""`content:` sections → `model.content.ContentSet`s, with vocabulary gates (issue 4, points 1/4).

`load_content(root, databases, notion, tables, env)` reads the `content:` of every Notion
database document (already loaded) and of every `schemas/supabase/*.yaml` that has one, checks it
against the resolved schema, reads its source (`project.sources.READERS`), shapes every value as
its field says (`project.fields`: lists, split, strip, map, default, markdown), types it
(`project.values`, dates and numbers as the source declares) and returns
`(content sets, notion, problems)`. Relation values name rows of the related database's content
set by key; a key it does not have is a problem located where the value is written. `notion`
comes back with the values of `additive` select/multi_select/status properties added to their
options (stable colours), so the plan adds them before content is written. Values outside `exact` options are
problems naming file, row and value. Never raises for bad content; nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler import redact
from reconciler.backends.notion.convert import payload_problem
from reconciler.errors import SpecProblem
from reconciler.model.column_values import row_problems, unset_required
from reconciler.model.property_types import KEY_TYPES, WRITABLE_TYPES
from reconciler.model.content import ContentSet, SourceRow
from reconciler.model.notion import NotionDatabases, Property, SelectOption, stable_color
from reconciler.model.postgres import Table, TableRef
from reconciler.project.content_docs import UNTIL_WORDS, ContentDoc, FieldDoc
from reconciler.project.fields import NOTION_LIST_TYPES, Shaper, shaper
from reconciler.project.patterns import PatternTimeout, bounded
from reconciler.project.sources import READERS, ReadContext, Record
from reconciler.project.sources.paths import MISSING, PathSyntaxError, parse_path
from reconciler.project.supabase_docs import TableDoc
from reconciler.project.values import to_notion, to_postgres
from reconciler.project.written import Reading, check_reading
from reconciler.project.yaml import Loaded

#: Types a Notion key property may have (`model.property_types.KEY_TYPES`); the hash property
#: must be rich_text.
NOTION_KEY_TYPES = KEY_TYPES
#: Column types a Postgres key may have (canonical spellings); the hash column must be text.
POSTGRES_KEY_TYPES = ("text", "character varying", "integer", "bigint", "smallint", "uuid",
                      "numeric", "date")
_OPTION_TYPES = ("select", "multi_select", "status")


@dataclass
class ContentResource:
    """A resource with a `content:` section (a Notion database or a Postgres table): its fields'
    types and where it is declared."""

    address: str
    item: Loaded
    doc: ContentDoc
    types: dict[str, str]
    notion: dict[str, Property] = field(default_factory=dict)
    unique: set[str] = field(default_factory=set)
    shapers: dict[str, Shaper] = field(default_factory=dict)
    table: Table | None = None
    #: The fields holding personal data, when the resource says so itself (seeds); else they
    #: follow from the document, the properties or the columns (`sensitive_fields`).
    sensitive: frozenset[str] | None = None
    #: The logical name of the Notion database (None for a table).
    database: str | None = None

    def problem(self, loc: tuple, message: str) -> SpecProblem:
        return self.item.problem(("content",) + loc, message)

    @property
    def reading(self) -> Reading:
        """How the source writes dates and numbers (`languages`, `date_order`, `locale`)."""
        doc = self.doc.source
        return Reading(tuple(doc.languages or ("en",)), doc.date_order, doc.locale)

    def coerce(self, name: str, value: Any) -> Any:
        kind = self.types[name]
        return to_notion(kind, value, self.reading) if self.notion else \
            to_postgres(kind, value, self.reading)

    def takes_list(self, name: str) -> bool:
        """Whether field `name` holds a list (multi_select, people, relation, files; arrays)."""
        kind = self.types.get(name, "")
        return kind in NOTION_LIST_TYPES if self.notion else kind.endswith("[]")


def load_content(root: Path, databases: Mapping[str, Loaded], notion: NotionDatabases,
                 tables: tuple[Table, ...], table_docs: Sequence[Loaded[TableDoc]]
                 ) -> tuple[tuple[ContentSet, ...], NotionDatabases, list[SpecProblem]]:
    """Every content set of the project; see the module docstring. `table_docs` are the valid
    Supabase documents `tables` were resolved from (`project.supabase.read_table_docs`)."""
    resources = [_notion_resource(k, item, notion) for k, item in databases.items()
               if item.doc.content is not None]
    resources += _table_resources(tables, table_docs)
    sets, problems, added, spots = [], [], {}, {}
    for resource in resources:
        content, more, new, where = _content_set(root, resource)
        problems += more
        sets += [content] if content is not None else []
        spots[resource.address] = where
        added |= {(resource.address, k): v for k, v in new.items()}
    problems += relation_keys(resources, sets, spots)
    return tuple(sets), _with_options(notion, added), problems


def _notion_resource(key: str, item: Loaded, notion: NotionDatabases) -> ContentResource:
    db = notion.database(key)
    props = {p.name: p for p in db.properties}
    return ContentResource(f"notion.{key}", item, item.doc.content,
                           {n: p.type for n, p in props.items()}, notion=props, database=key)


def _table_resources(tables: tuple[Table, ...], docs: Sequence[Loaded[TableDoc]]
                     ) -> list[ContentResource]:
    """The resources (tables) of the Supabase files with a `content:`."""
    by_name = {(t.schema_name, t.name): t for t in tables}
    out = []
    for item in docs:
        doc = item.doc
        table = by_name.get((doc.schema_, doc.name or item.name))
        if table is None or doc.content is None:
            continue
        unique = {u.columns[0] for u in table.uniques if len(u.columns) == 1}
        unique |= {i.columns[0] for i in table.indexes if i.unique and len(i.columns) == 1}
        unique |= set(table.primary_key) if len(table.primary_key) == 1 else set()
        out.append(ContentResource(table.address, item, doc.content,
                                   {c.name: c.type for c in table.columns}, unique=unique,
                                   table=table))
    return out


def _content_set(root: Path, resource: ContentResource
                 ) -> tuple[ContentSet | None, list[SpecProblem], dict[str, list[str]], dict]:
    problems = check_fields(resource)
    if problems:
        return None, problems, {}, {}
    ctx = ReadContext(root, resource.doc.source,
                      lambda loc, msg: resource.problem(("source",) + loc, msg))
    records, problems = READERS[resource.doc.source.kind](ctx)
    if problems:
        return None, problems, {}, {}
    rows, spots, problems = _rows(resource, records)
    added, more = vocabulary_gate(resource, rows, spots)
    problems += more
    line, _ = resource.item.yaml.locate(("content",))
    table = resource.table
    content = ContentSet(address=resource.address, key=resource.doc.key,
                         hash_field=resource.doc.hash, database=resource.database,
                         table=None if table is None else
                         TableRef(schema_name=table.schema_name, table=table.name),
                         rows=tuple(rows), spec=f"{resource.item.file}:{line}",
                         sensitive=sensitive_fields(resource))
    return (None if problems else content), problems, added, spots


def sensitive_fields(resource: ContentResource) -> tuple[str, ...]:
    """The fields of `resource`'s rows that are personal data: all of them (but the hash) for a
    `content:` declared `sensitive: true`, else those of sensitive properties or columns."""
    if resource.sensitive is not None:
        return tuple(sorted(resource.sensitive))
    if resource.doc.sensitive:
        return tuple(sorted(n for n in resource.types if n != resource.doc.hash))
    if resource.notion:
        return tuple(sorted(n for n, p in resource.notion.items() if p.sensitive))
    columns = resource.table.columns if resource.table is not None else ()
    return tuple(sorted(c.name for c in columns if c.sensitive))


def check_fields(resource: ContentResource) -> list[SpecProblem]:
    """`key`, `hash` and `fields` against the declared properties/columns (spec-located)."""
    doc, what = resource.doc, "property" if resource.notion else "column"
    key_types, hash_type = (NOTION_KEY_TYPES, "rich_text") if resource.notion else \
        (POSTGRES_KEY_TYPES, "text")
    problems = _check_named(resource, ("key",), doc.key, key_types, what)
    problems += _check_named(resource, ("hash",), doc.hash, (hash_type,), what)
    if not problems and not resource.notion and doc.key not in resource.unique:
        problems.append(resource.problem(("key",), f"key column {doc.key!r} must be unique: "
                                       "declare it `unique: true` or as the primary key"))
    specs = doc.source.field_specs()
    loc = ("source", "markdown_sections", "fields") if doc.source.markdown_sections is not None \
        and doc.source.markdown_sections.fields else ("source", "fields")
    if doc.key not in specs:
        problems.append(resource.problem(loc[:-1], f"fields must map the key {doc.key!r}"))
    for name, spec in specs.items():
        more = _check_field(resource, loc + (name,), name, spec, what)
        problems += more or _check_shape(resource, loc + (name,), name, spec)
    problems += [resource.problem(("source", key), message) for key, message in
                 check_reading(doc.source.languages, doc.source.locale).items()]
    if resource.table is not None and not problems:
        problems += [resource.problem(loc, f"column {name!r} is NOT NULL and has no default, but "
                                    "fields does not map it: every insert would fail; map it, "
                                    "or give the column a default")
                     for name in unset_required(resource.table, {*specs, doc.key, doc.hash})]
    return problems


def _check_shape(resource: ContentResource, loc: tuple, name: str, spec: Any) -> list[SpecProblem]:
    """The field's value options (split, strip, map, until, format); keeps its `Shaper`."""
    kind = resource.doc.source.kind
    if isinstance(spec, FieldDoc) and spec.until is not None and kind != "markdown_sections":
        return [resource.problem(loc + ("until",), f"until: only a markdown_sections source has "
                               f"fields that span lines, not a {kind} source")]
    found, problems = shaper(spec, resource.types[name], resource.takes_list(name),
                             kind in ("markdown", "markdown_sections"), at=loc)
    if found is not None:
        resource.shapers[name] = found
        if isinstance(spec, FieldDoc) and spec.default is not None:
            try:  # a default the field refuses is the spec's problem, not every row's
                resource.coerce(name, found.shape(MISSING))
            except ValueError as exc:
                problems.append((("default",), f"default: {name} {exc}"))
    for n, item in enumerate(spec.until or () if isinstance(spec, FieldDoc) else ()):
        try:
            bounded(item) if item not in UNTIL_WORDS else None
        except re.error as exc:
            problems.append((("until", n), f"until: invalid regular expression {item!r}: {exc}"))
    return [resource.problem(loc + at, message) for at, message in problems]


def _check_named(resource: ContentResource, loc: tuple, name: str, allowed: tuple,
                 what: str) -> list:
    if name not in resource.types:
        known = ", ".join(resource.types) or "none"
        return [resource.problem(loc, f"{loc[0]}: {name!r} is not a declared {what} "
                               f"(declared: {known})")]
    if re.sub(r"\(.*\)", "", resource.types[name]) not in allowed:  # varchar(4) is a varchar
        return [resource.problem(loc, f"{loc[0]}: {name!r} is a {resource.types[name]} {what}; "
                               f"the {loc[0]} must be one of: {', '.join(allowed)}")]
    return []


def _check_field(resource: ContentResource, loc: tuple, name: str, spec: Any, what: str) -> list:
    path = spec.path if isinstance(spec, FieldDoc) else spec
    if name not in resource.types:
        return [resource.problem(loc, f"fields: {name!r} is not a declared {what}")]
    if name == resource.doc.hash:
        return [resource.problem(loc, f"fields: {name!r} is the hash field, which the sync writes "
                               "itself: remove it from fields")]
    if resource.notion and resource.types[name] not in WRITABLE_TYPES:
        return [resource.problem(loc, f"fields: {name!r} is a {resource.types[name]} property, "
                               "which Notion computes: it cannot be written")]
    kind = resource.doc.source.kind
    if not path.startswith("$") and kind not in ("csv", "markdown_sections"):
        try:
            parse_path(path)
        except PathSyntaxError as exc:
            return [resource.problem(loc, f"fields: {name!r}: {exc}")]
    if path.startswith("$") and not _special_ok(kind, path):
        return [resource.problem(loc, f"fields: {name!r}: {path} is not available for a "
                               f"{kind} source")]
    return []


def _special_ok(kind: str, path: str) -> bool:
    if kind == "markdown_sections":
        return path in ("$body", "$stem", "$path", "$heading") or \
            (path.startswith("$heading.") and path[9:].isdigit())
    return kind == "markdown" and path in ("$body", "$stem", "$path")


def _rows(resource: ContentResource, records: list[Record]
          ) -> tuple[list[SourceRow], dict[str, tuple[str, dict]], list[SpecProblem]]:
    """Rows in source order, where each row's values are (`key → (file, {field: (line, col)})`),
    and every problem of every row: missing keys, bad values, duplicate keys. A row with bad
    values is still returned (without them) when it has a key, so its options are checked
    against the vocabulary and its key against the others: one run reports it all."""
    rows, problems, seen, spots = [], [], {}, {}
    key_path = _path(resource.doc.source.field_specs()[resource.doc.key])
    for record in records:
        try:
            row, more, where = _row(resource, record)
        except PatternTimeout as exc:  # at the pattern's spec line; the other rows would wait
            problems.append(resource.problem(exc.loc, exc.message))  # as long: stop here
            break
        problems += more
        if row is None:
            continue
        line, col = where.get(resource.doc.key) or record.get(key_path)[1]
        if row.key in seen:
            problems.append(SpecProblem(record.file, line, col, f"duplicate key {row.key!r} "
                                        f"(first in {seen[row.key]}): keys must be unique"))
            problems += vocabulary_gate(resource, [row], {row.key: (record.file, where)})[1]
            continue
        seen[row.key] = f"{record.file}:{line}"
        spots[row.key] = (record.file, where)
        rows.append(row)
    return rows, spots, problems


def _path(spec: Any) -> str:
    return spec.path if isinstance(spec, FieldDoc) else spec


def _row(resource: ContentResource, record: Record
         ) -> tuple[SourceRow | None, list[SpecProblem], dict]:
    """One record typed into a `SourceRow` (None when it has no key; without the fields whose
    values are bad), its problems, and `(line, col)` of each field's value. The values of
    sensitive fields, as written and as typed, are remembered by `redact`, so no message about
    them (here or later) quotes them. Raises `PatternTimeout` (located) for a slow pattern."""
    values, problems, where, bad = {}, [], {}, set()
    specs = resource.doc.source.field_specs()
    sensitive = set(sensitive_fields(resource))
    redact.remember([record.get(_path(s))[0] for n, s in specs.items() if n in sensitive])
    key_raw = record.get(_path(specs[resource.doc.key]))[0]
    label = f"row {str(key_raw)!r}" if key_raw not in (MISSING, None, "") else "row"
    for name, spec in specs.items():
        line = record.line or 1
        try:
            raw, (line, col) = record.get(_path(spec))
            where[name] = (line, col)
            values[name] = resource.coerce(name, resource.shapers[name].shape(raw))
        except ValueError as exc:
            problems.append(SpecProblem(record.file, line, col, f"{label}: {name} {exc}"))
            bad.add(name)
        except PatternTimeout as exc:  # _rows stops: every row would wait as long
            raise exc.located(f"{record.file}:{line}") from None
    redact.remember([values[n] for n in sensitive if n in values])
    key = values.get(resource.doc.key)
    if resource.doc.key not in bad and key in (None, ""):
        line, col = record.locate(())
        problems.append(SpecProblem(record.file, record.line or line, col,
                                    f"{label}: no value for the key {resource.doc.key!r} "
                                    f"(path {_path(specs[resource.doc.key])!r})"))
    problems += _refused(resource, record, label, values, where)
    if key in (None, ""):
        return None, problems, where
    return SourceRow(key=str(key), values=values, source=record.where), problems, where


def _refused(resource: ContentResource, record: Record, label: str, values: dict[str, Any],
             where: dict[str, tuple[int, int]]) -> list[SpecProblem]:
    """What the resource would refuse of a typed row, before any write: a Postgres value its
    declared column refuses or a CHECK the row breaks (`model.column_values`); a Notion page
    body over the 500 KB a request may carry (`convert.payload_problem`, NOTION-API.md §4.2)."""
    if resource.table is not None:
        return [SpecProblem(record.file, *where.get(field or "", record.locate(())),
                            f"{label}: {message}")
                for field, message in row_problems(resource.table, values)]
    problem = payload_problem(resource.types, values) if resource.notion else None
    return [] if problem is None else [
        SpecProblem(record.file, record.line or 1, 1, f"{label}: {problem}")]


def vocabulary_gate(resource: ContentResource, rows: list[SourceRow],
                    spots: Mapping[str, tuple[str, dict]]
                    ) -> tuple[dict[str, list[str]], list[SpecProblem]]:
    """Option values against each select-like property's options (DESIGN.md "Safety").

    `exact` options (inline, or a `closed` vocabulary): a value outside them is a problem naming
    file, row and value. `additive`: new values are returned per property, in first-seen order,
    to be added. `open`: anything goes.
    """
    added: dict[str, list[str]] = {}
    problems = []
    for name, prop in resource.notion.items():
        if prop.type not in _OPTION_TYPES or prop.options_mode == "open":
            continue
        known = {o.name for o in prop.options}
        for row in rows:
            for value in _option_values(row.values.get(name)):
                if value in known or value in added.get(name, ()):
                    continue
                if prop.options_mode == "additive":
                    added.setdefault(name, []).append(value)
                    continue
                file, where = spots[row.key]
                line, col = where.get(name, (1, 1))
                problems.append(SpecProblem(file, line, col, _unknown_option(row.key, prop, value)))
    return added, problems


def _option_values(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


def _unknown_option(key: str, prop: Property, value: str) -> str:
    source = f"vocabulary {prop.vocabulary!r} (closed)" if prop.vocabulary else "its options"
    fix = f"schemas/vocab/{prop.vocabulary}.yaml" if prop.vocabulary else "the property's options"
    near = [o.name for o in prop.options if o.name.lower() == value.lower()]
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return (f"row {key!r}: {prop.name} value {value!r} is not in {source}: add it to {fix} "
            f"or fix the value{hint}")


def _with_options(notion: NotionDatabases, added: Mapping[tuple[str, str], list[str]]
                  ) -> NotionDatabases:
    """`notion` with additive values added to their properties' options (stable colours)."""
    if not added:
        return notion
    databases = []
    for db in notion.databases:
        props = tuple(
            p.model_copy(update={"options": p.options + tuple(
                SelectOption(name=n, color=stable_color(n), default_color=True) for n in added[(db.address, p.name)])})
            if (db.address, p.name) in added else p
            for p in db.properties)
        databases.append(db.model_copy(update={"properties": props}))
    return notion.model_copy(update={"databases": tuple(databases)})


def relation_keys(resources: list[ContentResource], sets: list[ContentSet],
                  spots: Mapping[str, Mapping[str, tuple[str, dict]]]) -> list[SpecProblem]:
    """Every relation value names a row of the related database's content set, by key.

    A key that set does not have, or a relation to a database without `content:` (its rows have
    no keys), is a problem at the value's `file:line:col`. Sets that failed to load are skipped
    (their own problems are reported)."""
    keys = {c.address: {r.key for r in c.rows} for c in sets}
    declared = {t.address for t in resources}
    problems = []
    for resource, content in ((t, c) for t in resources for c in sets if c.address == t.address):
        for name, prop in resource.notion.items():
            related = f"notion.{prop.relation.database}" if prop.relation else None
            if prop.type != "relation" or related is None or \
                    (related in declared and related not in keys):
                continue  # not a relation, or the related set failed (its problems are out)
            for row in content.rows:
                missing = [k for k in row.values.get(name) or () if k not in keys.get(related, ())]
                if missing:
                    file, where = spots[resource.address][row.key]
                    line, col = where.get(name, (1, 1))
                    problems.append(SpecProblem(file, line, col, _unknown_keys(
                        row.key, name, prop.relation.database, missing, related in keys)))
    return problems


def _unknown_keys(key: str, name: str, database: str, missing: list[str], has_set: bool) -> str:
    which = ", ".join(repr(k) for k in missing)
    if not has_set:
        return (f"row {key!r}: {name} names rows of {database} by key ({which}), but {database} "
                "has no content: section, so its rows have no keys: give it one")
    return (f"row {key!r}: {name}: no row of {database} has the key {which} (keys come from "
            f"{database}'s content source): fix the reference or add the row")
