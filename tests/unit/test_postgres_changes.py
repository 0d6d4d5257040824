"""The Postgres change vocabulary beyond tables: every kind diffs, compiles (pure) and
round-trips through the plan file with its lint findings."""

from __future__ import annotations

from reconciler.backends.base import Diff, Live
from reconciler.backends.postgres.compile import statements
from reconciler.diff.postgres import diff_tables
from reconciler.diff.postgres_objects import diff_objects
from reconciler.model.changes import Diagnostic
from reconciler.model.postgres import Column, Grant, Index, Table, Trigger
from reconciler.model.postgres_objects import (DefaultPrivilege, EnumType, Extension, Function,
                                               SchemaObjects, Sequence, View)
from reconciler.plan import planfile
from reconciler.plan.build import build_plan

ENTRIES = Table(name="entries", primary_key=("id",), rls=True, force_rls=True, realtime=True,
                columns=(Column(name="id", type="bigserial", nullable=False),
                         Column(name="n", type="bigint", nullable=False, identity="always"),
                         Column(name="mood", type="mood")),
                indexes=(Index(name="entries_mood_idx", columns=("mood",), concurrently=True),),
                triggers=(Trigger(name="t", function="public.f", events=("insert", "update"),
                                  when="NEW.mood IS NULL", enabled=False),))
OBJECTS = SchemaObjects(
    enums=(EnumType(name="mood", values=("happy", "meh", "blue"),
                    renamed_values=(("sad", "blue"),)),),
    extensions=(Extension(name="pg_trgm", schema_name="extensions"),),
    sequences=(Sequence(name="tickets", type="integer", start=100, max_value=2147483647),),
    views=(View(name="v", definition="SELECT 1 AS one", security_invoker=True, comment="c"),),
    functions=(Function(name="f", returns="trigger", language="plpgsql",
                        body="BEGIN RETURN NEW; END", search_path=""),),
    default_privileges=(DefaultPrivilege(on="functions", grant=Grant(role="anon",
                                                                     privileges=("execute",))),))
LIVE = SchemaObjects(
    enums=(EnumType(name="mood", values=("happy", "sad")),),
    sequences=(Sequence(name="tickets", type="integer", start=100, increment=5,
                        max_value=2147483647),),
    views=(View(name="v", definition="SELECT 2 AS one"),),
    functions=(Function(name="old", returns="int", body="select 1"),))


class Postgres:
    root = "supabase"
    description = "test"

    def diff(self, project, live, *, prune=False):
        return Diff(diff_tables([ENTRIES], live.model) + diff_objects(OBJECTS, LIVE))

    def compile(self, changes, project, live):
        from reconciler.backends.postgres.steps import SqlStep
        return [SqlStep((c.address,), statements(c)) for c in changes]


class Project:
    spec_hash = "sha256:00"


def test_every_kind_diffs_compiles_and_round_trips_through_the_plan_file(tmp_path):
    plan = build_plan(Project(), [Postgres()], {"supabase": Live(())})
    kinds = sorted(c.kind for c in plan.changes)
    assert kinds == ["add_extension", "add_function", "add_index", "add_trigger",
                     "create_table", "drop_function", "modify_default_privileges",
                     "modify_enum", "modify_sequence", "modify_view"]
    assert all(c.sql for c in plan.changes)
    lint = (Diagnostic(code="PG101", message="m", count=3),)
    plan = plan.model_copy(update={"changes": tuple(
        c.model_copy(update={"lint": lint}) for c in plan.changes)})
    path = tmp_path / "p.yaml"
    planfile.save(plan, path)
    assert planfile.load(path) == plan
    text = path.read_text()
    assert "code: PG101" in text and "renamed_values" in text


def test_sql_of_the_new_kinds():
    by_kind = {c.kind: statements(c) for c in
               diff_tables([ENTRIES], []) + diff_objects(OBJECTS, LIVE)}
    assert by_kind["create_table"][0].splitlines()[1:3] == [
        '  "id" bigserial,', '  "n" bigint GENERATED ALWAYS AS IDENTITY,']
    assert 'ALTER TABLE "public"."entries" FORCE ROW LEVEL SECURITY;' in by_kind["create_table"]
    assert by_kind["create_table"][-1] == \
        'ALTER PUBLICATION "supabase_realtime" ADD TABLE "public"."entries";'
    assert by_kind["add_index"] == (
        'DROP INDEX CONCURRENTLY IF EXISTS "public"."entries_mood_idx";',
        'CREATE INDEX CONCURRENTLY "entries_mood_idx" ON "public"."entries" USING btree '
        '("mood");')
    assert by_kind["add_trigger"] == (
        'CREATE TRIGGER "t" BEFORE INSERT OR UPDATE ON "public"."entries" FOR EACH ROW WHEN '
        '(NEW.mood IS NULL) EXECUTE FUNCTION "public"."f"();',
        'ALTER TABLE "public"."entries" DISABLE TRIGGER "t";')
    assert by_kind["add_function"] == (
        'CREATE FUNCTION "public"."f"() RETURNS trigger LANGUAGE plpgsql VOLATILE SET '
        "search_path = '' AS $body$BEGIN RETURN NEW; END$body$;",)
    assert by_kind["modify_view"][0] == 'DROP VIEW IF EXISTS "public"."v";'
    assert by_kind["modify_default_privileges"] == (
        "DO $reconciler$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'postgres') "
        "AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN ALTER DEFAULT "
        'PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT EXECUTE ON FUNCTIONS TO '
        '"anon"; END IF; END $reconciler$;',)
