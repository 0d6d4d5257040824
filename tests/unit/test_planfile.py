"""The plan file: deterministic bytes, faithful round trip, refusal of foreign versions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from reconciler.backends.base import Diff, Live
from reconciler.backends.notion.compile import CompileContext, compile_changes
from reconciler.diff.notion import diff_notion
from reconciler.errors import PlanFileError
from reconciler.model.notion import NotionDatabases
from reconciler.plan import planfile
from reconciler.plan.build import build_plan
from tests.conftest import make_database, make_property

DESIRED = NotionDatabases(databases=(
    make_database("tasks", make_property("Status", "select", options=["Todo", "Done"]),
                  make_property("Estimate", "number", number_format="dollar")),
))
LIVE = NotionDatabases(databases=(
    make_database("tasks", make_property("Old", "checkbox", id="o"), id="db1",
                  data_source_id="ds1"),
))


class Notion:
    """The Notion backend's pure half over fixed models: the real diff and compile."""

    root = "notion"
    description = "local Notion"

    def diff(self, project, live, *, prune=False):
        return Diff(diff_notion(project.notion, live.model))

    def compile(self, changes, project, live):
        return compile_changes(changes, CompileContext(project.notion, live.model))


class Project:
    notion = DESIRED
    spec_hash = "sha256:cd"


def _plan(now: datetime):
    live = Live(LIVE, fingerprints={"notion.tasks": "sha256:ab"})
    return build_plan(Project(), [Notion()], {"notion": live}, now=now)


def test_two_plans_of_one_state_differ_only_in_the_header_time():
    a = planfile.dumps(_plan(datetime(2026, 1, 1, tzinfo=timezone.utc))).splitlines()
    b = planfile.dumps(_plan(datetime(2026, 2, 2, tzinfo=timezone.utc))).splitlines()
    differing = [(x, y) for x, y in zip(a, b) if x != y]
    assert len(a) == len(b)
    assert differing == [("  created_at: '2026-01-01T00:00:00Z'", "  created_at: '2026-02-02T00:00:00Z'")]


def test_round_trip_keeps_every_change(tmp_path):
    plan = _plan(datetime(2026, 1, 1, tzinfo=timezone.utc))
    path = tmp_path / "plans" / "x.yaml"
    planfile.save(plan, path)
    assert planfile.load(path) == plan
    assert [c.kind for c in plan.changes] == ["add_property", "drop_property", "add_property"]
    assert {r.path for c in plan.changes for r in c.requests} == {"/v1/data_sources/ds1"}


def test_document_has_summary_and_format_version():
    doc = planfile.to_document(_plan(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert doc["format_version"] == 2
    assert doc["summary"] == {"create": 2, "update": 0, "rename": 0, "delete": 1, "archive": 0,
                              "manual": 0}
    assert all({"address", "action"} <= set(c) for c in doc["changes"])


@pytest.mark.parametrize(("text", "phrase"), [
    ("format_version: 99\nheader: {}\n", "format_version 99 is not supported"),
    ("just: text\n", "not a reconciler plan file"),
    ("format_version: 2\nheader: {tool_version: x}\n", "invalid plan file"),
    ("{unclosed: [\n", "not a valid plan file"),
])
def test_foreign_or_broken_files_are_refused(tmp_path, text, phrase):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PlanFileError, match=phrase):
        planfile.load(path)
