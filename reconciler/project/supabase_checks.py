"""Checks of the Supabase spec that look across a file or across files, and where each
resource is declared: references between tables, column types, locations for messages."""

from __future__ import annotations

from reconciler.errors import SpecProblem
from reconciler.model.postgres import (Table, check_name, index_column, member_address,
                                       object_name)
from reconciler.model.postgres_objects import SchemaObjects
from reconciler.model.postgres_types import (EXTENSION_TYPES, extension_of, known_type,
                                             suggest_type)
from reconciler.project.supabase_docs import TableDoc
from reconciler.project.yaml import Loaded


def enum_check(column: str, values: list[str]) -> str:
    """The CHECK a `type: enum` column gets: `"col" IN ('a', 'b')`."""
    return f"{sql_identifier(column)} IN ({', '.join(sql_literal(v) for v in values)})"


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal, as psycopg's `sql.Literal(text).as_string(None)` writes
    it: `'…'` with `'` doubled. Text holding a backslash or a NUL goes to psycopg itself (its
    `E'…'` form, its error), which is otherwise not imported by `validate` (issue 15 point 1)."""
    if "\\" in text or "\x00" in text:
        from psycopg import sql

        return sql.Literal(text).as_string(None)
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """`name` quoted as psycopg's `sql.Identifier(name).as_string(None)` writes it: `"…"` with
    `"` doubled (a NUL goes to psycopg, which refuses it)."""
    if "\x00" in name:
        from psycopg import sql

        return sql.Identifier(name).as_string(None)
    return '"' + name.replace('"', '""') + '"'


def check_tables(loaded: list[Loaded[TableDoc]], tables: list[Table]) -> list[SpecProblem]:
    """Cross-file checks: unique table names, known columns in keys and indexes, and foreign
    keys that point at declared tables and columns."""
    problems: list[SpecProblem] = []
    by_name = {(t.schema_name, t.name): t for t in tables}
    seen: dict[tuple[str, str], str] = {}
    for item, table in zip(loaded, tables):
        key = (table.schema_name, table.name)
        if key in seen:
            problems.append(item.problem(("name",), f"table {table.schema_name}.{table.name} is "
                                         f"already declared in {seen[key]}"))
        seen.setdefault(key, item.file)
        problems += _check_members(item, table, by_name)
    return problems


def _check_members(item: Loaded[TableDoc], table: Table,
                   by_name: dict[tuple[str, str], Table]) -> list[SpecProblem]:
    names = {c.name for c in table.columns}
    problems = []
    groups = [("primary_key", table.primary_key)] + [("unique", u.columns) for u in table.uniques]
    groups += [("indexes", tuple(head for c in i.columns
                                 if not (head := index_column(c)[0]).startswith("(")))
               for i in table.indexes]
    for where, cols in groups:
        for col in cols:
            if col not in names:
                problems.append(item.problem((where,), f"{where}: unknown column {col!r}"))
    for fk in table.foreign_keys:
        referenced = by_name.get((fk.ref_schema, fk.ref_table))
        loc = ("columns", fk.columns[0], "references")
        if referenced is None:
            problems.append(item.problem(loc, f"references: table {fk.ref_schema}.{fk.ref_table} "
                                         "is not declared in schemas/supabase"))
        elif referenced.column(fk.ref_columns[0]) is None:
            problems.append(item.problem(loc, f"references: {fk.ref_table} has no column "
                                         f"{fk.ref_columns[0]!r}"))
    return problems


def check_types(loaded: list[Loaded[TableDoc]], tables: list[Table], objects: SchemaObjects
                ) -> list[SpecProblem]:
    """A column type that is not a known one (built in, an enum type the project declares, a
    type of an extension it declares or Supabase may have installed, or schema-qualified) but
    is close to one is a misspelling: it fails here with the closest known name (issue 12:
    `varchr(20)` used to fail mid-apply). Another unknown name may be a type made outside the
    spec (an enum created in the dashboard): the plan checks it on the dev database."""
    enabled = {e.name for e in objects.extensions if not e.absent}
    declared = objects.enum_names() | {t for ext in enabled for t in EXTENSION_TYPES.get(ext, ())}
    problems = []
    for item, table in zip(loaded, tables):
        for name, cdoc in item.doc.columns.items():
            if cdoc is None or not cdoc.type or cdoc.type == "enum" or table.column(name) is None:
                continue
            pg_type = table.column(name).type
            if known_type(pg_type, declared) or extension_of(pg_type) is not None:
                continue
            close = suggest_type(cdoc.type, declared)
            if close is not None:
                problems.append(item.problem(("columns", name, "type"), (
                    f"column {name!r}: unknown type {cdoc.type!r}: did you mean {close}? (a "
                    "built-in Postgres type, an enum declared with `kind: enum`, a type of a "
                    "declared extension, or a schema-qualified name such as public.mood)")))
    return problems


def table_locations(item: Loaded[TableDoc], table: Table) -> dict[str, str]:
    """`{address: "file:line:col"}` for the table and its members, at the YAML node that
    declares each (a column's `check:` for its check, `mirror:` for derived columns, …)."""
    doc = item.doc
    at = lambda *loc: "{}:{}:{}".format(item.file, *item.yaml.locate(loc))  # noqa: E731
    first = min((pos for key, pos in item.yaml.positions.items() if len(key) == 1),
                default=(1, 1))
    out = {table.address: "{}:{}:{}".format(item.file, *first)}
    member = lambda kind, n: member_address(table, kind, n)  # noqa: E731
    for col in table.columns:
        out[member("column", col.name)] = at("columns", col.name) if col.name in doc.columns \
            else at("mirror")
    for col_name, cdoc in doc.columns.items():
        if cdoc is None:
            continue
        for key in ("check", "values"):
            if getattr(cdoc, key):
                expr = cdoc.check if key == "check" else enum_check(col_name, cdoc.values)
                out[member("constraint", check_name(table.name, expr))] = \
                    at("columns", col_name, key)
        if cdoc.unique:
            out[member("constraint", object_name(table.name, [col_name], "key"))] = \
                at("columns", col_name, "unique")
        if cdoc.references is not None:
            out[member("constraint", object_name(table.name, [col_name], "fkey"))] = \
                at("columns", col_name, "references")
    for i, expr in enumerate(doc.checks):
        out[member("constraint", check_name(table.name, expr))] = at("checks", i)
    for i, group in enumerate(doc.unique):
        out[member("constraint", object_name(table.name, group, "key"))] = at("unique", i)
    for i, index in enumerate(table.indexes):
        out[member("index", index.name)] = at("indexes", i)
    for kind, names in (("policy", doc.policies), ("grant", doc.grants),
                        ("trigger", doc.triggers)):
        plural = {"policy": "policies", "grant": "grants", "trigger": "triggers"}[kind]
        out.update({member(kind, n): at(plural, n) for n in names})
    out[member("constraint", f"{table.name}_pkey")] = at("primary_key")
    return out
