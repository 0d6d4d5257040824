"""Let the server normalise expressions, so the diff compares like with like.

Postgres prints what it stores, not what was written: `CHECK (price >= 0)` comes back as
`(price >= (0)::numeric)`, `status IN ('a')` as `(status = ANY (ARRAY['a'::text]))`. Rather than
re-implement its deparser, we do what Atlas does with its "dev database": create a scratch
temporary table with the desired columns, add the desired defaults, checks, policies and index
predicates to it inside a transaction that is always rolled back, read how the server prints
them, and where a live expression is printed the same way, spell it as the spec does. Roles that
a desired grant names but the cluster lacks (plain Postgres has no `anon`) count as satisfied:
the grant's SQL is guarded and does nothing there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from reconciler.backends.postgres import queries as q
from reconciler.backends.postgres.ddl import column_def, create_policy, create_trigger, index_item
from reconciler.model.postgres import (Grant, PolicyOn, Table, TableRef, index_text,
                                       normalise_default)

PROBE = "reconciler_probe"


def canonicalise(conn: psycopg.Connection, desired: Sequence[Table], live: Sequence[Table]
                 ) -> tuple[Table, ...]:
    """`live`, with expressions the server finds equal to the desired ones spelled as desired,
    and grants to absent roles taken as given. Never writes: every probe is rolled back."""
    roles = {g.role for t in desired for g in t.grants}
    present = {r for (r,) in conn.execute(q.ROLES, [sorted(roles)])} if roles else set()
    out = []
    for table in live:
        want = _peer(table, desired)
        if want is not None:
            table = translate(table, want, probe(conn, want))
            table = _absent_roles(table, want, present)
        out.append(table)
    return tuple(out)


def _peer(live: Table, desired: Sequence[Table]) -> Table | None:
    for names in (lambda t: (t.name,), lambda t: t.renamed_from):
        found = next((t for t in desired if t.schema_name == live.schema_name
                      and live.name in names(t)), None)
        if found is not None:
            return found
    return None


def probe(conn: psycopg.Connection, want: Table) -> dict[str, Any]:
    """How the server prints `want`'s expressions: `{"defaults": {column: text}, "checks":
    {printed: desired}, "policies": {name: (using, with_check)}, "indexes": {name: (columns,
    where)}}`; empty parts when the scratch table cannot be made (e.g. a missing type)."""
    forms: dict[str, Any] = {"defaults": {}, "checks": {}, "policies": {}, "indexes": {},
                             "triggers": {}}
    target = sql.Identifier(PROBE)
    try:
        with conn.transaction() as tx:
            conn.execute(sql.SQL("CREATE TEMPORARY TABLE {} ({})").format(
                target, sql.SQL(", ").join(column_def(c) for c in want.columns)))
            _try_each(conn, want, target)
            oid = f"pg_temp.{PROBE}"
            forms["defaults"] = dict(conn.execute(q.PROBE_DEFAULTS, [oid]).fetchall())
            names = {c.name: c.expression for c in want.checks}
            forms["checks"] = {expr: names[name] for name, expr in
                               conn.execute(q.PROBE_CHECKS, [oid]) if name in names}
            forms["policies"] = {n: (u, w) for n, u, w in conn.execute(q.PROBE_POLICIES, [oid])}
            forms["indexes"] = {n: (index_items(cols, suffixes), where) for n, cols, where,
                                suffixes in conn.execute(q.PROBE_INDEXES, [oid])}
            forms["triggers"] = {n: m.group("when") for n, d in conn.execute(
                q.PROBE_TRIGGERS, [oid]) if (m := q.TRIGGER_WHEN.search(d))}
            raise psycopg.Rollback(tx)
    except (psycopg.Error, ValueError):
        pass
    return forms


def _try_each(conn: psycopg.Connection, want: Table, target: sql.Identifier) -> None:
    """Add each check, policy and index to the probe, skipping any the server refuses."""

    statements = [sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}) NOT VALID").format(
        target, sql.Identifier(c.name), sql.SQL(c.expression)) for c in want.checks]
    statements += [create_policy(PolicyOn(schema_name="pg_temp", table=PROBE, policy=p))
                   for p in want.policies]
    for i in want.indexes:
        cols = sql.SQL(", ").join(index_item(c) for c in i.columns)
        stmt = sql.SQL("CREATE INDEX {} ON {} USING {} ({})").format(
            sql.Identifier(i.name), target, sql.SQL(i.method), cols)
        if i.where:
            stmt = sql.SQL("{} WHERE {}").format(stmt, sql.SQL(i.where))
        statements.append(stmt)
    probe_table = TableRef(schema_name="pg_temp", table=PROBE)
    statements += [create_trigger(probe_table, t.model_copy(update={"enabled": True}))[0]
                   for t in want.triggers if t.when]
    for stmt in statements:
        try:
            with conn.transaction():
                conn.execute(stmt)
        except psycopg.Error:
            continue


def index_items(printed: Sequence[str], suffixes: Sequence[str]) -> tuple[str, ...]:
    """An index's items as the spec spells them (`model.postgres.index_text`), from each key
    column as `pg_get_indexdef(oid, k)` prints it and what it leaves out (`q.INDEX_SUFFIXES`:
    collation, operator class, order)."""
    return tuple(index_text(printed_item(text), suffix or "")
                 for text, suffix in zip(printed, suffixes))


def printed_item(text: str) -> str:
    """A printed index column: a plain name as is, a quoted name unquoted, an expression in
    parentheses (the spelling the spec uses)."""
    if text.startswith('"') and text.endswith('"') and '"' not in text[1:-1].replace('""', ""):
        return text[1:-1].replace('""', '"')
    if text.replace("_", "a").isalnum() and not text[0].isdigit():
        return text
    return f"({text})"


def translate(live: Table, want: Table, forms: dict[str, Any]) -> Table:
    """`live` with each expression that prints like a desired one replaced by the desired text."""
    columns = []
    for col in live.columns:
        peer = next((c for c in want.columns if col.name in (c.name, *c.renamed_from)), None)
        printed = normalise_default(forms["defaults"].get(peer.name)) if peer else None
        if peer is not None and col.default is not None and col.default == printed:
            col = col.model_copy(update={"default": peer.default})
        columns.append(col)
    checks = tuple(c.model_copy(update={"expression": forms["checks"].get(c.expression,
                                                                          c.expression)})
                   for c in live.checks)
    wanted = {t.name: t for t in want.triggers}
    triggers = tuple(
        t.model_copy(update={"when": wanted[t.name].when})
        if t.name in wanted and t.when is not None and forms["triggers"].get(t.name) == t.when
        else t for t in live.triggers)
    return live.model_copy(update={"columns": tuple(columns), "checks": checks,
                                   "policies": _policies(live, want, forms),
                                   "indexes": _indexes(live, want, forms),
                                   "triggers": triggers})


def _policies(live: Table, want: Table, forms: dict[str, Any]) -> tuple:
    desired = {p.name: p for p in want.policies}
    out = []
    for p in live.policies:
        peer, printed = desired.get(p.name), forms["policies"].get(p.name)
        if peer is not None and printed == (p.using, p.with_check):
            p = p.model_copy(update={"using": peer.using, "with_check": peer.with_check})
        out.append(p)
    return tuple(out)


def _indexes(live: Table, want: Table, forms: dict[str, Any]) -> tuple:
    printed = {forms["indexes"][i.name]: i for i in want.indexes if i.name in forms["indexes"]}
    out = []
    for i in live.indexes:
        peer = printed.get((i.columns, i.where))
        if peer is not None:
            i = i.model_copy(update={"columns": peer.columns, "where": peer.where})
        out.append(i)
    return tuple(out)


def _absent_roles(live: Table, want: Table, present: set[str]) -> Table:
    have = {g.role for g in live.grants}
    extra = [g for g in want.grants if g.role not in present and g.role != "public"
             and g.role not in have]
    if not extra:
        return live
    grants = tuple(sorted(live.grants + tuple(Grant(role=g.role, privileges=g.privileges)
                                              for g in extra), key=lambda g: g.role))
    return live.model_copy(update={"grants": grants})
