"""Indexes with an operator class, collation or order (pg_trgm's `gin_trgm_ops`, Supabase's
usual text search): declared either way, read back as declared (a second plan is empty), and
never in the way of the dev database's copy of the live schema."""

from __future__ import annotations

import psycopg
import pytest

from reconciler.errors import PlanError
from tests.databases import embedded_server_folder, fresh_database
from tests.postgres.projects import apply, make_project, plan

pytestmark = pytest.mark.postgres

ITEMS = """\
columns:
  id: {type: bigint, identity: always, primary_key: true}
  title: {type: text}
  name: {type: text}
indexes:
  - {columns: ["title gin_trgm_ops"], method: gin}
  - {columns: ["(name) gin_trgm_ops"], method: gin, name: items_name_trgm}
  - {columns: ["(lower(name)) gist_trgm_ops"], method: gist}
  - {columns: ["title DESC NULLS LAST", "name COLLATE \\"C\\""], name: items_order}
"""


@pytest.fixture
def target(server_url: str):
    """A database of its own (extensions are per database) with pg_trgm, as on Supabase."""
    with psycopg.connect(server_url) as conn:
        if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
                            ).fetchone():
            pytest.skip("the server does not offer pg_trgm")
    with fresh_database(server_url) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_trgm")
        yield url


@pytest.fixture
def folder():
    """Where the project lives: a folder an embedded dev database can live in."""
    with embedded_server_folder("reconciler-trgm-") as path:
        yield path


@pytest.fixture(params=["embedded", "with pg_trgm"])
def dev_env(request, server_url: str, monkeypatch):
    """The dev database: the embedded one (pgserver's build has no pg_trgm) or the session's
    on the server (which offers it)."""
    if request.param == "embedded":
        monkeypatch.delenv("DEV_DATABASE_URL")
    return {"RECONCILER_TEST_DEV": request.param}


def codes(the_plan) -> list[str]:
    return [d.code for c in the_plan.changes for d in c.lint]


def test_operator_classes_and_orders_are_read_back_as_declared(folder, target, dev_env):
    root = make_project(folder / "p", {"schemas/supabase/items.yaml": ITEMS})
    first = apply(root, target, **dev_env)
    assert "DV102" not in codes(first)
    # a dev database that offers pg_trgm checks the trigram indexes too; the embedded one notes
    assert ("DV103" in codes(first)) == (dev_env["RECONCILER_TEST_DEV"] == "embedded")
    with psycopg.connect(target) as conn:
        defs = {n: d for n, d in conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'items'")}
    assert "USING gin (title gin_trgm_ops)" in defs["items_title_gin_trgm_ops_idx"]
    assert "USING gin (name gin_trgm_ops)" in defs["items_name_trgm"]
    assert "(title DESC NULLS LAST, name COLLATE \"C\")" in \
        defs["items_order"]
    again = plan(root, target, **dev_env)
    assert not again.has_changes, [c.address for c in again.changes]


def test_a_dashboard_trigram_index_does_not_stop_the_migration_check(folder, target, dev_env):
    """QA: with such an index live, every plan got only DV102 and nothing was checked."""
    root = make_project(folder / "p", {"schemas/supabase/items.yaml": ITEMS.split(
        "indexes:")[0]})
    apply(root, target, **dev_env)
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE INDEX dash_trgm ON items USING gin (name gin_trgm_ops)")
    spec = root / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text() + "  n: {type: bigint, default_sql: \"nextval('nope')\"}\n")
    with pytest.raises(PlanError) as info:
        plan(root, target, **dev_env)
    message = str(info.value)
    assert message.startswith("schemas/supabase/items.yaml:5:"), message
    assert "DV101" in message and '"nope" does not exist' in message


def test_a_trigram_index_the_dev_database_cannot_build_is_noted(folder, target, monkeypatch):
    """The embedded dev database cannot create pg_trgm: the index is left out with DV103 and
    the rest is still checked."""
    monkeypatch.delenv("DEV_DATABASE_URL")
    root = make_project(folder / "p", {"schemas/supabase/items.yaml": ITEMS.split(
        "indexes:")[0]})
    apply(root, target)
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE INDEX dash_trgm ON items USING gin (name gin_trgm_ops)")
    spec = root / "schemas/supabase/items.yaml"
    spec.write_text(spec.read_text() + "indexes:\n  - {columns: [name gin_trgm_ops], method: gin,"
                    " name: dash_trgm}\n  - {columns: [title gin_trgm_ops], method: gin}\n"
                    "  - columns: [title]\n")
    planned = plan(root, target)
    notes = [d.message for c in planned.changes for d in c.lint if d.code == "DV103"]
    assert "DV102" not in codes(planned)
    assert any("dash_trgm" in n for n in notes) and any("title gin_trgm_ops" in n
                                                        for n in notes), notes
    assert [c.kind for c in planned.changes] == ["add_index", "add_index"]


def test_a_misspelt_operator_class_is_refused_where_the_dev_database_has_the_extension(
        folder, target):
    """The session's dev database offers pg_trgm: it is created there, so a wrong operator
    class is a DV101 at the spec line, not a note."""
    root = make_project(folder / "p", {"schemas/supabase/items.yaml": ITEMS.split(
        "indexes:")[0] + "indexes:\n  - {columns: [title gin_trgm_opz], method: gin}\n"})
    with pytest.raises(PlanError, match=r'items.yaml:6:5: .*DV101 .*"gin_trgm_opz" does not '
                                        r"exist"):
        plan(root, target)
