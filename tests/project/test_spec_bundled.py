"""The bundled example project (seeds 001, 003 and 004) loads and resolves."""

from __future__ import annotations

from pathlib import Path

from reconciler.model.notion import stable_color
from reconciler.project import Project, load_project


SEED_003_004 = ["CLI Sessions", "Drift Board", "File Catalog", "LUKHAS Modules",
                "SecondBrain Tasks", "Slack Conversations", "Task Tracking", "Tech-Debt"]
#: Seed 001's 16 Notion databases, each mirrored by one bundled Supabase table.
SEED_001 = ["Business Entities Registry", "Contacts & Profiles", "Community Hub",
            "Products & Services", "Workflow Instances", "Marketing Campaigns",
            "Feedback & Surveys", "Rewards & Bounties", "Master Tasks Database",
            "Agent Communication Patterns", "Agent Registry", "API Integrations Catalog",
            "Data Transformations Registry", "Notifications Templates", "Use Cases Library",
            "Workflows Library"]


def test_bundled_workspace_has_the_seed_databases(bundled_project: Project):
    ws = bundled_project
    titles = [d.title for d in ws.notion.databases]
    assert len(titles) == 27 and sorted(titles) == sorted(
        SEED_003_004 + SEED_001 + ["Learning Points", "Learning Log", "Learning Days"])
    assert {v.name for v in ws.vocabularies} == {"agents", "features", "log_tags", "priority", "tags"}
    assert ws.config.notion.parent_page_id is None and ws.config.notion.rate_limit == 3


def test_lukhas_modules_has_exactly_the_seed_properties(bundled_project: Project):
    db = bundled_project.notion.database("lukhas_modules")
    assert [(p.name, p.type) for p in db.properties] == [
        ("Module", "title"), ("Description", "rich_text"), ("Features", "multi_select"),
        ("APIs", "rich_text"), ("SLA p95", "number"), ("Coverage", "number"),
        ("Provenance SHA", "rich_text"), ("Updated At", "date"), ("Tags", "multi_select")]
    assert db.property("Coverage").number_format == "percent"


def test_vocabulary_is_expanded_with_stable_colours(bundled_project: Project):
    ws = bundled_project
    features = ws.notion.database("lukhas_modules").property("Features")
    assert features.vocabulary == "features" and features.options_mode == "additive"
    names = [o.name for o in features.options]
    assert "memory.fold" in names and "consciousness.theory" in names
    assert all(o.color == stable_color(o.name) for o in features.options)
    tags = {o.name: o.color for o in ws.notion.database("lukhas_modules").property("Tags").options}
    assert tags["security.critical"] == "red"  # a declared colour wins
    agents = ws.notion.database("task_tracking").property("Assigned Agent")
    assert agents.options_mode == "exact"  # closed vocabulary


def test_two_way_relations_add_synced_properties(bundled_project: Project):
    ws = bundled_project
    back = ws.notion.database("file_catalog").property("Drift Reports")
    assert back.type == "relation" and back.synced_from == 'notion.drift_board.property["File"]'
    assert back.relation.database == "drift_board" and back.relation.synced_property == "File"
    blocks = ws.notion.database("task_tracking").property("Blocks")  # two-way self-relation
    assert blocks.synced_from == 'notion.task_tracking.property["Dependencies"]'
    assert ws.notion.database("task_tracking").property("Dependencies").synced_from is None


def test_rollup_formula_and_one_way_self_relation(bundled_project: Project):
    ws = bundled_project
    rollup = ws.notion.database("task_tracking").property("Dependency Count").rollup
    assert (rollup.relation_property, rollup.rollup_property, rollup.function) == \
        ("Dependencies", "Task ID", "count")
    assert "Severity" in ws.notion.database("tech_debt").property("Needs Attention").formula
    prev = ws.notion.database("cli_sessions").property("Previous Session").relation
    assert prev.database == "cli_sessions" and not prev.two_way


def test_spec_hash_is_stable_and_follows_the_files(bundled: Path):
    first, second = load_project(bundled, env={}), load_project(bundled, env={})
    assert first.spec_hash == second.spec_hash and first.spec_hash.startswith("sha256:")
    # reconciler.yaml, 27 databases, 5 vocabularies
    assert len([f for f in first.files if "supabase" not in f.parts]) == 33
    path = bundled / "schemas" / "notion" / "tech_debt.yaml"
    path.write_text(path.read_text() + "  Notes: {type: rich_text}\n")
    changed = load_project(bundled, env={})
    assert changed.spec_hash != first.spec_hash
    assert changed.notion.database("tech_debt").property("Notes") is not None


def test_every_bundled_file_starts_with_its_schema_comment(repo: Path):
    files = [repo / "reconciler.yaml", *sorted((repo / "schemas").rglob("*.yaml"))]
    for path in files:
        assert path.read_text().startswith("# yaml-language-server: $schema="), path
