"""`reconciler status`: rows, latest edit, pending changes, schema lag, deferred fields and the
last apply per database and table, read-only, on the local Notion and a real Postgres."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from reconciler.local import local_client
from reconciler.ops.status import ledger_summary
from tests.ops.conftest import cli


def _status(root: Path, env: dict | None = None) -> dict:
    out = cli("status", "--format", "JSON", "--dir", str(root), env=env).output
    data = json.loads(out)
    return {r["address"]: r for r in data["resources"]} | {"_": data}


def test_status_after_apply_counts_rows_and_names_the_last_apply(applied_bundle):
    root, env = applied_bundle
    before = (root / ".reconciler" / "ledger.ndjson").read_text()
    status = _status(root, env)
    modules = status["notion.lukhas_modules"]
    assert modules["exists"] and modules["in_sync"]
    assert modules["rows"] == 10 and modules["latest_edit"]
    assert modules["last_apply"] and not modules["lag"] and not modules["deferred"]
    sot = status["supabase.public.sot_entries"]
    assert sot["rows"] == 4 and sot["latest_edit"] and sot["in_sync"]
    # one time format on both sides: ISO 8601 in UTC, as Notion's last_edited_time
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", sot["latest_edit"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", modules["latest_edit"])
    assert status["notion.master_tasks"]["rows"] == 2  # the sync's example rows (content/sync)
    assert status["_"]["backends"]["notion"].startswith("local Notion")
    assert (root / ".reconciler" / "ledger.ndjson").read_text() == before  # read-only
    text = cli("status", "--dir", str(root), env=env).output
    total = len(status) - 1
    assert total >= 40 and f"{total} of {total} resource(s) in sync." in text


def _copy(bundle: Path, where: Path) -> Path:
    shutil.copytree(bundle, where, ignore=shutil.ignore_patterns("postgres"))
    return where


def test_status_shows_drift_lag_and_deferred_fields(applied_bundle, tmp_path: Path):
    bundle, env = applied_bundle
    root = _copy(bundle, tmp_path / "copy")
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    ds = state["notion"]["local"]["databases"]["master_tasks"]["data_source_id"]
    client = local_client(root / ".reconciler" / "notion")
    client.data_sources.update(ds, properties={"Added by hand": {"rich_text": {}}})
    spec = root / "schemas" / "notion" / "lukhas_modules.yaml"
    spec.write_text(spec.read_text().replace("properties:\n", "properties:\n  Path: {type: rich_text}\n", 1)
                    .replace("    fields:\n", "    fields:\n      Path: module.path\n", 1))
    assert "      Path: module.path" in spec.read_text(), "the example's fields: mapping changed"
    status = _status(root, env)
    tasks = status["notion.master_tasks"]
    assert not tasks["in_sync"] and tasks["changes"] == {"delete": 1}
    modules = status["notion.lukhas_modules"]
    assert modules["changes"] == {"create": 1} and modules["lag"] == {'notion.lukhas_modules.property["Path"]': 10}
    client.data_sources.update(ds, properties={"Added by hand": None})  # drift undone by hand
    cli("apply", "--content-only", "--auto-approve", "--dir", str(root), env=env)
    modules = _status(root, env)["notion.lukhas_modules"]
    assert modules["deferred"] == {"Path": 10}
    assert "schema lag (rows)" in cli("status", "--dir", str(root), env=env).output


def test_ledger_summary_keeps_only_fields_still_deferred():
    lines = [
        {"time": "t1", "address": 'notion.m.page["a"]', "kind": "create_page",
         "status": "deferred", "deferred": ["Path"]},
        {"time": "t2", "address": 'notion.m.page["b"]', "kind": "create_page",
         "status": "deferred", "deferred": ["Path", "Size"]},
        {"time": "t3", "address": 'notion.m.page["a"]', "kind": "update_page", "status": "applied"},
        {"time": "t4", "address": 'notion.other.page["a"]', "kind": "update_page",
         "status": "applied"},
    ]
    assert ledger_summary(lines, "notion.m") == ("t3", {"Path": 1, "Size": 1})
    assert ledger_summary([], "notion.m") == (None, {})
