"""Change → SQL for the objects beside tables: enum types, extensions, sequences, views,
functions and default privileges (pure; registered in `ddl.COMPILERS`).

Statements follow the Postgres docs pages of the same names ("CREATE TYPE", "ALTER TYPE",
"CREATE EXTENSION", "CREATE SEQUENCE", "CREATE VIEW", "CREATE FUNCTION", "ALTER DEFAULT
PRIVILEGES"). View queries, function bodies, argument lists and result types are SQL the spec
author wrote, inserted as written (bodies dollar-quoted); names are identifiers.
"""

from __future__ import annotations

import re

from psycopg import sql

from reconciler.backends.postgres.ddl import (comment_on, compiles, dollar_quoted, guarded,
                                              role_sql, type_sql)
from reconciler.diff.postgres_objects import (enum_plan, function_recreated, grant_changes,
                                              restored_grants, view_recreated)
from reconciler.model import changes as ch
from reconciler.model.postgres import Grant
from reconciler.model.postgres_objects import (DEFAULT_PRIVILEGES, OBJECT_PRIVILEGES, EnumType,
                                               Extension, Function, Sequence, View)

_WORD = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _name(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


# --- enum types --------------------------------------------------------------------------------

@compiles(ch.AddEnum)
def _add_enum(change: ch.AddEnum) -> list[sql.Composable]:
    e = change.after
    return [sql.SQL("CREATE TYPE {} AS ENUM ({})").format(
        _name(e.schema_name, e.name), sql.SQL(", ").join(sql.Literal(v) for v in e.values))]


@compiles(ch.DropEnum)
def _drop_enum(change: ch.DropEnum) -> list[sql.Composable]:
    return [sql.SQL("DROP TYPE {}").format(_name(change.before.schema_name, change.before.name))]


@compiles(ch.ModifyEnum)
def _modify_enum(change: ch.ModifyEnum) -> list[sql.Composable]:
    """Renames first, then each new value placed after its predecessor in the desired order
    (or before its successor when it comes first)."""
    want: EnumType = change.after
    renames, added, _ = enum_plan(want, change.before)
    ident = _name(want.schema_name, want.name)
    out: list[sql.Composable] = [
        sql.SQL("ALTER TYPE {} RENAME VALUE {} TO {}").format(ident, sql.Literal(o), sql.Literal(n))
        for o, n in renames.items()]
    present = [renames.get(v, v) for v in change.before.values]
    for value in added:
        at = want.values.index(value)
        before = next((v for v in reversed(want.values[:at]) if v in present), None)
        after = next((v for v in want.values[at + 1:] if v in present), None)
        place = (sql.SQL(" AFTER {}").format(sql.Literal(before)) if before is not None else
                 sql.SQL(" BEFORE {}").format(sql.Literal(after)) if after is not None else
                 sql.SQL(""))
        out.append(sql.SQL("ALTER TYPE {} ADD VALUE {}{}").format(ident, sql.Literal(value), place))
        present.append(value)
    return out


# --- extensions --------------------------------------------------------------------------------

def _create_extension(e: Extension) -> list[sql.Composable]:
    out: list[sql.Composable] = []
    stmt = sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(e.name))
    if e.schema_name:
        out.append(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(e.schema_name)))
        stmt = sql.SQL("{} WITH SCHEMA {}").format(stmt, sql.Identifier(e.schema_name))
    if e.version:
        stmt = sql.SQL("{} VERSION {}").format(stmt, sql.Literal(e.version))
    return out + [stmt]


@compiles(ch.AddExtension)
def _add_extension(change: ch.AddExtension) -> list[sql.Composable]:
    return _create_extension(change.after)


@compiles(ch.DropExtension)
def _drop_extension(change: ch.DropExtension) -> list[sql.Composable]:
    return [sql.SQL("DROP EXTENSION IF EXISTS {}").format(sql.Identifier(change.before.name))]


@compiles(ch.ModifyExtension)
def _modify_extension(change: ch.ModifyExtension) -> list[sql.Composable]:
    old, new, ident = change.before, change.after, sql.Identifier(change.after.name)
    out: list[sql.Composable] = []
    if new.version != old.version:
        out.append(sql.SQL("ALTER EXTENSION {} UPDATE TO {}").format(ident,
                                                                      sql.Literal(new.version)))
    if new.schema_name != old.schema_name and new.schema_name:
        out.append(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            sql.Identifier(new.schema_name)))
        out.append(sql.SQL("ALTER EXTENSION {} SET SCHEMA {}").format(
            ident, sql.Identifier(new.schema_name)))
    return out


# --- sequences ---------------------------------------------------------------------------------

def _sequence_options(s: Sequence) -> sql.Composed:
    return sql.SQL("AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}"
                   ).format(sql.SQL(s.type), sql.Literal(s.increment), sql.Literal(s.min_value),
                            sql.Literal(s.max_value), sql.Literal(s.start), sql.Literal(s.cache),
                            sql.SQL("CYCLE" if s.cycle else "NO CYCLE"))


@compiles(ch.AddSequence)
def _add_sequence(change: ch.AddSequence) -> list[sql.Composable]:
    s = change.after
    return [sql.SQL("CREATE SEQUENCE {} {}").format(_name(s.schema_name, s.name),
                                                    _sequence_options(s))]


@compiles(ch.DropSequence)
def _drop_sequence(change: ch.DropSequence) -> list[sql.Composable]:
    s = change.before
    return [sql.SQL("DROP SEQUENCE {}").format(_name(s.schema_name, s.name))]


@compiles(ch.ModifySequence)
def _modify_sequence(change: ch.ModifySequence) -> list[sql.Composable]:
    s = change.after
    return [sql.SQL("ALTER SEQUENCE {} {}").format(_name(s.schema_name, s.name),
                                                   _sequence_options(s))]


# --- views -------------------------------------------------------------------------------------

def create_view(v: View) -> list[sql.Composable]:
    """`CREATE VIEW … [WITH (security_invoker = true)] AS <query>` and its comment."""
    options = sql.SQL(" WITH (security_invoker = true)" if v.security_invoker else "")
    out: list[sql.Composable] = [sql.SQL("CREATE VIEW {}{} AS {}").format(
        _name(v.schema_name, v.name), options, sql.SQL(v.definition.strip().rstrip(";")))]
    if v.comment is not None:
        out.append(comment_on("VIEW", _name(v.schema_name, v.name), v.comment))
    return out


def _drop_view_sql(v: View) -> sql.Composed:
    return sql.SQL("DROP VIEW IF EXISTS {}").format(_name(v.schema_name, v.name))


@compiles(ch.AddView)
def _add_view(change: ch.AddView) -> list[sql.Composable]:
    v = change.after
    return [*create_view(v), *declared_grants(_view_object(v), "view", v.grants)]


@compiles(ch.DropView)
def _drop_view(change: ch.DropView) -> list[sql.Composable]:
    return [_drop_view_sql(change.before)]


@compiles(ch.ModifyView)
def _modify_view(change: ch.ModifyView) -> list[sql.Composable]:
    """Drop and create again, then set its privileges back (`restore_grants`); only GRANT /
    REVOKE when nothing but the grants of roles the spec names differ."""
    old, new = change.before, change.after
    obj = _view_object(new)
    if not view_recreated(new, old):
        return _grant_changes(obj, "view", new.grants, old.grants)
    return [_drop_view_sql(old), *create_view(new),
            *restore_grants(obj, "view", restored_grants(new.grants, old.grants),
                            schema=new.schema_name, name=new.name)]


def _view_object(v: View) -> sql.Composed:
    """`TABLE "schema"."name"`: the view as GRANT and REVOKE name the object they apply to."""
    return sql.SQL("TABLE {}").format(_name(v.schema_name, v.name))


# --- grants on views and functions (`obj`: the object GRANT and REVOKE apply to) ---------------

def _privileges(kind: str, privileges: set[str] | tuple[str, ...]) -> sql.Composable:
    return sql.SQL(", ").join(sql.SQL(p.upper()) for p in OBJECT_PRIVILEGES[kind]
                              if p in privileges)


def _grant(obj: sql.Composable, kind: str, role: str, privileges) -> sql.Composable:
    return guarded(role, sql.SQL("GRANT {} ON {} TO {}").format(
        _privileges(kind, privileges), obj, role_sql(role)))


def _revoke(obj: sql.Composable, kind: str, role: str, privileges) -> sql.Composable:
    return guarded(role, sql.SQL("REVOKE {} ON {} FROM {}").format(
        _privileges(kind, privileges), obj, role_sql(role)))


def _grant_changes(obj: sql.Composable, kind: str, want: tuple[Grant, ...],
                   have: tuple[Grant, ...]) -> list[sql.Composable]:
    """REVOKE what each role the spec names loses, GRANT what it gains."""
    out: list[sql.Composable] = []
    for role, (old, new) in sorted(grant_changes(want, have).items()):
        if old - new:
            out.append(_revoke(obj, kind, role, old - new))
        if new - old:
            out.append(_grant(obj, kind, role, new - old))
    return out


def declared_grants(obj: sql.Composable, kind: str, grants: tuple[Grant, ...]
                    ) -> list[sql.Composable]:
    """On a new object: each role the spec names gets exactly its privileges (REVOKE ALL, then
    GRANT), whatever PUBLIC's default EXECUTE or default privileges gave it."""
    out: list[sql.Composable] = []
    for g in grants:
        out.append(_revoke(obj, kind, g.role, OBJECT_PRIVILEGES[kind]))
        if g.privileges:
            out.append(_grant(obj, kind, g.role, g.privileges))
    return out


def restore_grants(obj: sql.Composable, kind: str, grants: tuple[Grant, ...], *,
                   schema: str, name: str) -> list[sql.Composable]:
    """After a drop and create: revoke every privilege any role but the owner holds on the new
    object (PUBLIC's default EXECUTE on a function, default privileges), then grant `grants`,
    so its ACL ends as it was (with the spec's roles as declared)."""
    if kind == "view":
        acl = sql.SQL("SELECT c.relacl AS acl, c.relowner AS owner FROM pg_catalog.pg_class c "
                      "WHERE c.oid = {}::regclass").format(
                          sql.Literal(_name(schema, name).as_string(None)))
        default = "r"
    else:
        # every function of that name (a regprocedure cast takes no argument names); revoking
        # from a role that holds nothing on this one does nothing
        acl = sql.SQL("SELECT p.proacl AS acl, p.proowner AS owner FROM pg_catalog.pg_proc p "
                      "WHERE p.proname = {} AND p.pronamespace = {}::regnamespace").format(
                          sql.Literal(name), sql.Literal(sql.Identifier(schema).as_string(None)))
        default = "f"
    body = sql.SQL(
        "DECLARE g text; BEGIN FOR g IN SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' "
        "ELSE quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END FROM ({acl}) o CROSS JOIN "
        "LATERAL aclexplode(coalesce(o.acl, acldefault({default}, o.owner))) a WHERE a.grantee "
        "<> o.owner LOOP EXECUTE {revoke} || g; END LOOP; END").format(
            acl=acl, default=sql.Literal(default),
            revoke=sql.Literal(sql.SQL("REVOKE ALL ON {} FROM ").format(obj).as_string(None)))
    text = body.as_string(None)
    tag = "reconciler"
    while f"${tag}$" in text:
        tag += "_"
    reset = sql.SQL("DO ${tag}$ {body} ${tag}$").format(tag=sql.SQL(tag), body=sql.SQL(text))
    return [reset, *(_grant(obj, kind, g.role, g.privileges) for g in grants if g.privileges)]


# --- functions ---------------------------------------------------------------------------------

def signature(f: Function, *, defaults: bool = False) -> sql.Composed:
    """`"schema"."name"(arguments)`: with `defaults` as CREATE FUNCTION declares it, else as
    DROP FUNCTION and COMMENT ON FUNCTION name it (without the DEFAULT clauses)."""
    args = f.arguments if defaults else identity_arguments(f.arguments)
    return sql.SQL("{}({})").format(_name(f.schema_name, f.name), sql.SQL(args))


_DEFAULT = re.compile(r"\s+(?:DEFAULT\b|=).*$", re.IGNORECASE | re.DOTALL)


def identity_arguments(arguments: str) -> str:
    """`query text, n int DEFAULT 10` → `query text, n int`: the argument list without its
    defaults (commas inside parentheses or quotes do not split)."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in arguments:
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        if char == "," and depth == 0 and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return ", ".join(_DEFAULT.sub("", p.strip()) for p in parts if p.strip())


def search_path_sql(value: str) -> sql.Composable:
    """`''` for an empty search path, else the schema names as identifiers."""
    parts = [p.strip().strip('"') for p in value.split(",") if p.strip().strip('"')]
    return sql.SQL(", ").join(sql.Identifier(p) for p in parts) if parts else sql.SQL("''")


def create_function(f: Function, *, replace: bool = False) -> list[sql.Composable]:
    """`CREATE [OR REPLACE] FUNCTION`, then its comment. Raises ValueError for a language that
    is not a plain name."""
    if not _WORD.match(f.language):
        raise ValueError(f"not a language name: {f.language!r}")
    parts = [sql.SQL("CREATE {}FUNCTION {} RETURNS {} LANGUAGE {} {}").format(
        sql.SQL("OR REPLACE " if replace else ""), signature(f, defaults=True),
        sql.SQL(f.returns),
        sql.SQL(f.language), sql.SQL(f.volatility.upper()))]
    if f.security_definer:
        parts.append(sql.SQL("SECURITY DEFINER"))
    if f.search_path is not None:
        parts.append(sql.SQL("SET search_path = {}").format(search_path_sql(f.search_path)))
    parts.append(sql.SQL("AS {}").format(dollar_quoted(f.body, "body")))
    out: list[sql.Composable] = [sql.SQL(" ").join(parts)]
    if f.comment is not None:
        out.append(comment_on("FUNCTION", signature(f), f.comment))
    return out


def _function_object(f: Function) -> sql.Composed:
    """`FUNCTION "schema"."name"(arguments)` without defaults: the function as GRANT and REVOKE
    name the object they apply to."""
    return sql.SQL("FUNCTION {}").format(signature(f))


@compiles(ch.AddFunction)
def _add_function(change: ch.AddFunction) -> list[sql.Composable]:
    f = change.after
    return [*create_function(f), *declared_grants(_function_object(f), "function", f.grants)]


@compiles(ch.DropFunction)
def _drop_function(change: ch.DropFunction) -> list[sql.Composable]:
    return [sql.SQL("DROP FUNCTION IF EXISTS {}").format(signature(change.before))]


@compiles(ch.ModifyFunction)
def _modify_function(change: ch.ModifyFunction) -> list[sql.Composable]:
    old, new = change.before, change.after
    obj = _function_object(new)
    grants = _grant_changes(obj, "function", new.grants, old.grants)
    if not function_recreated(new, old):
        if old.model_copy(update={"grants": new.grants, "identity": None}) == new:
            return grants  # only the grants differ
        out = create_function(new, replace=True)
        if old.comment is not None and new.comment is None:
            out.append(comment_on("FUNCTION", signature(new), None))
        return out + grants
    return [sql.SQL("DROP FUNCTION IF EXISTS {}").format(signature(old)), *create_function(new),
            *restore_grants(obj, "function", restored_grants(new.grants, old.grants),
                            schema=new.schema_name, name=new.name)]


# --- default privileges ------------------------------------------------------------------------

@compiles(ch.ModifyDefaultPrivileges)
def _default_privileges(change: ch.ModifyDefaultPrivileges) -> list[sql.Composable]:
    """GRANT what the grantee gains, REVOKE what it loses, each run only when both roles exist."""
    d = change.after
    old, new = set(change.before.grant.privileges), set(d.grant.privileges)
    order = DEFAULT_PRIVILEGES[d.on]
    head = sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {}").format(
        sql.Identifier(d.owner), sql.Identifier(d.schema_name))
    privs = lambda s: sql.SQL(", ").join(sql.SQL(p.upper()) for p in order if p in s)  # noqa
    on = type_sql(d.on.upper())
    out: list[sql.Composable] = []
    if old - new:
        out.append(guarded([d.owner, d.grant.role], sql.SQL("{} REVOKE {} ON {} FROM {}").format(
            head, privs(old - new), on, role_sql(d.grant.role))))
    if new - old:
        out.append(guarded([d.owner, d.grant.role], sql.SQL("{} GRANT {} ON {} TO {}").format(
            head, privs(new - old), on, role_sql(d.grant.role))))
    return out
