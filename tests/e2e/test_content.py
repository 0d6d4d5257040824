"""Content sync end to end: sources → plan → apply → converged rows, on the local Notion and
a real Postgres, through the real notion-client."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import notion_client
import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.local import local_client
from tests.applied_example import AppliedExample
from tests.conftest import REPO, write_files

runner = CliRunner()
_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def run(root: Path, *args: str, code: int | None = 0):
    argv = [*args] if args[0] == "show" else [*args, "--dir", str(root)]
    result = runner.invoke(app, argv, catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, result.output
    return result


def plan_doc(root: Path, *args: str) -> dict:
    out = root / "plans" / "content.yaml"
    run(root, "plan", "--out", str(out), *args, code=None)
    return json.loads(run(root, "show", str(out), "--format", "json").output)


def backdate_every_page(root: Path) -> None:
    """Pretend every page was last edited long before the last full read."""
    from reconciler.local.store import Store

    store = Store(root / ".reconciler" / "notion")
    with store.transaction(write=True):
        for ds in store.data_sources():
            for page in store.pages_in(ds["id"]):
                page["last_edited_time"] = "2020-01-01T00:00:00.000Z"
    store.close()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts every Notion API call by `METHOD /v1/path` (ids replaced by {id})."""
    counter: Counter = Counter()
    original = notion_client.Client.request

    def counting(self, path, method, *args, **kwargs):
        counter[f"{method.upper()} /v1/{_ID.sub('{id}', path)}"] += 1
        return original(self, path, method, *args, **kwargs)

    monkeypatch.setattr(notion_client.Client, "request", counting)
    return counter


def writes(counter: Counter) -> int:
    return sum(n for call, n in counter.items()
               if call.startswith(("POST /v1/pages", "PATCH /v1/pages")))


def pages(root: Path, key: str) -> list[dict]:
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    client = local_client(root / ".reconciler" / "notion")
    ds = target["databases"][key]["data_source_id"]
    return notion_client.helpers.collect_paginated_api(client.data_sources.query, data_source_id=ds)


def modules(root: Path) -> dict[str, dict]:
    return {p["properties"]["Module"]["title"][0]["plain_text"]: p
            for p in pages(root, "lukhas_modules")}


@pytest.fixture
def synced(applied_project: Path) -> Path:
    """The bundled example with schema and content applied: a private copy of the run's one
    applied example (`tests/conftest.py` `applied_project`), with its own database."""
    return applied_project


def test_first_sync_creates_then_a_second_apply_writes_nothing(
        applied_example: AppliedExample, synced: Path, calls: Counter):
    """The first sync is the run's one plan and apply of the fresh example (`applied_example`);
    the second apply runs on a private copy of what it left (`synced`)."""
    root = synced
    doc = json.loads(run(root, "show", str(applied_example.plan), "--format", "json").output)
    assert doc["content"]["notion.lukhas_modules"]["create"] == \
        len(list((root / "content" / "modules").glob("*.json")))
    assert applied_example.applied.exit_code == 0, applied_example.applied.output
    found = modules(root)
    assert set(found) >= {"memory", "consciousness"}
    assert found["memory"]["properties"]["Provenance SHA"]["rich_text"][0]["plain_text"] \
        .startswith("sha256:")
    calls.clear()
    again = run(root, "apply", "--auto-approve")
    assert "No changes" in again.output
    assert writes(calls) == 0
    reads = calls["POST /v1/data_sources/{id}/query"]
    synced = len(list((root / "schemas" / "supabase").glob("*.yaml"))) - 1  # all but sot_entries
    # ceil(rows/100) per content set; per synced table, the pages edited and those trashed since
    # the last apply (docs/sync.md)
    assert reads <= 3 * 2 + 2 * synced
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    assert any(e["status"] == "skipped" and e.get("hash") for e in ledger)


def test_one_edited_row_is_one_update_of_only_its_changed_property(synced: Path, calls: Counter):
    root = synced
    manifest = root / "content" / "modules" / "memory.module.manifest.json"
    data = json.loads(manifest.read_text())
    data["coverage"] = 0.5
    manifest.write_text(json.dumps(data, indent=2))
    doc = plan_doc(root)
    content = [c for c in doc["changes"] if c["address"].startswith("notion.lukhas_modules.page")]
    assert [(c["action"], c["address"]) for c in content] == [
        ("update", 'notion.lukhas_modules.page["memory"]')]
    assert set(content[0]["after"]["values"]) == {"Coverage"}
    calls.clear()
    run(root, "apply", "--auto-approve")
    assert writes(calls) == 1
    assert modules(root)["memory"]["properties"]["Coverage"]["number"] == 0.5
    run(root, "plan", "--detailed-exitcode", code=0)


def test_unknown_value_in_a_closed_vocabulary_fails_before_any_write(example_project: Path):
    root = example_project
    doc = root / "content" / "learning" / "learning-points.md"
    text = doc.read_text()
    category = re.search(r"\*\*Category\*\*: *(.+)", text).group(1).strip()
    doc.write_text(text.replace(f"**Category**: {category}", "**Category**: Not A Category", 1))
    result = run(root, "plan", code=1)
    assert "Not A Category" in result.output and "learning-points.md" in result.output
    assert not (root / ".reconciler").exists()


def test_schema_lag_defers_with_content_only_then_fills_in(synced: Path):
    root = synced
    spec = root / "schemas" / "notion" / "lukhas_modules.yaml"
    text = spec.read_text()
    text = text.replace("properties:\n", "properties:\n  Path: {type: rich_text}\n", 1)
    text = text.replace("      Module: name\n", "      Module: name\n      Path: module.path\n", 1)
    spec.write_text(text)
    n = len(list((root / "content" / "modules").glob("*.json")))
    doc = plan_doc(root)
    assert doc["content"]["notion.lukhas_modules"]["lag"] == {
        'notion.lukhas_modules.property["Path"]': n}
    result = run(root, "apply", "--auto-approve", "--content-only")
    assert "deferred" in result.output
    assert all("Path" not in p["properties"] for p in pages(root, "lukhas_modules"))
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    seen = len(ledger)
    deferred = [e for e in ledger if e["status"] == "deferred"]
    assert len(deferred) == n and all(e["deferred"] == ["Path"] for e in deferred)
    # each line: the hash the page now holds (not the desired one, so the next plan looks again)
    stored = {p["properties"]["Module"]["title"][0]["plain_text"]:
              p["properties"]["Provenance SHA"]["rich_text"][0]["plain_text"]
              for p in pages(root, "lukhas_modules")}
    for line in deferred:
        key = line["address"].split('"')[1]
        assert line["hash"] == stored[key] != line["desired_hash"]
    run(root, "apply", "--auto-approve")
    found = modules(root)
    assert found["memory"]["properties"]["Path"]["rich_text"][0]["plain_text"] == "lukhas/memory"
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    filled = {e["address"]: e for e in ledger[seen:] if e.get("kind") == "update_page"}
    assert len(filled) == n and all(e["status"] == "applied" and e["hash"] == e["desired_hash"]
                                    for e in filled.values())
    run(root, "plan", "--detailed-exitcode", code=0)


def test_rows_gone_from_the_source_are_archived_only_with_prune(synced: Path):
    root = synced
    (root / "content" / "modules" / "quantum.module.manifest.json").unlink()
    doc = plan_doc(root)
    assert doc["content"]["notion.lukhas_modules"]["not_in_source"] == 1
    assert not [c for c in doc["changes"] if c["action"] == "archive"]
    pruned = plan_doc(root, "--prune")
    assert [c["address"] for c in pruned["changes"] if c["action"] == "archive"] == [
        'notion.lukhas_modules.page["quantum"]']
    run(root, "apply", "--auto-approve", "--prune")
    assert "quantum" not in modules(root)


def test_losing_local_state_never_duplicates_pages(synced: Path):
    root = synced
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (root / ".reconciler" / "state.json").unlink()
    run(root, "plan", "--detailed-exitcode", code=0)
    (root / ".reconciler" / "state.json").write_text(json.dumps(state))
    assert len(modules(root)) == len(list((root / "content" / "modules").glob("*.json")))


def test_postgres_rows_are_upserted_and_recorded(synced: Path, applied_database: str):
    import psycopg

    with psycopg.connect(applied_database) as conn:
        n = conn.execute("SELECT count(*) FROM public.sot_entries").fetchone()[0]
        runs = conn.execute("SELECT count(*) FROM reconciler.sync_activity").fetchone()[0]
    assert n == len(list((synced / "content" / "sot").glob("*.md")))
    assert runs >= 1
    run(synced, "plan", "--detailed-exitcode", code=0)


def test_postgres_rows_defer_a_missing_column_with_both_hashes_then_fill_it_in(
        tmp_path: Path, example_database: str):
    import psycopg

    root = tmp_path / "rows"
    table = ("columns:\n  slug: {type: text, primary_key: true}\n  title: {type: text}\n"
             "  sha: {type: text}\n"
             "content:\n  key: slug\n  hash: sha\n  source:\n    yaml: rows/*.yaml\n"
             "    fields: {slug: slug, title: title}\n")
    write_files(root, {"reconciler.yaml": "notion: {}\nsupabase: {}\n",
                       "schemas/supabase/notes.yaml": table,
                       "rows/a.yaml": "slug: a\ntitle: A\nnote: one\n",
                       "rows/b.yaml": "slug: b\ntitle: B\nnote: two\n"})
    run(root, "apply", "--auto-approve")
    spec = root / "schemas" / "supabase" / "notes.yaml"
    spec.write_text(spec.read_text().replace("  sha:", "  note: {type: text}\n  sha:")
                    .replace("title: title}", "title: title, note: note}"))
    run(root, "apply", "--auto-approve", "--content-only")
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    deferred = [e for e in ledger if e["status"] == "deferred" and "row[" in e["address"]]
    with psycopg.connect(example_database) as conn:
        stored = dict(conn.execute("SELECT slug, sha FROM public.notes").fetchall())
    assert len(deferred) == len(stored) == 2
    for line in deferred:  # the hash the row holds, which is not the desired one
        assert line["deferred"] == ["note"]
        assert line["hash"] == stored[line["address"].split('"')[1]] != line["desired_hash"]
    run(root, "apply", "--auto-approve")
    later = [json.loads(line) for line in
             (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()][len(ledger):]
    filled = [e for e in later if e.get("kind") == "update_row"]
    assert len(filled) == 2 and all(e["hash"] == e["desired_hash"] for e in filled)
    with psycopg.connect(example_database) as conn:
        assert dict(conn.execute("SELECT slug, note FROM public.notes").fetchall()) == {
            "a": "one", "b": "two"}
    run(root, "plan", "--detailed-exitcode", code=0)


def test_schema_change_without_permission_defers_the_fields_and_content_is_still_written(
        synced: Path, monkeypatch: pytest.MonkeyPatch):
    import httpx
    import notion_client
    from notion_client.errors import APIResponseError

    root = synced
    spec = root / "schemas" / "notion" / "lukhas_modules.yaml"
    text = spec.read_text().replace("properties:\n", "properties:\n  Path: {type: rich_text}\n", 1)
    spec.write_text(text.replace("      Module: name\n", "      Module: name\n      Path: module.path\n", 1))
    manifest = root / "content" / "modules" / "memory.module.manifest.json"
    manifest.write_text(manifest.read_text().replace('"coverage": ', '"coverage": 0.25, "x": ', 1))
    original = notion_client.Client.request

    def refuse_schema(self, path, method, query=None, body=None, **kwargs):
        if method == "PATCH" and path.startswith("data_sources/") and "properties" in (body or {}):
            raise APIResponseError("restricted_resource", 403, "Insufficient permissions",
                                   httpx.Headers(), "{}")
        return original(self, path, method, query, body, **kwargs)

    monkeypatch.setattr(notion_client.Client, "request", refuse_schema)
    result = run(root, "apply", "--auto-approve")
    assert "deferred" in result.output
    found = modules(root)
    assert found["memory"]["properties"]["Coverage"]["number"] == 0.25, "content still written"
    assert "Path" not in found["memory"]["properties"]
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    refused = [e for e in ledger if e["address"] == 'notion.lukhas_modules.property["Path"]']
    assert refused[-1]["status"] == "deferred" and "restricted_resource" in refused[-1]["reason"]
    monkeypatch.setattr(notion_client.Client, "request", original)
    run(root, "apply", "--auto-approve")
    assert modules(root)["memory"]["properties"]["Path"]["rich_text"][0]["plain_text"] == \
        "lukhas/memory"
    run(root, "plan", "--detailed-exitcode", code=0)


def test_a_saved_plan_is_checked_at_the_minimum_cost(tmp_path: Path, calls: Counter):
    """Apply of a reviewed plan re-reads the schema and only the pages edited since the plan's
    read (one query for 150 rows, where a full read takes two of Notion's pages of 100): no
    page fetched alone."""
    import shutil

    root = tmp_path / "w"
    (root / "schemas" / "notion").mkdir(parents=True)
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    shutil.copytree(REPO / "schemas" / "vocab", root / "schemas" / "vocab")
    shutil.copy(REPO / "schemas" / "notion" / "lukhas_modules.yaml", root / "schemas" / "notion")
    template = json.loads((REPO / "content" / "modules" / "memory.module.manifest.json").read_text())
    (root / "content" / "modules").mkdir(parents=True)
    for i in range(150):
        (root / "content" / "modules" / f"m{i:03d}.module.manifest.json").write_text(
            json.dumps(dict(template, name=f"m{i:03d}")))
    run(root, "apply", "--auto-approve")
    backdate_every_page(root)  # the apply was long ago: the plan's read is later than it
    for i in (7, 70, 140):
        path = root / "content" / "modules" / f"m{i:03d}.module.manifest.json"
        path.write_text(json.dumps(dict(template, name=f"m{i:03d}", coverage=0.5)))
    calls.clear()
    plan_doc(root)
    assert calls["POST /v1/data_sources/{id}/query"] == 2  # the plan's full read
    calls.clear()
    run(root, "apply", str(root / "plans" / "content.yaml"), "--auto-approve")
    assert calls["POST /v1/data_sources/{id}/query"] == 1
    assert calls["GET /v1/pages/{id}"] == 0
    assert calls["GET /v1/users/me"] == 0  # the fingerprints prove the target
    assert writes(calls) == 3
    run(root, "plan", "--detailed-exitcode", code=0)


def test_a_page_edited_after_the_plan_makes_the_saved_plan_stale(synced: Path):
    root = synced
    manifest = root / "content" / "modules" / "memory.module.manifest.json"
    manifest.write_text(manifest.read_text().replace('"coverage": ', '"coverage": 0.5, "x": ', 1))
    plan_doc(root)
    client = local_client(root / ".reconciler" / "notion")
    page = modules(root)["consciousness"]
    client.pages.update(page["id"], properties={"Coverage": {"number": 0.01}})
    result = run(root, "apply", str(root / "plans" / "content.yaml"), "--auto-approve", code=1)
    assert "stale" in result.output and "notion.lukhas_modules.content" in result.output
