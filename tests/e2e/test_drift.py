"""Drift on content-managed Notion rows: a value edited by hand in Notion (which leaves the
stored content hash as it was) is planned back as an update of just that property, through the
real notion-client against the local Notion, without a single extra API call; rows that match
are never planned (no false diffs), however often they are compared."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from reconciler.local import local_client
from tests.e2e.test_content import (backdate_every_page, calls, modules, plan_doc, run,  # noqa: F401
                                    synced)


def edit_description(root: Path, module: str, text: str) -> None:
    """A person edits the Description of a `LUKHAS Modules` page in Notion."""
    client = local_client(root / ".reconciler" / "notion")
    page = modules(root)[module]
    client.pages.update(page["id"], properties={
        "Description": {"rich_text": [{"type": "text", "text": {"content": text}}]}})


def description(root: Path, module: str) -> str:
    return "".join(t["plain_text"] for t in
                   modules(root)[module]["properties"]["Description"]["rich_text"])


def content_changes(doc: dict) -> list[dict]:
    return [c for c in doc["changes"] if ".page[" in c["address"] or ".row[" in c["address"]]


def test_a_hand_edit_is_one_update_of_that_property_until_apply_restores_it(
        synced: Path, calls: Counter):  # noqa: F811
    root = synced
    run(root, "plan", "--detailed-exitcode", code=0)
    before = description(root, "memory")
    edit_description(root, "memory", "edited by hand")
    calls.clear()
    text = run(root, "plan", "--detailed-exitcode", code=2).output
    assert 'notion.lukhas_modules.page["memory"]' in text and "Description" in text
    assert "1 to update" in text
    # the drift check costs what a plan without drift costs: the query already holds the values
    assert calls["GET /v1/pages/{id}"] <= 1  # the databases' parent page, as ever
    assert not any(c.startswith("GET /v1/pages/{id}/properties") for c in calls)
    # reported again by the next plan (and an incremental one), not only by the first to see it
    for args in ((), ("--since", "last")):
        doc = plan_doc(root, *args)
        assert [(c["action"], c["address"]) for c in content_changes(doc)] == [
            ("update", 'notion.lukhas_modules.page["memory"]')]
        assert set(content_changes(doc)[0]["after"]["values"]) == {"Description"}
        assert content_changes(doc)[0]["before"]["values"]["Description"] is not None
    run(root, "apply", "--auto-approve")
    assert description(root, "memory") == before
    run(root, "plan", "--detailed-exitcode", code=0)
    run(root, "plan", "--since", "last", "--detailed-exitcode", code=0)


def test_a_hand_edit_that_makes_a_saved_plan_stale_is_still_planned_afterwards(synced: Path):
    """The stale check reads the edited page (and remembers its stamp): that must not hide it."""
    root = synced
    manifest = root / "content" / "modules" / "consciousness.module.manifest.json"
    data = json.loads(manifest.read_text())
    data["coverage"] = 0.5
    manifest.write_text(json.dumps(data, indent=2))
    plan_doc(root)
    edit_description(root, "memory", "edited after the plan")
    result = run(root, "apply", str(root / "plans" / "content.yaml"), "--auto-approve", code=1)
    assert "stale" in result.output
    doc = plan_doc(root)
    assert sorted((c["address"], tuple(sorted(c["after"]["values"])))
                  for c in content_changes(doc)) == [
        ('notion.lukhas_modules.page["consciousness"]', ("Coverage",)),
        ('notion.lukhas_modules.page["memory"]', ("Description",))]


def test_every_row_compared_after_apply_matches_with_no_false_diff(synced: Path):
    """Every row of every content set compared field by field (stamps all changed; and with no
    snapshot at all, as on a fresh CI checkout) plans nothing, for every property type the
    bundled example uses."""
    root = synced
    backdate_every_page(root)
    run(root, "plan", "--detailed-exitcode", code=0)
    shutil.rmtree(root / ".reconciler" / "content")
    run(root, "plan", "--detailed-exitcode", code=0)
    run(root, "plan", "--detailed-exitcode", code=0)
    # the backdated rows matched a minute after their stamp: remembered, hash trusted again
    snapshot = json.loads((root / ".reconciler" / "content" /
                           "notion.lukhas_modules.json").read_text())
    assert snapshot and all(r["checked"] == r["stamp"] for r in snapshot.values())


def test_only_rows_read_two_minutes_after_their_stamp_are_remembered_as_matching():
    """`last_edited_time` is minute-rounded: a row read within the minute of its stamp could be
    edited again under the same stamp, so it is compared again at the next read (one more
    minute of margin for a local clock ahead of Notion's)."""
    from reconciler.backends.notion.rows import settle_rows
    from reconciler.model.content import LiveRow

    rows = {k: LiveRow(k, k, {}, stamp=stamp, edited=True)
            for k, stamp in (("old", "2026-01-01T10:00:00.000Z"),
                             ("fresh", "2026-01-01T10:01:00.000Z"),
                             ("differs", "2026-01-01T09:00:00.000Z"))}
    settled = settle_rows(rows, ["old", "fresh"], "2026-01-01T10:02:30+00:00")
    assert (settled["old"].checked, settled["old"].edited) == ("2026-01-01T10:00:00.000Z", False)
    assert (settled["fresh"].checked, settled["fresh"].edited) == (None, True)
    assert (settled["differs"].checked, settled["differs"].edited) == (None, True)


def test_a_snapshot_from_before_drift_checks_costs_no_extra_call_on_since_last(
        synced: Path, calls: Counter):  # noqa: F811
    """A snapshot without `checked` (written by an older version): `plan --since last` does not
    fetch its pages one by one; the next full plan compares them, and finds nothing."""
    root = synced
    backdate_every_page(root)
    run(root, "plan", "--detailed-exitcode", code=0)
    for path in (root / ".reconciler" / "content").glob("*.json"):
        rows = json.loads(path.read_text())
        path.write_text(json.dumps({k: {f: v for f, v in r.items() if f != "checked"}
                                    for k, r in rows.items()}))
    calls.clear()
    run(root, "plan", "--since", "last", "--detailed-exitcode", code=0)
    assert calls["GET /v1/pages/{id}"] <= 1  # the databases' parent page, as ever
    run(root, "plan", "--detailed-exitcode", code=0)
