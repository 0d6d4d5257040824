"""The main job end to end through the CLI and the real notion-client, on the local Notion:
YAML → plan → saved plan → apply → converged databases → clean re-plan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.local import local_client
from tests.applied_example import AppliedExample

runner = CliRunner()


def run(root: Path, *args: str, code: int | None = 0):
    result = runner.invoke(app, [*args, "--dir", str(root)] if args[0] not in ("show",) else list(args),
                           catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


def notion(root: Path):
    return local_client(root / ".reconciler" / "notion")


def data_source(root: Path, key: str) -> dict:
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    return notion(root).data_sources.retrieve(target["databases"][key]["data_source_id"])


@pytest.fixture
def applied(applied_project: Path) -> Path:
    """The bundled example, planned, saved and applied: a private copy of the run's one applied
    example (`tests/conftest.py` `applied_project`), with its own database."""
    return applied_project


def test_fresh_workspace_plans_creates_applies_and_replans_clean(applied_example: AppliedExample,
                                                                 applied_project: Path):
    """The run's one `plan --detailed-exitcode --out` and `apply <plan>` of the fresh example
    (`applied_example`), then a re-plan of a private copy of what they left."""
    root, out, first = applied_project, applied_example.plan, applied_example.planned
    assert first.exit_code == 2, first.output
    assert "+ notion.lukhas_modules" in first.output
    assert "+ supabase.public.business_entities" in first.output
    created = re.search(r"Plan: (\d+) to create, \d+ to update, 0 to rename, 0 to delete, 0 manual",
                        first.output)
    assert created and int(created.group(1)) > 50, first.output
    doc = json.loads(run(root, "show", str(out), "--format", "json").output)
    notion_actions = {c["action"] for c in doc["changes"] if c["address"].startswith("notion.")}
    assert notion_actions == {"create"}
    kinds = [c["kind"] for c in doc["changes"]]
    assert kinds.count("create_database") == len(list((root / "schemas" / "notion").glob("*.yaml")))
    assert kinds.count("create_table") == len(list((root / "schemas" / "supabase").glob("*.yaml")))

    applied = applied_example.applied
    assert applied.exit_code == 0 and "Apply complete!" in applied.output, applied.output
    again = run(root, "plan", "--detailed-exitcode", code=0)
    assert "No changes" in again.output

    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    assert len(ledger) == len(doc["changes"])
    assert {"time", "address", "action", "status"} <= set(ledger[0])
    assert {entry["status"] for entry in ledger} == {"applied"}
    assert len({entry["address"] for entry in ledger}) == len(ledger)


def test_every_declared_property_exists_live_with_its_settings(applied: Path):
    props = data_source(applied, "lukhas_modules")["properties"]
    assert props["Module"]["type"] == "title"
    assert props["Coverage"]["number"]["format"] == "percent"
    features = [o["name"] for o in props["Features"]["multi_select"]["options"]]
    assert "consciousness.theory" in features or len(features) > 3


def test_rename_in_yaml_is_one_rename_and_pages_keep_their_values(applied: Path):
    root = applied
    ds = data_source(root, "lukhas_modules")
    page = notion(root).pages.create(
        parent={"type": "data_source_id", "data_source_id": ds["id"]},
        properties={"Module": {"title": [{"text": {"content": "made-by-hand"}}]},
                    "APIs": {"rich_text": [{"text": {"content": "GET /fold"}}]}})
    spec = root / "schemas" / "notion" / "lukhas_modules.yaml"
    text = spec.read_text()
    assert re.search(r"^  APIs:", text, re.M), "the example declares an APIs property"
    text = re.sub(r"^  APIs:(.*)$", r"  API list:\1", text, count=1, flags=re.M)
    spec.write_text(text.replace("      APIs: apis", "      API list: apis"))
    _add_renamed_from(spec, "API list", "APIs")
    out = root / "plans" / "rename.yaml"
    result = run(root, "plan", "--out", str(out), "--detailed-exitcode", code=2)
    doc = json.loads(run(root, "show", str(out), "--format", "json").output)
    assert [(c["action"], c["address"]) for c in doc["changes"]] == [
        ("rename", 'notion.lukhas_modules.property["API list"]')], result.output
    run(root, "apply", str(out), "--auto-approve")
    values = notion(root).pages.retrieve(page["id"])["properties"]
    assert values["API list"]["rich_text"][0]["plain_text"] == "GET /fold"
    run(root, "plan", "--detailed-exitcode", code=0)


def _add_renamed_from(spec: Path, name: str, old: str) -> None:
    """Turn `  NAME: {…}` or a block mapping into one that also says `renamed_from: [OLD]`."""
    lines = spec.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(f"  {name}:"))
    head, _, rest = lines[i].partition(":")
    rest = rest.strip()
    if rest.startswith("{"):
        lines[i] = f"{head}: {{renamed_from: [{old}], {rest[1:]}"
    else:
        lines.insert(i + 1, f"    renamed_from: [{old}]")
    spec.write_text("\n".join(lines) + "\n")


def test_removing_a_property_is_destructive_and_refused_without_allow_destroy(applied: Path):
    root = applied
    spec = root / "schemas" / "notion" / "lukhas_modules.yaml"
    lines = spec.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  Coverage:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    kept = [line for line in lines[:start] + lines[end:] if line != "      Coverage: coverage"]
    spec.write_text("\n".join(kept) + "\n")
    out = root / "plans" / "drop.yaml"
    run(root, "plan", "--out", str(out), code=0)
    refused = run(root, "apply", str(out), "--auto-approve", code=1)
    assert "destructive" in refused.output and "--allow-destroy" in refused.output
    assert "Traceback" not in refused.output
    assert "Coverage" in data_source(root, "lukhas_modules")["properties"]
    run(root, "apply", str(out), "--auto-approve", "--allow-destroy")
    assert "Coverage" not in data_source(root, "lukhas_modules")["properties"]
    run(root, "plan", "--detailed-exitcode", code=0)


def test_live_change_after_planning_makes_the_saved_plan_stale(applied: Path):
    root = applied
    spec = root / "schemas" / "notion" / "lukhas_modules.yaml"
    spec.write_text(spec.read_text().replace("properties:\n",
                                             "properties:\n  Owner: {type: rich_text}\n", 1))
    out = root / "plans" / "stale.yaml"
    run(root, "plan", "--out", str(out), code=0)
    ds = data_source(root, "lukhas_modules")
    notion(root).data_sources.update(ds["id"], properties={"Sneaky": {"checkbox": {}}})
    refused = run(root, "apply", str(out), "--auto-approve", code=1)
    assert "stale" in refused.output and "notion.lukhas_modules" in refused.output
    assert "Owner" not in data_source(root, "lukhas_modules")["properties"]


def test_two_plans_of_one_state_are_byte_identical_apart_from_the_time(example_project: Path):
    root = example_project
    a, b = root / "plans" / "a.yaml", root / "plans" / "b.yaml"
    run(root, "plan", "--out", str(a))
    run(root, "plan", "--out", str(b))
    strip = lambda p: re.sub(r"(created_at|digest): .*", "", p.read_text())  # noqa: E731
    assert strip(a) == strip(b)


def test_losing_local_state_never_duplicates_databases(applied: Path):
    (applied / ".reconciler" / "state.json").unlink()
    run(applied, "plan", "--detailed-exitcode", code=0)


def test_markdown_report_of_the_bundled_example_fits_a_comment_and_reads(
        applied_example: AppliedExample):
    """The saved plan of the fresh example (made once per run: `applied_example`), as markdown."""
    from markdown_it import MarkdownIt

    out = applied_example.plan
    md = run(applied_example.root, "show", str(out), "--format", "markdown").output
    assert md.startswith("## Reconciler plan")
    assert len(md) < 65_536, len(md)  # a GitHub comment holds 65,536 characters
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert html.count("<details") == html.count("</details>") > 40  # every resource has a look
    assert '<code class="language-sql">CREATE TABLE &quot;public&quot;.' in html  # fenced SQL
    assert "<td>" in html and "CREATE TABLE" not in md.split("### Changes")[0]  # not in cells
    assert "`notion.lukhas_modules` create: Enriched module manifests" in md  # its description
    assert "```mermaid\nerDiagram" in md and "does not fit" not in md  # before per-row listings
    hidden = re.search(r"\*\*… and (\d+) more change\(s\) not shown here\*\*", md)
    shown = len(re.findall(r"^- `[-+~>!]` ", md, re.M))
    doc = json.loads(run(applied_example.root, "show", str(out), "--format", "json").output)
    assert shown + (int(hidden.group(1)) if hidden else 0) == len(doc["changes"])


def test_sql_out_writes_a_supabase_cli_migration(example_project: Path):
    root = example_project
    run(root, "plan", "--out", str(root / "plans" / "first.yaml"), "--sql-out",
        str(root / "supabase" / "migrations"))
    (migration,) = (root / "supabase" / "migrations").iterdir()
    assert re.fullmatch(r"\d{14}_first\.sql", migration.name)
    text = migration.read_text()
    assert 'CREATE TABLE "public"."business_entities"' in text
    assert "NOTIFY pgrst, 'reload schema'" in text


def test_table_changed_after_planning_makes_the_saved_plan_stale(applied: Path,
                                                                 applied_database: str):
    import psycopg

    root = applied
    spec = root / "schemas" / "supabase" / "tasks.yaml"
    spec.write_text(spec.read_text().replace("columns:\n", "columns:\n  owner_note: {type: text}\n", 1))
    out = root / "plans" / "stale.yaml"
    result = run(root, "plan", "--out", str(out), code=0)
    assert 'supabase.public.tasks.column["owner_note"]' in result.output
    with psycopg.connect(applied_database, autocommit=True) as conn:
        conn.execute("ALTER TABLE public.tasks ADD COLUMN sneaky integer")
    refused = run(root, "apply", str(out), "--auto-approve", code=1)
    assert "stale" in refused.output and "supabase.public.tasks" in refused.output
