"""The Supabase loader quotes defaults and enum checks without importing psycopg (start-up,
issue 15 point 1), exactly as psycopg's `sql.Literal` / `sql.Identifier` would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg import sql

from reconciler.project.supabase_checks import sql_identifier, sql_literal


@given(st.text())
def test_literals_are_what_psycopg_writes(text):
    if "\x00" in text:
        with pytest.raises(Exception):
            sql.Literal(text).as_string(None)
        return
    assert sql_literal(text) == sql.Literal(text).as_string(None)


@given(st.text().filter(lambda t: "\x00" not in t))
def test_identifiers_are_what_psycopg_writes(name):
    assert sql_identifier(name) == sql.Identifier(name).as_string(None)


@pytest.mark.parametrize("text", ["it's", "back\\slash", "é ✓", "two\nlines", "", "''"])
def test_the_usual_suspects(text):
    assert sql_literal(text) == sql.Literal(text).as_string(None)
