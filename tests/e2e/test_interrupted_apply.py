"""An apply killed after any number of API calls, then run again, converges: no duplicate page,
no lost row, no half-applied schema left unreported. The local Notion runs with a search lag
longer than the test (NOTION-API.md §1.5: search is eventually consistent), so a database whose
create was cut off is found again without the search index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import notion_client
import pytest
from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.conftest import REPO
from tests.e2e import kills

runner = CliRunner()
MODULES = ("memory", "identity", "consciousness")
SEARCH_LAG = "search_lag=3600"


def small_project(root: Path) -> Path:
    """reconciler.yaml, the vocabularies, LUKHAS Modules and three of its manifests."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    shutil.copytree(REPO / "schemas" / "vocab", root / "schemas" / "vocab")
    (root / "schemas" / "notion").mkdir()
    shutil.copy(REPO / "schemas" / "notion" / "lukhas_modules.yaml", root / "schemas" / "notion")
    (root / "content" / "modules").mkdir(parents=True)
    for name in MODULES:
        shutil.copy(REPO / "content" / "modules" / f"{name}.module.manifest.json",
                    root / "content" / "modules")
    return root


def apply(root: Path, *extra: str):
    return runner.invoke(app, ["apply", *extra, "--auto-approve", "--dir", str(root)])


def count_calls(monkeypatch, root: Path) -> int:
    def applied() -> None:
        result = apply(root)
        assert result.exit_code == 0, result.output

    return kills.count_calls(monkeypatch, applied)


def check_converged(root: Path) -> None:
    from reconciler.local import local_client

    result = runner.invoke(app, ["plan", "--detailed-exitcode", "--dir", str(root)])
    assert result.exit_code == 0, result.output
    state = json.loads((root / ".reconciler" / "state.json").read_text())
    (target,) = state["notion"].values()
    client = local_client(root / ".reconciler" / "notion")
    found = client.search(query="LUKHAS Modules",
                          filter={"property": "object", "value": "data_source"})["results"]
    assert len(found) == 1, "exactly one database"  # this client has no search lag: it sees all
    ds = target["databases"]["lukhas_modules"]["data_source_id"]
    rows = notion_client.helpers.collect_paginated_api(client.data_sources.query,
                                                       data_source_id=ds)
    keys = [r["properties"]["Module"]["title"][0]["plain_text"] for r in rows]
    assert sorted(keys) == sorted(MODULES), "no duplicate, no lost row"


@pytest.fixture(scope="module")
def total_calls(tmp_path_factory) -> int:
    mp = pytest.MonkeyPatch()
    mp.setenv("RECONCILER_FAULTS", SEARCH_LAG)
    try:
        return count_calls(mp, small_project(tmp_path_factory.mktemp("count") / "w"))
    finally:
        mp.undo()


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-send", "after-commit"])
def test_killed_after_every_number_of_calls_then_rerun_converges(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, total_calls: int, after_commit: bool):
    assert total_calls > 5
    monkeypatch.setenv("RECONCILER_FAULTS", SEARCH_LAG)
    for calls in range(total_calls):
        root = small_project(tmp_path / f"{calls}")
        kills.kill_after(monkeypatch, calls, after_commit=after_commit)
        with pytest.raises(kills.Killed):
            runner.invoke(app, ["apply", "--auto-approve", "--dir", str(root)],
                          catch_exceptions=False)
        monkeypatch.undo()
        monkeypatch.setenv("RECONCILER_FAULTS", SEARCH_LAG)
        began = (root / ".reconciler" / "journal.ndjson").exists()
        rerun = apply(root)
        assert rerun.exit_code == 0, (calls, rerun.output)
        if began:  # killed while applying (not while planning): the rerun says what it found
            assert "stopped after" in rerun.output
        check_converged(root)


def test_rerunning_the_saved_plan_finishes_the_interrupted_job(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RECONCILER_FAULTS", SEARCH_LAG)
    root = small_project(tmp_path / "w")
    out = root / "plans" / "x.yaml"
    assert runner.invoke(app, ["plan", "--out", str(out), "--dir", str(root)]).exit_code == 0
    kills.kill_after(monkeypatch, 6, after_commit=True)
    with pytest.raises(kills.Killed):
        runner.invoke(app, ["apply", str(out), "--auto-approve", "--dir", str(root)],
                      catch_exceptions=False)
    monkeypatch.undo()
    monkeypatch.setenv("RECONCILER_FAULTS", SEARCH_LAG)
    rerun = runner.invoke(app, ["apply", str(out), "--auto-approve", "--dir", str(root)])
    assert rerun.exit_code == 0, rerun.output
    assert "stopped after" in rerun.output and "Finishing the interrupted apply" in rerun.output
    check_converged(root)


def test_an_apply_that_fails_part_way_says_what_was_done_and_the_rerun_finishes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Notion refuses one page create (a 400 no check could foresee): the error names it, counts
    what was applied and what was not attempted, and `apply` again finishes the job."""
    from notion_client import APIResponseError
    import httpx

    root = small_project(tmp_path / "w")
    original = notion_client.Client.request

    def refuse_identity(self, path, method, query=None, body=None, **kwargs):
        title = ((body or {}).get("properties") or {}).get("Module", {}).get("title") or [{}]
        if method == "POST" and path == "pages" and \
                title[0].get("text", {}).get("content") == "identity":
            raise APIResponseError("validation_error", 400, "body failed validation",
                                   httpx.Headers(), "{}")
        return original(self, path, method, query, body, **kwargs)

    monkeypatch.setattr(notion_client.Client, "request", refuse_identity)
    failed = apply(root)
    assert failed.exit_code == 1
    message = failed.stderr
    assert 'notion.lukhas_modules.page["identity"]' in message
    assert "applied" in message and "1 failed" in message and "not attempted" in message
    assert "run `reconciler apply` again" in message
    assert message.count("change(s) were applied before it") == 0
    monkeypatch.setattr(notion_client.Client, "request", original)
    rerun = apply(root)
    assert rerun.exit_code == 0, rerun.output
    assert "stopped after" in rerun.output
    check_converged(root)
