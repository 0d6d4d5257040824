"""The plan file: deterministic bytes, faithful round trip, refusal of edited files and of
foreign format and tool versions."""

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
    assert differing[1:] == [("  created_at: '2026-01-01T00:00:00Z'", "  created_at: '2026-02-02T00:00:00Z'")]
    assert differing[0][0].startswith("digest: sha256:")  # the digest covers the time too


def test_round_trip_keeps_every_change(tmp_path):
    plan = _plan(datetime(2026, 1, 1, tzinfo=timezone.utc))
    path = tmp_path / "plans" / "x.yaml"
    planfile.save(plan, path)
    assert planfile.load(path) == plan
    assert [c.kind for c in plan.changes] == ["add_property", "drop_property", "add_property"]
    assert {r.path for c in plan.changes for r in c.requests} == {"/v1/data_sources/ds1"}


def test_document_has_summary_and_format_version():
    doc = planfile.to_document(_plan(datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert doc["format_version"] == 5
    assert doc["summary"] == {"create": 2, "update": 0, "rename": 0, "delete": 1, "archive": 0,
                              "manual": 0}
    assert all({"address", "action"} <= set(c) for c in doc["changes"])


@pytest.mark.parametrize(("text", "phrase"), [
    ("format_version: 99\nheader: {}\n", "format_version 99 is not supported"),
    ("just: text\n", "not a reconciler plan file"),
    ("format_version: 5\nheader: {tool_version: x}\n", "invalid plan file"),
    ("format_version: 3\nheader: {}\n", "format_version 3 is not supported"),
    ("{unclosed: [\n", "not a valid plan file"),
])
def test_foreign_or_broken_files_are_refused(tmp_path, text, phrase):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PlanFileError, match=phrase):
        planfile.load(path)


@pytest.mark.parametrize(("before", "after"), [
    ("name: Status", "name: Statut"),                      # a property's name
    ("type: number", "type: rich_text"),                    # a property's type
    ("spec_hash: sha256:cd", "spec_hash: sha256:ce"),       # the header
    ("action: delete", "action: delete\n  rows_affected: 0"),  # a field added
])
def test_a_hand_edited_plan_is_refused(tmp_path, before, after):
    path = tmp_path / "x.yaml"
    planfile.save(_plan(datetime(2026, 1, 1, tzinfo=timezone.utc)), path)
    text = path.read_text()
    assert before in text
    path.write_text(text.replace(before, after, 1))
    with pytest.raises(PlanFileError, match="was edited after reconciler wrote it"):
        planfile.load(path)


def test_a_plan_without_a_digest_is_refused(tmp_path):
    path = tmp_path / "x.yaml"
    planfile.save(_plan(datetime(2026, 1, 1, tzinfo=timezone.utc)), path)
    path.write_text("\n".join(line for line in path.read_text().splitlines()
                              if not line.startswith("digest:")))
    with pytest.raises(PlanFileError, match="has no digest"):
        planfile.load(path)


def test_a_plan_of_another_tool_version_shows_but_does_not_apply(tmp_path):
    plan = _plan(datetime(2026, 1, 1, tzinfo=timezone.utc))
    other = plan.model_copy(update={"header": plan.header.model_copy(
        update={"tool_version": "0.0.1"})})
    path = tmp_path / "x.yaml"
    planfile.save(other, path)  # written (and digested) as that version would have
    assert planfile.load(path) == other
    with pytest.raises(PlanFileError, match="made by reconciler 0.0.1 and this is reconciler"):
        planfile.load_for_apply(path)
    planfile.save(plan, path)
    assert planfile.load_for_apply(path) == plan
