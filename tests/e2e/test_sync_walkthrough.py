"""The README's two-way walkthrough, run as written on the bundled project (issue 11, "Done
when"): an edit in Postgres with SQL and one through the local Notion, a plan with both flows
and a conflict, an apply that converges, and an empty next plan."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from tests.cli_runner import CliRunner

from reconciler.cli import app
from tests.conftest import REPO

runner = CliRunner()


def walkthrough() -> list[str]:
    """The commands of the README's walkthrough block: shell lines and one python heredoc."""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"The two-way walkthrough.*?```bash\n(.*?)```", readme, re.S).group(1)
    steps, lines = [], iter(block.splitlines())
    for line in lines:
        if line.startswith("python - <<'EOF'"):
            body = []
            for inner in lines:
                if inner == "EOF":
                    break
                body.append(inner)
            steps.append("\n".join(body))
        elif line.strip():
            steps.append(line.split("  #")[0].strip())
    return steps


def test_the_readme_walkthrough_shows_both_flows_and_a_conflict_then_converges(
        example_project: Path, monkeypatch):
    monkeypatch.chdir(example_project)
    steps = walkthrough()
    assert [s.split()[:2] for s in steps if s.startswith("reconciler")] == [
        ["reconciler", "apply"], ["reconciler", "local"], ["reconciler", "plan"],
        ["reconciler", "apply"], ["reconciler", "plan"]]
    outputs = []
    for step in steps:
        if not step.startswith("reconciler"):
            exec(compile(step, "README.md", "exec"), {})  # noqa: S102 - the README's own code
            continue
        argv = shlex.split(step)[1:]
        if argv[0] == "plan" and "--detailed-exitcode" not in argv:
            argv += ["--out", "plans/walkthrough.yaml"]
        result = runner.invoke(app, argv, catch_exceptions=False, env=dict(os.environ))
        outputs.append(result)
        assert result.exit_code == 0, (step, result.output)
    doc = json.loads(runner.invoke(app, ["show", "plans/walkthrough.yaml", "--format",
                                         "json"]).output)
    moved = {c["kind"]: sorted(c["after"]["values"]) for c in doc["changes"]
             if c["kind"] in ("update_page", "update_row")}
    assert moved == {"update_page": ["Priority"], "update_row": ["assigned_to", "status"]}
    (conflict,) = doc["sync"]["supabase.public.tasks"]["conflicts"]
    assert (conflict["field"], conflict["notion"], conflict["supabase"], conflict["resolution"]) \
        == ("status", "In Progress", "Done", "notion")
    assert "conflict supabase.public.tasks.row" in outputs[2].output
