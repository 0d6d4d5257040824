"""The daily drift job of the GitHub Actions workflow (`reconciler init`) tells two-way sync row
flows from drift: its Python, run here on `show --format json` of real plans of a synced project
(the real notion-client on the local Notion, a real Postgres), says `only_sync=true` when every
pending change is a row or page the sync moves, and `false` once the spec's schema differs too;
the fingerprint it puts in the issue (so the same drift is not commented twice) is the same for
two plans of the same state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from reconciler.scaffold import workflow_text
from tests.e2e.sync_helpers import example_database, sync_database  # noqa: F401
from tests.e2e.sync_helpers import COMPANIES, create_page, plan_json, project, run


def drift_outputs(doc: dict, tmp_path: Path) -> dict[str, str]:
    """What the drift job's classifier writes to `$GITHUB_OUTPUT` for the plan `doc`."""
    import json

    jobs = YAML(typ="safe", pure=True).load(workflow_text(install="."))["jobs"]
    (step,) = [s for s in jobs["drift"]["steps"] if "--format json" in s.get("run", "")]
    code = step["run"].split("<<'EOF'\n", 1)[1].rsplit("EOF", 1)[0]
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = subprocess.run([sys.executable, "-", str(path)], input=code, capture_output=True,
                         text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def test_the_drift_issue_says_when_only_sync_rows_are_pending(tmp_path: Path,
                                                              example_database: str):
    root = project(tmp_path / "p", deals=False)
    run(root, "apply", "--auto-approve")
    create_page(root, "companies", {"Name": {"title": [{"text": {"content": "Acme"}}]},
                                    "Stage": {"select": {"name": "Lead"}}})
    flows = plan_json(root)
    assert any(c["kind"] == "insert_row" for c in flows["changes"])
    said = drift_outputs(flows, tmp_path)
    assert said["only_sync"] == "true"
    assert drift_outputs(plan_json(root), tmp_path)["fingerprint"] == said["fingerprint"]

    (root / "schemas/notion/companies.yaml").write_text(COMPANIES + "  Owner: {type: rich_text}\n")
    drifted = plan_json(root)
    assert any(not c.get("sync") for c in drifted["changes"])
    said_now = drift_outputs(drifted, tmp_path)
    assert said_now["only_sync"] == "false" and said_now["fingerprint"] != said["fingerprint"]
