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
    and grants to absent roles taken as given. Never writes: every probe is rolled back.

    Costs seven round trips per 25 tables (`probe_all`; a plan against a hosted database 50 ms
    away used to spend about 20 round trips per declared table here), and none when every
    expression is already spelled as declared (`_unsettled`)."""
    roles = {g.role for t in desired for g in t.grants}
    present = {r for (r,) in conn.execute(q.ROLES, [sorted(roles)])} if roles else set()
    pairs = [(table, want, _unsettled(table, want) if want is not None else None)
             for table in live for want in (_peer(table, desired),)]
    forms = probe_all(conn, [asked for _, _, asked in pairs if asked is not None])
    out = []
    for table, want, asked in pairs:
        if want is not None:
            if asked is not None:
                table = translate(table, want, forms[id(asked)])
            table = _absent_roles(table, want, present)
        out.append(table)
    return tuple(out)


def _unsettled(live: Table, want: Table) -> Table | None:
    """`want` with only the expressions the server must print for the diff to compare them:
    the checks, indexes, policies and trigger conditions that `live` does not already spell as
    the spec does (those it does need no translation); None when there are none and every live
    column default is spelled as declared, so the table needs no probe at all. Every probe
    statement is DDL on the live database (rolled back): a converged table with plain indexes
    costs none."""
    checks = {c.expression for c in live.checks}
    indexes = {(i.columns, i.where) for i in live.indexes}
    policies = {p.name: (p.using, p.with_check) for p in live.policies}
    whens = {t.name: t.when for t in live.triggers}
    asked = want.model_copy(update={
        "checks": tuple(c for c in want.checks if c.expression not in checks),
        "indexes": tuple(i for i in want.indexes if (i.columns, i.where) not in indexes),
        "policies": tuple(p for p in want.policies if p.name in policies
                          and policies[p.name] != (p.using, p.with_check)),
        "triggers": tuple(t for t in want.triggers if t.when and t.name in whens
                          and whens[t.name] != t.when)})
    defaults = {c.name: c.default for c in live.columns}
    differ = any(c.default is not None and defaults.get(name) is not None
                 and defaults[name] != c.default
                 for c in want.columns for name in (c.name, *c.renamed_from))
    if not (differ or asked.checks or asked.indexes or asked.policies or asked.triggers):
        return None
    return asked


def _peer(live: Table, desired: Sequence[Table]) -> Table | None:
    for names in (lambda t: (t.name,), lambda t: t.renamed_from):
        found = next((t for t in desired if t.schema_name == live.schema_name
                      and live.name in names(t)), None)
        if found is not None:
            return found
    return None


def _empty_forms() -> dict[str, Any]:
    return {"defaults": {}, "checks": {}, "policies": {}, "indexes": {}, "triggers": {}}


#: Tables probed in one transaction: each holds about eight locks (its table, toast table and
#: indexes) until the transaction ends, and each statement is a subtransaction (PostgreSQL
#: caches 64 per backend before it slows down), so a schema of hundreds of tables goes in
#: batches.
PROBE_BATCH = 25


def probe_all(conn: psycopg.Connection, wanted: Sequence[Table]) -> dict[int, dict[str, Any]]:
    """How the server prints each table's expressions, by `id(table)`: `{"defaults": {column:
    text}, "checks": {printed: desired}, "policies": {name: (using, with_check)}, "indexes":
    {name: (columns, where)}, "triggers": {name: when}}`.

    `PROBE_BATCH` tables at a time, in one transaction that is always rolled back: one `DO` block
    makes a scratch temporary table `reconciler_probe_<n>` per table and adds its defaults,
    checks, policies, indexes and triggers, each statement in its own subtransaction so that one
    the server refuses (a missing type, function or role) leaves out only itself; five catalog
    queries then read every probe table of the batch at once. A table whose scratch copy cannot
    be made (or whose text psycopg cannot send, e.g. a NUL) gets empty parts."""
    forms: dict[int, dict[str, Any]] = {}
    for first in range(0, len(wanted), PROBE_BATCH):
        forms.update(_probe_batch(conn, wanted[first:first + PROBE_BATCH]))
    return forms


def _probe_batch(conn: psycopg.Connection, wanted: Sequence[Table]
                 ) -> dict[int, dict[str, Any]]:
    forms = {id(want): _empty_forms() for want in wanted}
    literals: list[str] = []  # each statement as a quoted SQL string literal
    names: dict[str, Table] = {}  # probe table name -> the table it stands for
    index_names: dict[str, str] = {}  # probe index name -> the declared index name
    for n, want in enumerate(wanted):
        name = f"{PROBE}_{n}"
        try:
            literals += [sql.Literal(s.as_string(conn)).as_string(conn)
                         for s in _statements(want, name, index_names)]
        except (ValueError, psycopg.Error):  # a text psycopg cannot send (e.g. a NUL)
            continue
        names[name] = want
    if not names:
        return forms
    try:
        with conn.transaction() as tx:
            conn.execute(_do(literals))
            made = dict(conn.execute(q.PROBE_TABLES, [list(names)]).fetchall())
            oids = list(made)
            for oid, column, text in conn.execute(q.PROBE_DEFAULTS, [oids]):
                forms[id(names[made[oid]])]["defaults"][column] = text
            for oid, constraint, text in conn.execute(q.PROBE_CHECKS, [oids]):
                want = names[made[oid]]
                declared = {c.name: c.expression for c in want.checks}
                if constraint in declared:
                    forms[id(want)]["checks"][text] = declared[constraint]
            for oid, policy, using, check in conn.execute(q.PROBE_POLICIES, [oids]):
                forms[id(names[made[oid]])]["policies"][policy] = (using, check)
            for oid, index, cols, where, suffixes in conn.execute(q.PROBE_INDEXES, [oids]):
                if index in index_names:
                    forms[id(names[made[oid]])]["indexes"][index_names[index]] = (
                        index_items(cols, suffixes), where)
            for oid, trigger, definition in conn.execute(q.PROBE_TRIGGERS, [oids]):
                if (m := q.TRIGGER_WHEN.search(definition)):
                    forms[id(names[made[oid]])]["triggers"][trigger] = m.group("when")
            raise psycopg.Rollback(tx)
    except (psycopg.Error, ValueError):
        return {id(want): _empty_forms() for want in wanted}
    return forms


def _do(literals: Sequence[str]) -> sql.Composed:
    """A `DO` block running each statement (given as quoted SQL string literals) in its own
    subtransaction (a PL/pgSQL block with an EXCEPTION clause), skipping those that fail: one
    round trip for all of them. Its dollar-quote tag is one that no statement contains (a tag
    inside the body would end it)."""
    array = "ARRAY[" + ", ".join(literals) + "]"
    tag, n = "$probe$", 0
    while tag in array:
        n += 1
        tag = f"$probe{n}$"
    return sql.SQL(
        "DO {tag}\nDECLARE statement text;\nBEGIN\n  FOREACH statement IN ARRAY {array}::text[] "
        "LOOP\n    BEGIN\n      EXECUTE statement;\n    EXCEPTION WHEN OTHERS THEN NULL;\n    "
        "END;\n  END LOOP;\nEND\n{tag}").format(tag=sql.SQL(tag), array=sql.SQL(array))


def _statements(want: Table, name: str, index_names: dict[str, str]) -> list[sql.Composable]:
    """The scratch table `pg_temp.<name>` with `want`'s columns, then each of its checks,
    policies, indexes (named `<name>_<k>`, recorded in `index_names`) and triggers with a WHEN
    condition."""
    table_sql = sql.Identifier(name)
    statements: list[sql.Composable] = [sql.SQL("CREATE TEMPORARY TABLE {} ({})").format(
        table_sql, sql.SQL(", ").join(column_def(c) for c in want.columns))]
    statements += [sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}) NOT VALID").format(
        table_sql, sql.Identifier(c.name), sql.SQL(c.expression)) for c in want.checks]
    statements += [create_policy(PolicyOn(schema_name="pg_temp", table=name, policy=p))
                   for p in want.policies]
    for k, i in enumerate(want.indexes):
        index = f"{name}_{k}"  # index names are per schema: two tables' may be the same
        index_names[index] = i.name
        cols = sql.SQL(", ").join(index_item(c) for c in i.columns)
        stmt = sql.SQL("CREATE INDEX {} ON {} USING {} ({})").format(
            sql.Identifier(index), table_sql, sql.SQL(i.method), cols)
        if i.where:
            stmt = sql.SQL("{} WHERE {}").format(stmt, sql.SQL(i.where))
        statements.append(stmt)
    probe_table = TableRef(schema_name="pg_temp", table=name)
    statements += [create_trigger(probe_table, t.model_copy(update={"enabled": True}))[0]
                   for t in want.triggers if t.when]
    return statements


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
