"""Let the server normalise view queries and function signatures, as `canonical.py` does for
table expressions: the desired view is created as a temporary view and the desired function in
`pg_temp` (with `check_function_bodies` off, so the body is not run against tables that may not
exist yet), inside a transaction that is always rolled back; where the server prints the live
object the same way, the live object is spelled as the spec spells it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from reconciler.backends.postgres import queries_objects as q
from reconciler.backends.postgres.compile_objects import create_function, create_view
from reconciler.model.postgres_objects import Function, SchemaObjects, View

PROBE = "reconciler_probe"


def canonicalise_objects(conn: psycopg.Connection, desired: SchemaObjects,
                         live: SchemaObjects) -> SchemaObjects:
    """`live` with view queries and function signatures the server prints like the desired ones
    spelled as desired. Never writes: every probe is rolled back."""
    views = {(v.schema_name, v.name): v for v in desired.views}
    functions = {(f.schema_name, f.name): f for f in desired.functions}
    return live.model_copy(update={
        "views": tuple(_translate(conn, v, views.get((v.schema_name, v.name)), _view_form)
                       for v in live.views),
        "functions": tuple(_translate(conn, f, functions.get((f.schema_name, f.name)),
                                      _function_form) for f in live.functions),
    })


def _translate(conn: psycopg.Connection, have: Any, want: Any,
               form: Callable[[psycopg.Connection, Any], dict[str, Any] | None]) -> Any:
    """`have` with the fields the server prints alike taken from `want`."""
    if want is None:
        return have
    printed = _probe(conn, lambda: form(conn, want))
    if not printed:
        return have
    same = {k: getattr(want, k) for k, v in printed.items() if getattr(have, k) == v}
    return have.model_copy(update=same)


def _probe(conn: psycopg.Connection, run: Callable[[], dict[str, Any] | None]
           ) -> dict[str, Any] | None:
    try:
        with conn.transaction() as tx:
            result = run()
            raise psycopg.Rollback(tx)
    except (psycopg.Error, ValueError):
        return None
    return result


def _view_form(conn: psycopg.Connection, want: View) -> dict[str, Any] | None:
    temp = want.model_copy(update={"schema_name": "pg_temp", "name": PROBE, "comment": None})
    for stmt in create_view(temp):
        conn.execute(stmt)
    row = conn.execute(sql.SQL("SELECT pg_catalog.pg_get_viewdef({}::regclass, true)").format(
        sql.Literal(f"pg_temp.{PROBE}"))).fetchone()
    return {"definition": row[0]} if row else None


def _function_form(conn: psycopg.Connection, want: Function) -> dict[str, Any] | None:
    conn.execute("SET LOCAL check_function_bodies = off")
    temp = want.model_copy(update={"schema_name": "pg_temp", "name": PROBE, "comment": None})
    for stmt in create_function(temp):
        conn.execute(stmt)
    row = conn.execute(q.PROBE_FUNCTION, [PROBE]).fetchone()
    return {"arguments": row[0], "returns": row[1], "identity": row[2]} if row else None
