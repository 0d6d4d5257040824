"""Fixtures for tests against a real PostgreSQL.

One fresh database per test session (`reconciler_test_<hex>`) on `DATABASE_URL` when it is set,
else on an embedded server (`pgserver`) in a temporary directory; dropped at the end. Each test
gets its own schema, so tests never see each other's tables. Supabase's roles (`anon`,
`authenticated`, `service_role`) are created when missing; roles are cluster-wide, so they are
never dropped.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from reconciler.backends.postgres.compile import statements
from reconciler.backends.postgres.executor import run_statements
from reconciler.backends.postgres.steps import SqlStep
from reconciler.backends.postgres.reader import count_rows_at_risk, read_tables
from reconciler.diff.postgres import diff_tables
from reconciler.model.postgres import Column, Table
from reconciler.model.changes import ChangeBase as Change
from tests.databases import fresh_database

@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database for this session, with the Supabase roles present."""
    with fresh_database(server_url) as url:
        yield url


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as connection:
        yield connection


@pytest.fixture
def schema(conn: psycopg.Connection) -> str:
    """A schema of its own for this test (created empty)."""
    name = f"t_{secrets.token_hex(4)}"
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    conn.commit()
    return name


@pytest.fixture
def make_table(schema: str):
    """`make_table("tasks", Column(...), ..., **fields)`: a Table in this test's schema, with
    `id uuid` primary key first unless columns are given as (name, type) pairs."""
    def make(name: str, *columns: Column | tuple[str, str], **fields) -> Table:
        cols = [c if isinstance(c, Column) else Column(name=c[0], type=c[1]) for c in columns]
        fields.setdefault("primary_key", ("id",))
        if "id" in fields["primary_key"] and not any(c.name == "id" for c in cols):
            cols.insert(0, Column(name="id", type="uuid", nullable=False,
                                  default="gen_random_uuid()"))
        return Table(schema_name=schema, name=name, columns=tuple(cols), **fields)
    return make


def plan(conn: psycopg.Connection, desired: Sequence[Table]) -> list[Change]:
    """read → diff → rows at risk → compiled SQL, like `reconciler plan` does for Postgres."""
    live, _ = read_tables(conn, desired)
    changes = count_rows_at_risk(conn, diff_tables(desired, live))
    return [c.model_copy(update={"sql": statements(c)}) for c in changes]


def apply_changes(conn: psycopg.Connection, changes: Sequence[Change]) -> None:
    """compile → run, like `reconciler apply` does for Postgres schema changes."""
    run_statements(conn, [SqlStep((c.address,), statements(c)) for c in changes])


def converge(conn: psycopg.Connection, desired: Sequence[Table]) -> list[Change]:
    """Plan and apply; returns the applied changes."""
    changes = plan(conn, desired)
    apply_changes(conn, changes)
    return changes


def kinds(changes: Sequence[Change]) -> list[tuple[str, str]]:
    return [(c.kind, c.address) for c in changes]


REPO = Path(__file__).resolve().parents[2]
