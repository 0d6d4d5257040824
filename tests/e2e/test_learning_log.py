"""The bundled learning log (content/log/*.md → learning_days and learning_log) end to end:
plan and apply through the CLI and the real notion-client on the local Notion, then read the
pages back: tags are multi_select options, multi-line fields are complete and styled, sections
end where they should, dates are parsed, entries relate to each other and to their day, and the
next plan is empty (issue 13, "Done when")."""

from __future__ import annotations

import json
from pathlib import Path

import notion_client
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.local import local_client
from tests.applied_example import AppliedExample

runner = CliRunner()


def run(root: Path, *args: str, code: int = 0):
    result = runner.invoke(app, [*args, "--dir", str(root)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def data_source(root: Path, key: str) -> tuple[object, str]:
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    return local_client(root / ".reconciler" / "notion"), target["databases"][key]["data_source_id"]


def pages(root: Path, key: str) -> list[dict]:
    client, ds = data_source(root, key)
    return notion_client.helpers.collect_paginated_api(client.data_sources.query, data_source_id=ds)


def text(value: list[dict]) -> str:
    return "".join(item["plain_text"] for item in value)


def test_the_bundled_log_plans_applies_and_converges(applied_example: AppliedExample,
                                                     applied_project: Path):
    """The plan and apply are the run's one `plan --out` and `apply <plan>` of the fresh bundled
    example (`applied_example`); the pages are read back from a private copy of what they left."""
    root, out = applied_project, applied_example.plan
    assert applied_example.planned.exit_code in (0, 2), applied_example.planned.output
    doc = json.loads(runner.invoke(app, ["show", str(out), "--format", "json"]).output)
    assert doc["content"]["notion.learning_log"]["create"] == 5
    assert doc["content"]["notion.learning_days"]["create"] == 3
    assert applied_example.applied.exit_code == 0, applied_example.applied.output

    days = {text(p["properties"]["Day"]["title"]): p for p in pages(root, "learning_days")}
    entries = {p["properties"]["Entry"]["number"]: p["properties"]
               for p in pages(root, "learning_log")}
    assert sorted(entries) == [12, 13, 14, 15, 16]

    # dates as written: `28. oktober 2025` (nb) and `Oct 29, 2025` (en)
    assert {k: p["properties"]["Date"]["date"]["start"] for k, p in days.items()} == {
        "2025-10-28": "2025-10-28", "2025-10-29": "2025-10-29", "2025-10-30": "2025-10-30"}

    # tags: comma-separated text → multi_select options; `Perf` mapped, `Systems` added
    assert [o["name"] for o in entries[14]["Tags"]["multi_select"]] == ["Architecture", "Systems"]
    assert [o["name"] for o in entries[15]["Tags"]["multi_select"]] == ["Tooling", "Performance"]
    client, ds = data_source(root, "learning_log")
    options = [o["name"] for o in
               client.data_sources.retrieve(ds)["properties"]["Tags"]["multi_select"]["options"]]
    assert "Systems" in options and "Perf" not in options
    assert entries[12]["Impact"]["select"]["name"] == "High"
    assert entries[12]["Confidence"]["number"] == 0.95 and entries[13]["Confidence"]["number"] == 0.8

    # multi-line fields: complete, line breaks kept, markdown as annotations
    insight = entries[12]["Insight"]["rich_text"]
    assert text(insight).startswith("The sync wrote a Confidence property that the live "
                                    "database did not\nhave yet")
    assert text(insight).endswith("is deferred instead of failing the run.")
    styled = {(i["plain_text"], k) for i in insight for k, v in i["annotations"].items()
              if v is True}
    assert {("Confidence", "italic"), ("by hand", "bold")} <= styled
    evidence = entries[12]["Evidence"]["rich_text"]
    assert text(evidence).split("\n") == [
        "• Three failed runs on 27 October: property Confidence does not exist",
        "• The first run after the change wrote all 41 pages",
        "• Discussion in the sync thread"]
    assert evidence[-1]["href"] == "https://example.com/threads/schema-lag"
    assert text(entries[13]["Evidence"]["rich_text"]).startswith("• The ledger showed deferred")

    # sections end at the next entry, a rule (`end:`) or a higher-level heading
    body13 = text(entries[13]["Body"]["rich_text"])
    assert body13.endswith("Related: #12") and "Oppsummering" not in body13
    assert "Open questions" not in text(entries[15]["Body"]["rich_text"])
    assert "---" not in text(entries[12]["Body"]["rich_text"])

    # relations by key: to other entries, and to the day
    ids = {n: p["id"] for n, p in ((p["properties"]["Entry"]["number"], p)
                                   for p in pages(root, "learning_log"))}
    related = {n: sorted(r["id"] for r in e["Related"]["relation"]) for n, e in entries.items()}
    assert related[14] == sorted([ids[12], ids[15]])
    assert related[16] == sorted([ids[12], ids[14], ids[15]])
    assert [r["id"] for r in entries[15]["Day"]["relation"]] == [days["2025-10-29"]["id"]]

    # the pages hold the desired hash once their relations are written, so nothing is left
    ledger = [json.loads(line) for line in
              (root / ".reconciler" / "ledger.ndjson").read_text().splitlines()]
    lines = [e for e in ledger if e["address"].startswith("notion.learning_log.page")]
    assert len(lines) == 5 and all(e["status"] == "applied" and e["hash"] == e["desired_hash"]
                                   for e in lines)
    run(root, "plan", "--detailed-exitcode", code=0)


def test_an_unknown_related_entry_fails_the_plan_at_its_line(example_project: Path):
    root = example_project
    log = root / "content" / "log" / "2025-10-30.md"
    log.write_text(log.read_text().replace("**Related**: #12, #14, #15",
                                           "**Related**: #12, #99"))
    line = log.read_text().splitlines().index("**Related**: #12, #99") + 1
    result = run(root, "plan", code=1)
    assert (f"content/log/2025-10-30.md:{line}:14: row '16': Related: no row of learning_log "
            "has the key '99'") in result.output
    assert not (root / ".reconciler").exists()
