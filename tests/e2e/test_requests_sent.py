"""A saved plan lists the Notion requests apply sends, and apply sends exactly those: the same
methods and paths, each request once however many changes it carries (issue 8 point 3). Through
the CLI and the real notion-client on the local Notion, from the run's applied example."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from reconciler.cli import app
from tests.cli_runner import CliRunner

runner = CliRunner()
SPEC = Path("schemas") / "notion" / "lukhas_modules.yaml"
MANIFEST = Path("content") / "modules" / "api.module.manifest.json"
#: Reads: not what the plan lists (`POST …/query` and `POST /v1/search` read too).
SENT = re.compile(r"^HTTP (\w+) (\S+) -> ")
READ = re.compile(r"^(GET |POST /v1/data_sources/[^/]+/query|POST /v1/search)")


def run(root: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--dir", str(root)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def _edit(root: Path) -> None:
    """Three property changes of one database (two added, one description changed) and one
    page's value: one `PATCH /v1/data_sources/{id}` for three changes, one `PATCH /v1/pages/{id}`."""
    spec = (root / SPEC).read_text(encoding="utf-8")
    spec = spec.replace("  Coverage: {type: number, format: percent, description: Test coverage}",
                        "  Coverage: {type: number, format: percent, description: Line coverage}\n"
                        "  Owner Team: {type: rich_text}\n  Reviewed: {type: checkbox}")
    (root / SPEC).write_text(spec, encoding="utf-8")
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    manifest["description"] = "Public REST gateway, now with a changed description."
    (root / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_apply_sends_the_requests_the_plan_lists(applied_project: Path, caplog):
    root = applied_project
    _edit(root)
    out = root / "plans" / "edit.yaml"
    run(root, "plan", "--out", str(out), "--detailed-exitcode", code=2)
    doc = json.loads(runner.invoke(app, ["show", str(out), "--format", "json"]).output)
    notion = [c for c in doc["changes"] if c["address"].startswith("notion.")]
    shared = [r for c in notion for r in c["requests"] if r.get("shared_by")]
    assert shared and {r["shared_by"] for r in shared} == {3}, notion
    assert shared[0]["keys"] == ["Coverage", "Owner Team", "Reviewed"]
    listed: Counter = Counter()
    for change in notion:
        assert change["requests"], change["address"]
        for request in change["requests"]:
            assert "known after apply" not in request["path"]
            listed[(request["method"], request["path"])] += 1 / (request.get("shared_by") or 1)
    listed = Counter({k: round(v) for k, v in listed.items()})
    assert sum(listed.values()) == 2

    text = runner.invoke(app, ["show", str(out)]).output
    assert "(Coverage, Owner Team, Reviewed), one request for 3 changes" in text

    caplog.set_level(logging.DEBUG, logger="reconciler.http")
    run(root, "apply", str(out))
    sent = Counter()
    for record in caplog.records:
        found = SENT.match(record.getMessage()) if record.name == "reconciler.http" else None
        if found and not READ.match(f"{found[1]} {found[2]}"):
            sent[(found[1], found[2])] += 1
    assert sent == listed
    run(root, "plan", "--detailed-exitcode")


def forge(path: Path, edit) -> None:
    """Edit the plan file's document with `edit(doc)` and write its digest again, as a forger
    who read `plan.planfile` would."""
    from reconciler.plan.planfile import document_digest

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    doc["digest"] = document_digest(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _shared(doc: dict) -> dict:
    return next(r for c in doc["changes"] for r in c.get("requests", ()) if r.get("shared_by"))


def _page(doc: dict) -> dict:
    return next(r for c in doc["changes"] for r in c.get("requests", ())
                if r["path"].startswith("/v1/pages/"))


EDITS = {
    "keys": lambda doc: _shared(doc).update(keys=["Coverage", "Owner Team"]),
    "shared_by": lambda doc: _shared(doc).update(shared_by=2),
    "path": lambda doc: _page(doc).update(path="/v1/pages/00000000000000000000000000000000"),
}


def test_apply_refuses_a_plan_whose_requests_were_edited(applied_project: Path):
    """The recompile check: a saved plan whose requests (keys, sharing, path) are not what its
    changes compile to now is refused before anything is written, even with its digest made
    again."""
    root = applied_project
    _edit(root)
    out = root / "plans" / "edit.yaml"
    run(root, "plan", "--out", str(out), "--detailed-exitcode", code=2)
    ledger = root / ".reconciler" / "ledger.ndjson"
    before = ledger.read_text(encoding="utf-8")
    for name, edit in sorted(EDITS.items()):
        forged = root / "plans" / f"{name}.yaml"
        forged.write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
        forge(forged, edit)
        output = run(root, "apply", str(forged), code=1)
        assert "not what this change compiles to now (the plan file was edited)" in output, name
        assert ledger.read_text(encoding="utf-8") == before
    run(root, "apply", str(out))  # the plan itself, untouched, applies


def test_a_refused_plan_leaves_a_new_database_as_it_was(tmp_path: Path, example_database: str):
    """The first apply to a database: a plan refused by its checks (here: its SQL edited, its
    digest made again) writes nothing there, not even the lock table (the lock is the advisory
    lock alone until the checks pass)."""
    import psycopg

    from tests.postgres.projects import SOT_TABLE, make_project, sot_entry

    root = make_project(tmp_path, {"schemas/supabase/sot_entries.yaml": SOT_TABLE,
                                   "content/sot/a.md": sot_entry("A-1", "First")})
    out = root / "plans" / "first.yaml"
    run(root, "plan", "--out", str(out), "--detailed-exitcode", code=2)

    def edit(doc: dict) -> None:
        change = next(c for c in doc["changes"] if c.get("sql"))
        change["sql"] = [change["sql"][0].replace("CREATE TABLE", "CREATE UNLOGGED TABLE")]

    forge(out, edit)
    output = run(root, "apply", str(out), code=1)
    assert "not what this change compiles to now" in output
    with psycopg.connect(example_database) as conn:
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
                               "AND nspname <> 'information_schema'").fetchall()
        assert schemas == [("public",)]
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = "
                            "'public'::regnamespace").fetchone()[0] == 0


TWO_WAY = {"reconciler.yaml": "notion: {}\n",
           "schemas/notion/beta.yaml": "title: Beta\nproperties:\n  Name: {type: title}\n",
           "schemas/notion/alpha.yaml": (
               "title: Alpha\nproperties:\n  Name: {type: title}\n  Beta: {type: relation, "
               "database: beta, two_way: true, synced_property: \"%s\"}\n")}


@pytest.mark.parametrize("synced", ["Related to Alpha (Beta)", "Alphas"])
def test_a_two_way_relations_synced_property_is_previewed_as_sent(tmp_path: Path, caplog,
                                                                  synced: str):
    """Notion names the synced property `Related to <title> (<relation>)` itself: under that
    name no rename is previewed or sent; under another, the rename is both."""
    from tests.conftest import write_files

    root = write_files(tmp_path, {**TWO_WAY, "schemas/notion/alpha.yaml":
                                  TWO_WAY["schemas/notion/alpha.yaml"] % synced})
    out = root / "plan.yaml"
    run(root, "plan", "--out", str(out), "--detailed-exitcode", code=2)
    doc = json.loads(runner.invoke(app, ["show", str(out), "--format", "json"]).output)
    listed = round(sum(1 / (r.get("shared_by") or 1) for c in doc["changes"]
                       for r in c.get("requests", ())))
    renames = [r for c in doc["changes"] for r in c.get("requests", ()) if synced in r["keys"]]
    assert len(renames) == (0 if synced.startswith("Related to") else 1)
    caplog.set_level(logging.DEBUG, logger="reconciler.http")
    run(root, "apply", str(out))
    sent = [m for r in caplog.records if r.name == "reconciler.http"
            for m in [SENT.match(r.getMessage())] if m and not READ.match(f"{m[1]} {m[2]}")]
    assert len(sent) == listed
    run(root, "plan", "--detailed-exitcode")
