"""`plan --since last` on the bundled example: after a converge, only pages edited since the
last full read are queried; the other rows come from `.reconciler/content/<target>.json`, and the
plan still holds exactly the one update an edited manifest needs, which applies and converges."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import notion_client
import pytest

from tests.e2e.test_content import backdate_every_page, calls, plan_doc, run, synced  # noqa: F401


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Pages returned by `POST /v1/data_sources/{id}/query`, by data source id."""
    counter: Counter = Counter()
    original = notion_client.Client.request

    def counting(self, path, method, *args, **kwargs):
        out = original(self, path, method, *args, **kwargs)
        if method.upper() == "POST" and path.endswith("/query"):
            counter[path.split("/")[1]] += len(out.get("results", []))
        return out

    monkeypatch.setattr(notion_client.Client, "request", counting)
    return counter


def test_plan_since_last_reads_only_edited_pages_and_plans_the_one_update(
        synced: Path, results: Counter, calls: Counter):  # noqa: F811
    root = synced
    run(root, "plan", "--detailed-exitcode", code=0)  # the last full read
    backdate_every_page(root)
    run(root, "plan", "--detailed-exitcode", code=0)  # full again: snapshot with these stamps
    manifest = root / "content" / "modules" / "memory.module.manifest.json"
    data = json.loads(manifest.read_text())
    data["coverage"] = 0.5
    manifest.write_text(json.dumps(data, indent=2))
    results.clear()
    calls.clear()
    doc = plan_doc(root, "--since", "last")
    assert sum(results.values()) == 0  # nothing was edited since the last full read
    # the row whose source changed, and the database's parent page (is it in the trash?)
    assert calls["GET /v1/pages/{id}"] == 2
    content = [c for c in doc["changes"] if c["action"] != "no-op"
               and ".page[" in c["address"] or ".row[" in c["address"]]
    assert [(c["action"], c["address"]) for c in content] == [
        ("update", 'notion.lukhas_modules.page["memory"]')]
    assert set(content[0]["after"]["values"]) == {"Coverage"}
    assert not any(s["create"] for s in doc["content"].values())
    run(root, "apply", str(root / "plans" / "content.yaml"), "--auto-approve")
    run(root, "plan", "--detailed-exitcode", code=0)
    run(root, "plan", "--since", "last", "--detailed-exitcode", code=0)
