"""The reconciler's own flows, as a user runs them (the real CLI, in process), with the
assertions every contract test makes: recording against Notion or `local serve`, replaying a
cassette, and running against the local Notion for the comparison.

A flow gets a `Workspace`: a project folder whose Notion parent is a page of its own, created
under the target's scratch page when the flow starts and trashed when it ends (so a recording
never finds the databases of an earlier one). Flows touch only what they create. They avoid
people values: a person's e-mail would have to name a member of the maintainer's workspace.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from notion_client.helpers import collect_paginated_api
from tests.cli_runner import CliRunner

from reconciler.backends.notion.client import NotionConnection, open_notion
from reconciler.cli import app

PAGE_TITLE = "reconciler contract: {flow}"
_runner = CliRunner()


@dataclass(frozen=True)
class Target:
    """Where a flow runs. `env`: what the environment holds for it (`NOTION_TOKEN`,
    `NOTION_BASE_URL`, `NOTION_RATE_LIMIT` in requests per second; empty for the in-process
    local Notion of the project folder); `parent_page_id`: the scratch page flows work under."""

    env: dict[str, str] = field(default_factory=dict, repr=False)  # may hold the token
    parent_page_id: str = ""


class Workspace:
    """A project folder for one flow, on `target`, with its own page under the scratch page.

    `monkeypatch` sets the environment the CLI reads. The page is created through the same
    `open_notion` connection the reconciler uses, so its request is part of the flow's
    recording; `close()` trashes it (`DELETE /v1/blocks/{id}`)."""

    def __init__(self, root: Path, target: Target, flow: str, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for name, value in target.env.items():
            monkeypatch.setenv(name, value)
        self.write("reconciler.yaml", 'notion:\n  parent_page_id: "${NOTION_PARENT_PAGE_ID}"\n')
        self.connection: NotionConnection = open_notion(root, os.environ)
        page = self.client.pages.create(
            parent={"page_id": target.parent_page_id},
            properties={"title": {"title": [{"type": "text", "text": {
                "content": PAGE_TITLE.format(flow=flow)}}]}})
        self.page_id: str = page["id"]
        monkeypatch.setenv("NOTION_PARENT_PAGE_ID", self.page_id)

    @property
    def client(self):
        return self.connection.client

    def close(self) -> None:
        """Trash the flow's page (and the databases under it)."""
        try:
            self.client.blocks.delete(self.page_id)
        finally:
            self.client.close()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, kind, *rest) -> None:
        if kind is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # the flow failed: its error is the one to see
            self.close()

    # --- the project -----------------------------------------------------------------------------
    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{relative} lacks {old!r}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def cli(self, *args: str, code: int = 0) -> str:
        """Run `reconciler ARGS --dir ROOT`; assert the exit code; return the output. A request
        the cassette lacks surfaces here, with vcrpy's message."""
        result = _runner.invoke(app, [*args, "--dir", str(self.root)])
        assert result.exit_code == code, (
            f"reconciler {' '.join(args)} exited {result.exit_code}, not {code}:\n{result.output}"
            + (f"\n{type(result.exception).__name__}: {result.exception}"
               if result.exception and not isinstance(result.exception, SystemExit) else ""))
        return result.output

    # --- the live side, through the same connection ----------------------------------------------
    def _ids(self, database: str) -> dict:
        state = json.loads((self.root / ".reconciler" / "state.json").read_text())
        (target,) = state["notion"].values()
        return target["databases"][database]

    def data_source(self, database: str) -> dict:
        """`GET /v1/data_sources/{id}` of a declared database (its id from the state)."""
        return self.client.data_sources.retrieve(self._ids(database)["data_source_id"])

    def rows(self, database: str) -> dict[str, dict]:
        """The untrashed pages of a declared database by title."""
        pages = collect_paginated_api(self.client.data_sources.query,
                                      data_source_id=self._ids(database)["data_source_id"])
        return {title(p): p for p in pages}


def title(page: dict) -> str:
    """The plain text of a page's title property."""
    prop = next(v for v in page["properties"].values() if v["type"] == "title")
    return "".join(t["plain_text"] for t in prop["title"])


def text(value: dict) -> str:
    """The plain text of a title or rich_text page value."""
    return "".join(t["plain_text"] for t in value[value["type"]])


def options(schema: dict, name: str) -> list[str]:
    """The option names of a select or multi_select property of a data source, in order."""
    prop = schema["properties"][name]
    return [o["name"] for o in prop[prop["type"]]["options"]]


# --- flows ---------------------------------------------------------------------------------------
PROJECTS = """title: Contract projects
properties:
  Name: {type: title}
  Stage:
    type: select
    description: Where the project stands
    options: [Plan, Build]
  Budget: {type: number, format: dollar}
"""
TASKS = """title: Contract tasks
properties:
  Name: {type: title}
  Project: {type: relation, database: projects, two_way: true, synced_property: Tasks}
  Estimate: {type: number}
  Double: {type: formula, expression: 'prop("Estimate") * 2'}
  Tags: {type: multi_select, options: [api, ui]}
"""


def schema_flow(ws: Workspace) -> None:
    """Create two related databases, then update them: a property added, one renamed, a number
    format changed, a select option added (its description kept: Notion clears a description
    not re-sent with the options, NOTION-API.md §3.4), a self relation added, a property
    deleted (only with --allow-destroy). Every apply converges: the next plan is empty."""
    ws.write("schemas/notion/projects.yaml", PROJECTS)
    ws.write("schemas/notion/tasks.yaml", TASKS)
    out = ws.cli("plan", "--detailed-exitcode", code=2)
    assert "notion.projects" in out and "notion.tasks" in out, out
    ws.cli("apply", "--auto-approve")
    ws.cli("plan", "--detailed-exitcode")
    projects, tasks = ws.data_source("projects"), ws.data_source("tasks")
    assert options(projects, "Stage") == ["Plan", "Build"]
    assert projects["properties"]["Stage"]["description"] == "Where the project stands"
    assert tasks["properties"]["Project"]["relation"]["type"] == "dual_property"
    assert projects["properties"]["Tasks"]["relation"]["data_source_id"] == tasks["id"]
    assert tasks["properties"]["Double"]["type"] == "formula"
    budget_id = projects["properties"]["Budget"]["id"]

    ws.edit("schemas/notion/projects.yaml", "options: [Plan, Build]", "options: [Plan, Build, Ship]")
    ws.edit("schemas/notion/projects.yaml", "  Budget: {type: number, format: dollar}",
            "  Cost: {type: number, format: euro, renamed_from: [Budget]}")
    ws.edit("schemas/notion/tasks.yaml", "  Estimate: {type: number}\n",
            "  Estimate: {type: number}\n  Notes: {type: rich_text}\n"
            "  Blocked by: {type: relation, database: tasks}\n")
    ws.cli("plan", "--detailed-exitcode", code=2)
    ws.cli("apply", "--auto-approve")
    ws.cli("plan", "--detailed-exitcode")
    projects, tasks = ws.data_source("projects"), ws.data_source("tasks")
    assert options(projects, "Stage") == ["Plan", "Build", "Ship"]
    assert projects["properties"]["Stage"]["description"] == "Where the project stands"
    assert projects["properties"]["Cost"]["id"] == budget_id, "a rename keeps the property id"
    assert projects["properties"]["Cost"]["number"]["format"] == "euro"
    assert "Budget" not in projects["properties"]
    assert tasks["properties"]["Blocked by"]["relation"]["data_source_id"] == tasks["id"]

    ws.edit("schemas/notion/tasks.yaml", "  Notes: {type: rich_text}\n", "")
    ws.cli("apply", "--auto-approve", code=1)  # a deletion needs --allow-destroy
    assert "Notes" in ws.data_source("tasks")["properties"]
    ws.cli("apply", "--auto-approve", "--allow-destroy")
    ws.cli("plan", "--detailed-exitcode")
    assert "Notes" not in ws.data_source("tasks")["properties"]


CONTENT_PROJECTS = """title: Contract projects
properties:
  Name: {type: title}
  Stage: {type: select, options: [Plan, Build, Ship]}
  Content hash: {type: rich_text}
content:
  key: Name
  hash: Content hash
  source:
    yaml: content/projects.yaml
    items: projects
    fields: {Name: name, Stage: stage}
"""
CONTENT_TASKS = """title: Contract tasks
properties:
  Name: {type: title}
  Status: {type: select, options: [Todo, Doing, Done]}
  Points: {type: number}
  Done: {type: checkbox}
  Due: {type: date}
  Link: {type: url}
  Contact: {type: email}
  Tags: {type: multi_select, options: [api, ui, docs]}
  Project: {type: relation, database: projects}
  Content hash: {type: rich_text}
content:
  key: Name
  hash: Content hash
  source:
    yaml: content/tasks.yaml
    items: tasks
    fields: {Name: name, Status: status, Points: points, Done: done, Due: due, Link: link,
             Contact: contact, Tags: tags, Project: project}
"""
PROJECT_ROWS = """projects:
  - {name: Alpha, stage: Build}
  - {name: Beta, stage: Plan}
"""
TASK_ROWS = """tasks:
  - {name: Write the spec, status: Done, points: 3, done: true, due: "2025-01-15",
     link: "https://example.com/spec", contact: ada@example.com, tags: [docs], project: Alpha}
  - {name: Build the API, status: Doing, points: 8, done: false, due: "2025-02-01T09:30:00.000Z",
     tags: [api], project: Alpha}
  - {name: Draw the UI, status: Todo, points: 5, tags: [ui, docs], project: Beta}
"""


def content_flow(ws: Workspace) -> None:
    """Rows from content files: created with every common value type and a relation to rows of
    another database (written once both exist), read back by query; then one row updated, one
    added, one archived (--prune); an incremental plan (--since last) and a full one find
    nothing left to do."""
    ws.write("schemas/notion/projects.yaml", CONTENT_PROJECTS)
    ws.write("schemas/notion/tasks.yaml", CONTENT_TASKS)
    ws.write("content/projects.yaml", PROJECT_ROWS)
    ws.write("content/tasks.yaml", TASK_ROWS)
    ws.cli("apply", "--auto-approve")
    ws.cli("plan", "--detailed-exitcode")
    projects, tasks = ws.rows("projects"), ws.rows("tasks")
    assert sorted(projects) == ["Alpha", "Beta"]
    assert sorted(tasks) == ["Build the API", "Draw the UI", "Write the spec"]
    spec = tasks["Write the spec"]["properties"]
    assert spec["Status"]["select"]["name"] == "Done" and spec["Points"]["number"] == 3
    assert spec["Done"]["checkbox"] is True and spec["Due"]["date"]["start"] == "2025-01-15"
    assert spec["Link"]["url"] == "https://example.com/spec"
    assert spec["Contact"]["email"] == "ada@example.com"
    assert [t["name"] for t in spec["Tags"]["multi_select"]] == ["docs"]
    assert [r["id"] for r in spec["Project"]["relation"]] == [projects["Alpha"]["id"]]
    assert text(spec["Content hash"]).startswith("sha256:")
    api = tasks["Build the API"]["properties"]
    assert api["Due"]["date"]["start"].startswith("2025-02-01T09:30:00")
    assert tasks["Draw the UI"]["properties"]["Project"]["relation"][0]["id"] == projects["Beta"]["id"]
    dropped = tasks["Draw the UI"]["id"]

    ws.edit("content/tasks.yaml", "status: Doing, points: 8", "status: Done, points: 13")
    ws.edit("content/tasks.yaml", "  - {name: Draw the UI, status: Todo, points: 5, tags: [ui, docs], project: Beta}\n",
            "  - {name: Ship it, status: Todo, points: 2, tags: [api], project: Beta}\n")
    ws.cli("plan", "--detailed-exitcode", code=2)
    ws.cli("apply", "--auto-approve", "--prune")
    ws.cli("plan", "--since", "last", "--detailed-exitcode")
    ws.cli("plan", "--prune", "--detailed-exitcode")
    tasks = ws.rows("tasks")
    assert sorted(tasks) == ["Build the API", "Ship it", "Write the spec"]
    api = tasks["Build the API"]["properties"]
    assert api["Points"]["number"] == 13 and api["Status"]["select"]["name"] == "Done"
    assert tasks["Ship it"]["properties"]["Project"]["relation"][0]["id"] == projects["Beta"]["id"]
    assert ws.client.pages.retrieve(dropped)["in_trash"] is True


MODULES = """title: Contract modules
properties:
  Module: {type: title}
  Team: {type: select, options: [core, edge]}
  Content hash: {type: rich_text}
content:
  key: Module
  hash: Content hash
  source:
    yaml: content/modules.yaml
    items: modules
    fields: {Module: name, Team: team}
"""
MODULE_ROWS = """modules:
  - {name: parser, team: core, path: src/parser}
  - {name: gateway, team: edge, path: src/gateway}
"""


def schema_lag_flow(ws: Workspace) -> None:
    """The README's schema-lag cycle: content sets a property the live database lacks; the plan
    says so; `apply --content-only` writes a new row without it and leaves the others (deferred);
    `apply` adds the property and fills it in; the next plan is empty."""
    ws.write("schemas/notion/modules.yaml", MODULES)
    ws.write("content/modules.yaml", MODULE_ROWS)
    ws.cli("apply", "--auto-approve")
    ws.edit("schemas/notion/modules.yaml", "  Team: {type: select, options: [core, edge]}\n",
            "  Team: {type: select, options: [core, edge]}\n  Path: {type: rich_text}\n")
    ws.edit("schemas/notion/modules.yaml", "Team: team}", "Team: team, Path: path}")
    ws.write("content/modules.yaml", MODULE_ROWS + "  - {name: scheduler, team: core, path: src/scheduler}\n")
    out = ws.cli("plan", "--detailed-exitcode", code=2)
    assert "Schema lag" in out and "3 rows waiting" in out, out
    out = ws.cli("apply", "--content-only", "--auto-approve")
    assert "deferred" in out, out
    assert "Path" not in ws.data_source("modules")["properties"]
    ws.cli("apply", "--auto-approve")
    ws.cli("plan", "--detailed-exitcode")
    rows = ws.rows("modules")
    assert {name: text(p["properties"]["Path"]) for name, p in rows.items()} == \
        {"parser": "src/parser", "gateway": "src/gateway", "scheduler": "src/scheduler"}


FLOWS: dict[str, Callable[[Workspace], None]] = {
    "schema": schema_flow,
    "content": content_flow,
    "schema_lag": schema_lag_flow,
}
