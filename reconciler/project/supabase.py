"""Load `schemas/supabase/*.yaml` into tables and the objects beside them, with every problem
located.

`load_supabase_spec(root, env, notion)` validates each file against the document model of its
`kind:` (`table` by default; `project.supabase_docs.DOC_KINDS`), resolves shorthands (enums as
CHECKs, `references:`, literal defaults, `grants: {role: all}`), derives mirrored columns from
the `NotionDatabases` (`project.mirror`), checks references between tables and that every
column type exists, and records where each resource is declared. Never raises for bad content:
problems come back as `SpecProblem`s (`file:line:col`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import SpecProblem, relative
from reconciler.model.notion import NotionDatabases
from reconciler.model.postgres import (
    MAX_IDENTIFIER, PRIVILEGES, SERIAL_TYPES, Check, Column, ForeignKey, Grant, Index, Policy,
    Table, Trigger, Unique, check_name, index_column, index_text, normalise_default,
    normalise_type, object_name,
)
from reconciler.model.postgres_objects import SchemaObjects
from reconciler.project.mirror import column_name, mirror_columns
from reconciler.model.postgres_types import plain_type
from reconciler.project.supabase_checks import (check_tables, check_types, enum_check, sql_literal,
                                               table_locations)
from reconciler.project.supabase_docs import (DOC_KINDS, ColumnDoc, MirrorDoc, ReferenceDoc,
                                              TableDoc)
from reconciler.project.supabase_objects import resolve_objects
from reconciler.project.sync_docs import sync_doc
from reconciler.project.yaml import Loaded, load_yaml, validate

SPEC_DIR = Path("schemas") / "supabase"
_EVENTS = ("insert", "update", "delete", "truncate")


@dataclass(frozen=True)
class SupabaseSpec:
    """The Supabase side of a project: `tables`, the `objects` beside them, and where each
    resource is declared (`{address: "file:line:col"}`, for messages about it)."""

    tables: tuple[Table, ...] = ()
    objects: SchemaObjects = SchemaObjects()
    locations: dict[str, str] = field(default_factory=dict)


def load_supabase(root: Path, env: Mapping[str, str], notion: NotionDatabases,
                  docs: "SpecDocs | None" = None
                  ) -> tuple[tuple[Table, ...], list[SpecProblem]]:
    """The tables of `load_supabase_spec`, and every problem."""
    spec, problems = load_supabase_spec(root, env, notion, docs)
    return spec.tables, problems


#: What `read_spec_docs` returns: the valid table documents, the valid object documents and the
#: problems of every file.
SpecDocs = tuple[list[Loaded[TableDoc]], list[Loaded[Any]], list[SpecProblem]]


def load_supabase_spec(root: Path, env: Mapping[str, str], notion: NotionDatabases,
                       docs: SpecDocs | None = None) -> tuple[SupabaseSpec, list[SpecProblem]]:
    """Read every `<root>/schemas/supabase/*.yaml` (sorted) into tables and objects.

    Returns `(spec, problems)`; file names in problems are relative to `root`. `notion` is the
    desired Notion databases that `mirror:` names resolve against. `docs` is what
    `read_spec_docs(root, env)` returned, when the caller already read the files (each file is
    parsed once). OSError propagates.
    """
    tables_loaded, objects_loaded, problems = docs if docs is not None \
        else read_spec_docs(root, env)
    problems = list(problems)
    tables: list[Table] = []
    locations: dict[str, str] = {}
    for item in tables_loaded:
        table, more, where = resolve_table(item, notion)
        tables.append(table)
        problems += more
        locations.update(where)
    objects, where, more = resolve_objects(objects_loaded)
    locations.update(where)
    problems += more
    problems += check_tables(tables_loaded, tables)
    problems += check_types(tables_loaded, tables, objects)
    return SupabaseSpec(tuple(tables), objects, locations), problems


def read_table_docs(root: Path, env: Mapping[str, str]
                    ) -> tuple[list[Loaded[TableDoc]], list[SpecProblem]]:
    """The valid table documents of `read_spec_docs` and the problems of every file."""
    tables, _, problems = read_spec_docs(root, env)
    return tables, problems


def read_spec_docs(root: Path, env: Mapping[str, str]) -> SpecDocs:
    """The valid `schemas/supabase/*.yaml` documents (sorted by file), each validated against
    the model of its `kind:` (`table` when absent), split into tables and objects, and the
    problems of all (an unknown kind gets the closest known one)."""
    problems: list[SpecProblem] = []
    tables_loaded: list[Loaded[TableDoc]] = []
    objects_loaded: list[Loaded[Any]] = []
    for path in sorted((Path(root) / SPEC_DIR).glob("*.yaml")):
        file = relative(path, Path(root))
        doc, more = load_yaml(path, file, dict(env), remember=True)
        problems += more
        if doc is None:
            continue
        kind = doc.data.get("kind", "table") if isinstance(doc.data, dict) else "table"
        model = DOC_KINDS.get(kind) if isinstance(kind, str) else None
        if model is None:
            line, col = doc.locate(("kind",))
            close = difflib.get_close_matches(str(kind), DOC_KINDS, n=1)
            problems.append(SpecProblem(file, line, col, f"unknown kind {kind!r}"
                                        + (f": did you mean {close[0]}?" if close else "")
                                        + f" (one of: {', '.join(DOC_KINDS)})"))
            continue
        valid, more = validate(model, doc)
        problems += more
        if valid is not None:
            (tables_loaded if kind == "table" else objects_loaded).append(
                Loaded(path.stem, file, valid, doc))
    return tables_loaded, objects_loaded, problems


def resolve_table(item: Loaded[TableDoc], notion: NotionDatabases
                  ) -> tuple[Table, list[SpecProblem], dict[str, str]]:
    """One validated document → `Table` (+ problems found while resolving, and where each of
    its members is declared)."""
    doc, name = item.doc, item.doc.name or item.name
    problems: list[SpecProblem] = []
    derived: dict[str, Column] = {}
    if doc.mirror is not None:
        derived, more = _mirrored(item, notion)
        problems += more
    columns, pk, uniques, checks, fks = _columns(item, name, derived, problems)
    pk_set = set(pk)
    cols = tuple(c.model_copy(update={"nullable": False}) if c.name in pk_set else c
                 for c in columns.values())
    problems += _long_names(item, name, cols)
    uniques += [list(u) for u in doc.unique]
    has_updated = any(c.name == "updated_at" and c.type == "timestamptz" for c in cols)
    table = Table(
        schema_name=doc.schema_, name=name, columns=cols, primary_key=tuple(pk),
        uniques=tuple(Unique(name=object_name(name, u, "key"), columns=tuple(u))
                      for u in _dedupe(uniques)),
        foreign_keys=tuple(fks),
        checks=tuple(Check(name=check_name(name, e), expression=e)
                     for e in dict.fromkeys(checks + doc.checks)),
        indexes=tuple(_index(name, i, {c.name for c in cols}) for i in doc.indexes),
        comment=doc.comment or _mirror_comment(doc, notion), rls=doc.rls,
        force_rls=doc.force_rls, realtime=doc.realtime,
        policies=tuple(_policy(n, p) for n, p in doc.policies.items()),
        grants=_grants(item, problems),
        triggers=tuple(_trigger(n, t, doc.schema_) for n, t in doc.triggers.items()),
        touch_updated_at=has_updated if doc.updated_at_trigger is None else doc.updated_at_trigger,
        mirror=mirror_doc(doc.mirror).database if doc.mirror is not None else None,
        renamed_from=tuple(doc.renamed_from))
    return table, problems, table_locations(item, table)


def _trigger(name: str, doc: Any, schema: str) -> Trigger:
    function = doc.function if "." in doc.function else f"{schema}.{doc.function}"
    return Trigger(name=name, function=function, timing=doc.timing,
                   events=tuple(e for e in _EVENTS if e in doc.events), for_each=doc.for_each,
                   when=doc.when, enabled=doc.enabled)


def _long_names(item: Loaded[TableDoc], table: str, columns: tuple[Column, ...]
                ) -> list[SpecProblem]:
    """Names Postgres would silently truncate to 63 bytes (the table would never converge)."""
    problems = []
    for name, loc in [(table, ("name",) if item.doc.name else ())] + [
            (c.name, ("columns", c.name) if c.name in item.doc.columns else ("mirror",))
            for c in columns]:
        if len(name.encode()) > MAX_IDENTIFIER:
            problems.append(item.problem(loc, f"name {name!r} is {len(name.encode())} bytes long: "
                                         f"Postgres keeps at most {MAX_IDENTIFIER} (it would "
                                         "truncate it); shorten it"))
    return problems


def _columns(item: Loaded[TableDoc], name: str, derived: dict[str, Column],
             problems: list[SpecProblem]) -> tuple[dict[str, Column], list, list, list, list]:
    """Derived then declared columns, and what column-level keys declare: `(columns, primary
    key, unique groups, check expressions, foreign keys)`."""
    doc = item.doc
    columns = dict(derived)
    pk = list(doc.primary_key or (["id"] if doc.mirror is not None else []))
    uniques = [["notion_page_id"]] if doc.mirror is not None else []
    checks, fks = [], []
    for col_name, cdoc in doc.columns.items():
        cdoc = cdoc or ColumnDoc()
        column = _column(item, col_name, cdoc, derived.get(col_name), problems)
        if column is None:
            continue
        columns[col_name] = column
        pk += [col_name] if cdoc.primary_key and col_name not in pk else []
        uniques += [[col_name]] if cdoc.unique else []
        checks += [enum_check(col_name, cdoc.values)] if cdoc.values else []
        checks += [cdoc.check] if cdoc.check else []
        if cdoc.references is not None:
            fks.append(_foreign_key(name, doc.schema_, col_name, cdoc.references))
    return columns, pk, uniques, checks, fks


def mirror_doc(mirror: str | MirrorDoc) -> MirrorDoc:
    """`mirror: tasks` (the short form) or `mirror: {database: tasks, …}`, as a `MirrorDoc`."""
    return MirrorDoc(database=mirror) if isinstance(mirror, str) else mirror


def _mirror_comment(doc: TableDoc, notion: NotionDatabases) -> str | None:
    if doc.mirror is None:
        return None
    db = notion.database(mirror_doc(doc.mirror).database)
    return f"Mirror of the Notion database {db.title!r}" if db is not None else None


def _mirrored(item: Loaded[TableDoc], notion: NotionDatabases
              ) -> tuple[dict[str, Column], list[SpecProblem]]:
    mirror = mirror_doc(item.doc.mirror)
    db = notion.database(mirror.database)
    if db is None:
        known = ", ".join(sorted(d.name for d in notion.databases)) or "none"
        return {}, [item.problem(("mirror",), f"mirror: no Notion database named "
                                 f"{mirror.database!r} is declared (declared: {known})")]
    columns, clashes = mirror_columns(db, mirror.dates)
    columns = _synced_columns(item.doc, db, columns)
    problems = [item.problem(("mirror",), f"mirror: property {p!r} maps to a column name another "
                             "property already has; rename it or declare the column explicitly")
                for p in clashes]
    return {c.name: c for c in columns}, problems


def _synced_columns(doc: TableDoc, db, columns: list[Column]) -> list[Column]:
    """A table synced to Notion (`sync:` carrying rows from Supabase) takes rows without a page
    yet: its `notion_page_id` is nullable (the sync writes it back); a relation kept in a join
    table (`sync.relations`) has no column of its own."""
    if doc.sync is None:
        return columns
    sync = sync_doc(doc.sync)
    joined = {column_name(p) for p in sync.relations}
    nullable = sync.direction != "notion_to_supabase"
    return [c.model_copy(update={"nullable": True}) if c.name == "notion_page_id" and nullable
            else c for c in columns if c.name not in joined]


def _column(item: Loaded[TableDoc], name: str, doc: ColumnDoc, base: Column | None,
            problems: list[SpecProblem]) -> Column | None:
    """A declared column, or a mirrored one (`base`) with the declared fields overriding it."""
    loc = ("columns", name)
    if doc.type is not None and not doc.type.strip():
        problems.append(item.problem(loc + ("type",), f"column {name!r}: the type is empty: give "
                                     "a Postgres type such as text"))
        return None
    if doc.type is None and base is None:
        problems.append(item.problem(loc, f"column {name!r}: missing required key 'type': add it"))
        return None
    if (doc.type == "enum") != bool(doc.values):
        problems.append(item.problem(loc, f"column {name!r}: `values` goes with `type: enum` "
                                     "(and an enum needs values)"))
        return None
    if doc.default is not None and doc.default_sql is not None:
        problems.append(item.problem(loc, f"column {name!r}: give `default` or `default_sql`, "
                                     "not both"))
        return None
    if doc.type == "enum" and doc.default is not None and doc.default not in doc.values:
        problems.append(item.problem(loc + ("default",), (
            f"column {name!r}: the default {doc.default!r} is not one of its values "
            f"({', '.join(map(str, doc.values))}): the column's CHECK would refuse it on every "
            "row that takes it")))
        return None
    pg_type = "text" if doc.type == "enum" else normalise_type(doc.type) if doc.type else base.type
    try:
        plain_type(pg_type)
    except ValueError as exc:
        problems.append(item.problem(loc + ("type",), f"column {name!r}: {exc}"))
        return None
    generated = pg_type in SERIAL_TYPES or doc.identity is not None
    if generated and (doc.default is not None or doc.default_sql is not None):
        problems.append(item.problem(loc, f"column {name!r}: a serial or identity column draws "
                                     "its values from its sequence: remove the default"))
        return None
    if doc.identity is not None and pg_type not in ("smallint", "integer", "bigint"):
        problems.append(item.problem(loc + ("identity",), f"column {name!r}: an identity "
                                     "column is smallint, integer or bigint"))
        return None
    fields: dict[str, Any] = {"name": name, "type": pg_type}
    if doc.identity is not None:
        fields["identity"] = doc.identity
    if generated:
        fields["nullable"] = False
    if doc.nullable is not None:
        if generated and doc.nullable:
            problems.append(item.problem(loc + ("nullable",), f"column {name!r}: a serial or "
                                         "identity column is never null"))
        fields["nullable"] = doc.nullable and not generated
    if doc.default is not None:
        fields["default"] = normalise_default(literal_default(doc.default, pg_type))
    if doc.default_sql is not None:
        fields["default"] = normalise_default(doc.default_sql)
    if doc.comment is not None:
        fields["comment"] = doc.comment
    if doc.renamed_from:
        fields["renamed_from"] = tuple(doc.renamed_from)
    if doc.sensitive is not None:
        fields["sensitive"] = doc.sensitive
    return base.model_copy(update=fields) if base is not None else Column(**fields)


def literal_default(value: Any, pg_type: str) -> str:
    """A YAML value as a SQL literal: bools and numbers as written, lists/dicts as JSON text for
    json(b) and as an array literal for arrays, strings quoted as psycopg's `sql.Literal`
    quotes them (`supabase_checks.sql_literal`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if pg_type in ("json", "jsonb"):
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    elif isinstance(value, list):
        text = "{" + ",".join(json.dumps(str(v), ensure_ascii=False) for v in value) + "}"
    else:
        text = str(value)
    return sql_literal(text)


def _foreign_key(table: str, schema: str, column: str, ref: str | ReferenceDoc) -> ForeignKey:
    if isinstance(ref, str):
        ref_table, _, ref_col = ref.partition(".")
        ref = ReferenceDoc(table=ref_table, column=ref_col or "id")
    return ForeignKey(name=object_name(table, [column], "fkey"), columns=(column,),
                      ref_schema=ref.schema_ or schema, ref_table=ref.table,
                      ref_columns=(ref.column,), on_delete=ref.on_delete)


def _index(table: str, doc, columns: set[str]) -> Index:
    parts = ["".join(ch if ch.isalnum() else "_" for ch in c).strip("_") for c in doc.columns]
    return Index(name=doc.name or object_name(table, parts, "idx"),
                 columns=tuple(_index_item(c, columns) for c in doc.columns),
                 unique=doc.unique, method=doc.method, where=doc.where,
                 concurrently=doc.concurrently)


def _index_item(text: str, columns: set[str]) -> str:
    """An index item in its canonical spelling (`index_text`): a declared column name as it
    is, else a column or `(expression)` then `[COLLATE c] [opclass] [ASC|DESC] [NULLS …]`;
    `(title)` of a declared column `title` is that column (Postgres reads it so)."""
    if text in columns:
        return index_text(text)
    head, suffix = index_column(text)
    inner = head[1:-1].strip() if head.startswith("(") and head.endswith(")") else None
    if inner in columns and re.fullmatch(r"[a-z_][a-z0-9_$]*", inner):
        head = inner
    return index_text(head, suffix)


def _policy(name: str, doc) -> Policy:
    return Policy(name=name, command=doc.command, roles=tuple(sorted(r.lower() for r in doc.roles)),
                  permissive=doc.as_ == "permissive", using=doc.using, with_check=doc.with_check)


def _grants(item: Loaded[TableDoc], problems: list[SpecProblem]) -> tuple[Grant, ...]:
    grants = []
    for role, privs in sorted(item.doc.grants.items()):
        wanted = {p.lower() for p in privs}
        if "all" in wanted:
            wanted = set(PRIVILEGES)
        unknown = sorted(wanted - set(PRIVILEGES))
        if unknown:
            problems.append(item.problem(("grants", role), f"grants: unknown privilege(s) "
                                         f"{', '.join(unknown)} (allowed: all, {', '.join(PRIVILEGES)})"))
        grants.append(Grant(role=role, privileges=tuple(p for p in PRIVILEGES if p in wanted)))
    return tuple(grants)


def _dedupe(groups: list[list[str]]) -> list[list[str]]:
    return [list(g) for g in dict.fromkeys(tuple(g) for g in groups)]


