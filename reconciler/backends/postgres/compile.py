"""Change → SQL statements (pure; Atlas `sql/postgres/migrate.go`).

`compile_change(change)` returns `psycopg.sql.Composed` statements built from the change's
`before`/`after` data; `display_sql(change)` renders them as text for the plan with
`as_string(None)`. The executor re-compiles at apply time and runs the composed statements, so
what is reviewed is exactly what runs. Names are always `sql.Identifier`s and literal values
`sql.Literal`s (quoted by psycopg); expressions (defaults, checks, policies, index predicates)
and types are SQL the spec author wrote, inserted as written after a safety check of types.
Dispatch is a registry keyed by change kind; an unknown kind raises `KeyError` loudly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from psycopg import sql

from reconciler.model.postgres import PRIVILEGES
from reconciler.plan.changes import Change

Compiler = Callable[[dict | None, dict | None], list[sql.Composable]]
COMPILERS: dict[str, Compiler] = {}
#: Trigger and function that keep `updated_at` current (Postgres docs, "CREATE TRIGGER").
TOUCH = "reconciler_touch_updated_at"
_SAFE_TYPE = re.compile(r'^[A-Za-z_][A-Za-z0-9_ ."]*(\(\s*\d+(\s*,\s*\d+)?\s*\))?(\[\])*$')
_ON_DELETE = {"no action", "restrict", "cascade", "set null", "set default"}
_COMMANDS = {"all", "select", "insert", "update", "delete"}
_METHODS = {"btree", "hash", "gin", "gist", "brin", "spgist"}


def compiles(kind: str) -> Callable[[Compiler], Compiler]:
    def register(fn: Compiler) -> Compiler:
        COMPILERS[kind] = fn
        return fn
    return register


def compile_change(change: Change) -> list[sql.Composable]:
    """The statements of `change`, in order. Raises KeyError for a kind without a compiler and
    ValueError for a type that is not a plain type name."""
    return COMPILERS[change.kind](change.before, change.after)


def display_sql(change: Change) -> tuple[str, ...]:
    """The statements as text, each ending with `;`, for plans and migration files."""
    return tuple(s.as_string(None) + ";" for s in compile_change(change))


def table_ident(data: dict[str, Any], key: str = "table") -> sql.Identifier:
    return sql.Identifier(data["schema_name"], data[key])


def type_sql(text: str) -> sql.SQL:
    """A type as SQL. Raises ValueError unless it looks like `name[(p[,s])][[]…]`."""
    if not _SAFE_TYPE.match(text) or "--" in text or text.count('"') % 2:
        raise ValueError(f"not a plain type name: {text!r}")
    return sql.SQL(text)


def column_def(col: dict[str, Any]) -> sql.Composed:
    parts = [sql.Identifier(col["name"]), type_sql(col["type"])]
    if not col["nullable"]:
        parts.append(sql.SQL("NOT NULL"))
    if col.get("default") is not None:
        parts.append(sql.SQL("DEFAULT {}").format(sql.SQL(col["default"])))
    return sql.SQL(" ").join(parts)


def comment_on(what: str, target: sql.Composable, text: str | None) -> sql.Composed:
    value = sql.Literal(text) if text is not None else sql.SQL("NULL")
    return sql.SQL("COMMENT ON {} {} IS {}").format(sql.SQL(what), target, value)


def _names(names: list[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def constraint_body(c: dict[str, Any]) -> sql.Composed:
    """`UNIQUE (…)`, `CHECK (…)`, `PRIMARY KEY (…)` or `FOREIGN KEY (…) REFERENCES …`."""
    if c["type"] == "unique":
        return sql.SQL("UNIQUE ({})").format(_names(c["columns"]))
    if c["type"] == "primary_key":
        return sql.SQL("PRIMARY KEY ({})").format(_names(c["columns"]))
    if c["type"] == "check":
        return sql.SQL("CHECK ({})").format(sql.SQL(c["expression"]))
    if c["on_delete"] not in _ON_DELETE:
        raise ValueError(f"unknown ON DELETE action {c['on_delete']!r}")
    return sql.SQL("FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}").format(
        _names(c["columns"]), sql.Identifier(c["ref_schema"], c["ref_table"]),
        _names(c["ref_columns"]), sql.SQL(c["on_delete"].upper()))


def touch_sql(schema: str, table: sql.Identifier, on: bool) -> list[sql.Composable]:
    """Create (or drop) the trigger that sets `updated_at = now()` before each UPDATE."""
    fn = sql.Identifier(schema, TOUCH)
    if not on:
        return [sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(sql.Identifier(TOUCH), table)]
    return [
        sql.SQL("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS "
                "$reconciler$ BEGIN NEW.updated_at := now(); RETURN NEW; END $reconciler$"
                ).format(fn),
        sql.SQL("CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION {}()"
                ).format(sql.Identifier(TOUCH), table, fn),
    ]


@compiles("create_table")
def _create_table(before: dict | None, t: dict) -> list[sql.Composable]:
    ident = table_ident(t, "name")
    items = [column_def(c) for c in t["columns"]]
    if t["primary_key"]:
        items.append(constraint_body({"type": "primary_key", "columns": t["primary_key"]}))
    for c in [{"type": "unique", **u} for u in t["uniques"]] + \
             [{"type": "check", **c} for c in t["checks"]]:
        items.append(sql.SQL("CONSTRAINT {} {}").format(sql.Identifier(c["name"]),
                                                        constraint_body(c)))
    out: list[sql.Composable] = [sql.SQL("CREATE TABLE {} (\n  {}\n)").format(
        ident, sql.SQL(",\n  ").join(items))]
    if t.get("comment") is not None:
        out.append(comment_on("TABLE", ident, t["comment"]))
    out += [comment_on("COLUMN", sql.Identifier(t["schema_name"], t["name"], c["name"]),
                       c["comment"]) for c in t["columns"] if c.get("comment") is not None]
    if t["rls"]:
        out.append(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(ident))
    if t["touch_updated_at"]:
        out += touch_sql(t["schema_name"], ident, True)
    return out


@compiles("drop_table")
def _drop_table(t: dict, after: dict | None) -> list[sql.Composable]:
    out: list[sql.Composable] = [
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
            table_ident(r), sql.Identifier(r["name"])) for r in t.get("referenced_by", [])]
    return out + [sql.SQL("DROP TABLE {}").format(table_ident(t, "name"))]


@compiles("rename_table")
def _rename_table(before: dict, after: dict) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} RENAME TO {}").format(
        table_ident(before), sql.Identifier(after["table"]))]


@compiles("modify_table")
def _modify_table(before: dict, after: dict) -> list[sql.Composable]:
    ident = table_ident(after)
    out: list[sql.Composable] = []
    if before["comment"] != after["comment"]:
        out.append(comment_on("TABLE", ident, after["comment"]))
    if before["rls"] != after["rls"]:
        word = "ENABLE" if after["rls"] else "DISABLE"
        out.append(sql.SQL("ALTER TABLE {} {} ROW LEVEL SECURITY").format(ident, sql.SQL(word)))
    if before["touch_updated_at"] != after["touch_updated_at"]:
        out += touch_sql(after["schema_name"], ident, after["touch_updated_at"])
    return out


@compiles("add_column")
def _add_column(before: dict | None, after: dict) -> list[sql.Composable]:
    col = after["column"]
    out: list[sql.Composable] = [sql.SQL("ALTER TABLE {} ADD COLUMN {}").format(
        table_ident(after), column_def(col))]
    if col.get("comment") is not None:
        out.append(comment_on("COLUMN", sql.Identifier(after["schema_name"], after["table"],
                                                       col["name"]), col["comment"]))
    return out


@compiles("drop_column")
def _drop_column(before: dict, after: dict | None) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(
        table_ident(before), sql.Identifier(before["column"]["name"]))]


@compiles("rename_column")
def _rename_column(before: dict, after: dict) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(
        table_ident(after), sql.Identifier(before["column"]["name"]),
        sql.Identifier(after["column"]["name"]))]


@compiles("modify_column")
def _modify_column(before: dict, after: dict) -> list[sql.Composable]:
    """Drop a changing default first, change the type (`USING col::type`), then set default,
    nullability and comment (Postgres docs, "ALTER TABLE … ALTER COLUMN")."""
    old, new, table = before["column"], after["column"], table_ident(after)
    col = sql.Identifier(new["name"])
    alter = lambda text, *args: sql.SQL("ALTER TABLE {} ALTER COLUMN {} " + text).format(  # noqa
        table, col, *args)
    out: list[sql.Composable] = []
    default_changes = old.get("default") != new.get("default")
    if default_changes and old.get("default") is not None:
        out.append(alter("DROP DEFAULT"))
    if old["type"] != new["type"]:
        out.append(alter("TYPE {} USING {}::{}", type_sql(new["type"]), col,
                         type_sql(new["type"])))
    if default_changes and new.get("default") is not None:
        out.append(alter("SET DEFAULT {}", sql.SQL(new["default"])))
    if old["nullable"] != new["nullable"]:
        out.append(alter("DROP NOT NULL" if new["nullable"] else "SET NOT NULL"))
    if old.get("comment") != new.get("comment"):
        out.append(comment_on("COLUMN", sql.Identifier(after["schema_name"], after["table"],
                                                       new["name"]), new.get("comment")))
    return out


@compiles("add_constraint")
def _add_constraint(before: dict | None, after: dict) -> list[sql.Composable]:
    c = after["constraint"]
    return [sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        table_ident(after), sql.Identifier(c["name"]), constraint_body(c))]


@compiles("drop_constraint")
def _drop_constraint(before: dict, after: dict | None) -> list[sql.Composable]:
    return [sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
        table_ident(before), sql.Identifier(before["constraint"]["name"]))]


def _index_item(text: str) -> sql.Composable:
    return sql.SQL(text) if text.startswith("(") else sql.Identifier(text)


@compiles("add_index")
def _add_index(before: dict | None, after: dict) -> list[sql.Composable]:
    i = after["index"]
    if i["method"] not in _METHODS:
        raise ValueError(f"unknown index method {i['method']!r}")
    stmt = sql.SQL("CREATE {}INDEX {} ON {} USING {} ({})").format(
        sql.SQL("UNIQUE " if i["unique"] else ""), sql.Identifier(i["name"]), table_ident(after),
        sql.SQL(i["method"]), sql.SQL(", ").join(_index_item(c) for c in i["columns"]))
    if i.get("where"):
        stmt = sql.SQL("{} WHERE {}").format(stmt, sql.SQL(i["where"]))
    return [stmt]


@compiles("drop_index")
def _drop_index(before: dict, after: dict | None) -> list[sql.Composable]:
    return [sql.SQL("DROP INDEX IF EXISTS {}").format(
        sql.Identifier(before["schema_name"], before["index"]["name"]))]


def role_sql(role: str) -> sql.Composable:
    """`PUBLIC` is a key word in role lists, not a role name (docs, "GRANT")."""
    return sql.SQL("PUBLIC") if role == "public" else sql.Identifier(role)


def create_policy(ref: dict, p: dict) -> sql.Composed:
    if p["command"] not in _COMMANDS:
        raise ValueError(f"unknown policy command {p['command']!r}")
    stmt = sql.SQL("CREATE POLICY {} ON {} AS {} FOR {} TO {}").format(
        sql.Identifier(p["name"]), table_ident(ref),
        sql.SQL("PERMISSIVE" if p["permissive"] else "RESTRICTIVE"),
        sql.SQL(p["command"].upper()), sql.SQL(", ").join(role_sql(r) for r in p["roles"]))
    if p.get("using") is not None:
        stmt = sql.SQL("{} USING ({})").format(stmt, sql.SQL(p["using"]))
    if p.get("with_check") is not None:
        stmt = sql.SQL("{} WITH CHECK ({})").format(stmt, sql.SQL(p["with_check"]))
    return stmt


def drop_policy(ref: dict, p: dict) -> sql.Composed:
    return sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(sql.Identifier(p["name"]),
                                                            table_ident(ref))


@compiles("add_policy")
def _add_policy(before: dict | None, after: dict) -> list[sql.Composable]:
    return [create_policy(after, after["policy"])]


@compiles("drop_policy")
def _drop_policy(before: dict, after: dict | None) -> list[sql.Composable]:
    return [drop_policy(before, before["policy"])]


@compiles("modify_policy")
def _modify_policy(before: dict, after: dict) -> list[sql.Composable]:
    """Drop and re-create: ALTER POLICY cannot change the command or permissiveness."""
    return [drop_policy(before, before["policy"]), create_policy(after, after["policy"])]


def guarded(role: str, stmt: sql.Composable) -> sql.Composable:
    """`stmt` run only when `role` exists (`DO` block; Supabase roles may be absent elsewhere).
    The dollar-quote tag is chosen so that it cannot occur in the statement."""
    if role == "public":
        return stmt
    body = stmt.as_string(None)
    tag = "reconciler"
    while f"${tag}$" in body:
        tag += "_"
    return sql.SQL("DO ${tag}$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role}) "
                   "THEN {body}; END IF; END ${tag}$").format(
        tag=sql.SQL(tag), role=sql.Literal(role), body=sql.SQL(body))


@compiles("grant")
@compiles("revoke")
def _grant(before: dict, after: dict) -> list[sql.Composable]:
    old, new = set(before["grant"]["privileges"]), set(after["grant"]["privileges"])
    role, table = after["grant"]["role"], table_ident(after)
    privs = lambda s: sql.SQL(", ").join(sql.SQL(p.upper()) for p in PRIVILEGES if p in s)  # noqa
    out: list[sql.Composable] = []
    if old - new:
        out.append(guarded(role, sql.SQL("REVOKE {} ON {} FROM {}").format(
            privs(old - new), table, role_sql(role))))
    if new - old:
        out.append(guarded(role, sql.SQL("GRANT {} ON {} TO {}").format(
            privs(new - old), table, role_sql(role))))
    return out
