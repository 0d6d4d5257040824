"""`reconciler init` and the GitHub Actions workflow it writes.

The workflow cannot run here (no GitHub): its structure is checked (triggers, jobs, steps,
secrets, the one updated PR comment, the artifact handed from the PR to the merge) and every
`reconciler` command line in it is parsed by the real CLI, so it keeps to the CLI's flags."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from ruamel.yaml import YAML

from reconciler.cli import app
from reconciler.scaffold import GITIGNORE, WORKFLOW, workflow_text
from tests.conftest import REPO
from tests.ops.conftest import cli


def test_init_writes_a_project_that_validates_and_says_what_next(tmp_path: Path):
    root = tmp_path / "new"
    out = cli("init", str(root)).output
    for rel in ("reconciler.yaml", ".env.example", WORKFLOW, "schemas/notion/.gitkeep",
                "schemas/supabase/.gitkeep", "schemas/vocab/.gitkeep", "plans/.gitkeep",
                "schemas/.schema/notion-database.schema.json", ".gitignore"):
        assert (root / rel).is_file(), rel
        assert f"wrote {rel}" in out
    assert "reconciler import" in out and "reconciler doctor" in out
    assert "${NOTION_PARENT_PAGE_ID" in (root / "reconciler.yaml").read_text()
    assert set(GITIGNORE) <= set((root / ".gitignore").read_text().splitlines())
    assert "NOTION_TOKEN=" in (root / ".env.example").read_text()
    assert "The spec is valid: 0 Notion databases" in cli("validate", "--dir", str(root)).output


def test_init_never_overwrites_and_keeps_an_existing_gitignore(tmp_path: Path):
    (tmp_path / ".gitignore").write_text("node_modules/\n.env")
    cli("init", str(tmp_path))
    assert (tmp_path / ".gitignore").read_text() == \
        "node_modules/\n.env\n# reconciler: local state and secrets\n.reconciler/\n"
    (tmp_path / "reconciler.yaml").write_text("notion: {}\n")
    (tmp_path / ".env.example").unlink()
    result = cli("init", str(tmp_path), code=1)
    assert "reconciler.yaml" in result.output and "never overwrites" in result.output
    assert (tmp_path / "reconciler.yaml").read_text() == "notion: {}\n"
    assert not (tmp_path / ".env.example").exists()  # nothing written at all
    assert "is a file" in cli("init", str(tmp_path / "reconciler.yaml"), code=1).output


# --- the workflow ----------------------------------------------------------------------------


def _workflow(text: str) -> dict:
    return YAML(typ="safe").load(text)  # libyaml when installed: the pure parser took 1.5 s here


@pytest.fixture(params=["scaffold", "repository"])
def workflow(request, tmp_path: Path) -> dict:
    if request.param == "repository":
        text = (REPO / WORKFLOW).read_text()
        assert text == workflow_text(install="."), "regenerate it from reconciler.scaffold"
    else:
        cli("init", str(tmp_path))
        text = (tmp_path / WORKFLOW).read_text()
    return _workflow(text)


def _commands(workflow: dict) -> list[list[str]]:
    """Every `reconciler …` command of the workflow's `run:` scripts, split like a shell."""
    found = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                line = re.sub(r"\$\{\{[^}]*\}\}", "", line).split(">")[0].strip()
                if line.startswith("reconciler "):
                    found.append(shlex.split(line)[1:])
    return found


SECRETS = {"NOTION_TOKEN": "${{ secrets.NOTION_TOKEN }}",
           "NOTION_PARENT_PAGE_ID": "${{ secrets.NOTION_PARENT_PAGE_ID }}",
           "DATABASE_URL": "${{ secrets.DATABASE_URL }}",
           # the digest key of sensitive values: the plan job and the apply job share it
           "RECONCILER_DIGEST_KEY": "${{ secrets.RECONCILER_DIGEST_KEY }}"}


def _step(job: dict, needle: str) -> dict:
    """The one step of `job` whose `uses:`, `run:` or `name:` holds `needle`."""
    (found,) = [s for s in job["steps"]
                if needle in s.get("uses", "") + s.get("run", "") + s.get("name", "")]
    return found


def test_workflow_triggers_and_jobs(workflow: dict):
    on = workflow["on"]
    assert {"pull_request", "push", "schedule", "workflow_dispatch"} <= set(on)
    assert on["push"]["branches"] == ["main"] and on["schedule"][0]["cron"]
    # a label added or removed after review re-plans: the plan records it
    assert {"labeled", "unlabeled", "synchronize"} <= set(on["pull_request"]["types"])
    assert set(on["workflow_dispatch"]["inputs"]["task"]["options"]) == {"drift", "plan-main"}
    jobs = workflow["jobs"]
    assert set(jobs) == {"plan", "apply", "plan-main", "apply-main", "drift"}
    assert jobs["plan"]["if"] == "github.event_name == 'pull_request'"
    assert jobs["apply"]["if"] == "github.event_name == 'push'"
    assert "schedule" in jobs["drift"]["if"] and "inputs.task == 'drift'" in jobs["drift"]["if"]
    assert "inputs.task == 'plan-main'" in jobs["plan-main"]["if"]
    for name, job in jobs.items():
        assert job["runs-on"] and job["steps"], name
        assert all(("uses" in s) != ("run" in s) for s in job["steps"]), name


def test_secrets_reach_only_the_steps_that_run_the_reconciler(workflow: dict):
    """Not the workflow or a job (pip installs and third-party actions would see them): each
    step running `reconciler plan|apply|validate` gets them, `show` (a saved file) does not."""
    assert "secrets." not in str(workflow.get("env", {}))
    for name, job in workflow["jobs"].items():
        assert "secrets." not in str(job.get("env", {})), name
        for step in job["steps"]:
            run, env = step.get("run", ""), step.get("env", {})
            live = re.search(r"^\s*reconciler (plan|apply|validate)\b", run, re.M)
            if live:
                assert {k: v for k, v in env.items() if "secrets." in v} == SECRETS, (name, run)
            else:
                assert "secrets." not in str(env) + str(step.get("with", {})), (name, step)


def test_each_job_has_its_own_permissions_and_nothing_is_granted_workflow_wide(workflow: dict):
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert jobs["apply"]["permissions"] == {"contents": "read", "actions": "read",
                                            "pull-requests": "read"}
    assert jobs["drift"]["permissions"] == {"contents": "read", "issues": "write"}
    assert jobs["plan-main"]["permissions"] == {"contents": "read"}
    assert jobs["apply-main"]["permissions"] == {"contents": "read"}


def test_concurrency_groups_keep_pull_requests_applies_and_drift_apart(workflow: dict):
    """GitHub keeps one pending run per group and cancels the older pending one: a pull request
    is keyed on its number (not its branch, which could be named like another group), the
    applies queue together, and the daily drift check can never cancel a waiting apply."""
    assert "concurrency" not in workflow
    groups = {name: job["concurrency"] for name, job in workflow["jobs"].items()}
    assert groups["plan"] == {"group": "reconciler-pr-${{ github.event.pull_request.number }}",
                              "cancel-in-progress": True}
    assert groups["apply"] == groups["apply-main"] == {"group": "reconciler-apply",
                                                       "cancel-in-progress": False}
    assert groups["drift"]["group"] == "reconciler-drift"
    assert groups["plan-main"]["group"] == "reconciler-plan-main"
    assert len({g["group"] for g in groups.values()}) == 4


def test_workflow_posts_one_comment_and_applies_the_reviewed_plan(workflow: dict):
    plan = workflow["jobs"]["plan"]
    script = _step(plan, "github-script")["with"]["script"]
    assert "<!-- reconciler-plan -->" in script and "updateComment" in script
    assert "c.user.login === 'github-actions[bot]'" in script  # not anyone's comment with the marker
    upload = _step(plan, "upload-artifact")
    assert upload["with"]["path"].split() == ["plans/reviewed.yaml", "plans/allow-destroy"]
    assert upload["with"]["overwrite"] is True  # a re-run replaces its plan
    recorded = _step(plan, "plans/allow-destroy")
    assert "contains(github.event.pull_request.labels.*.name, 'reconciler:allow-destroy')" in \
        recorded["env"]["ALLOW_DESTROY"]
    apply = workflow["jobs"]["apply"]
    download = _step(apply, "download-artifact")
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["run-id"] == "${{ steps.reviewed.outputs.run_id }}"
    found = _step(apply, "github-script")["with"]["script"]
    assert "expired" in found and "plan-main" in found and "pr.labels" not in found
    # the destroy flag is the one recorded with the plan, never the label at merge time
    assert "cat plans/allow-destroy" in _step(apply, "--allow-destroy")["run"]
    assert "failure()" == _step(apply, "GITHUB_STEP_SUMMARY")["if"]
    applied = [c for c in _commands(workflow) if c[0] == "apply"]
    assert applied == [["apply", "plans/reviewed.yaml", "--auto-approve"]] * 2


def test_plan_main_shows_the_plan_and_apply_main_applies_it_after_approval(workflow: dict):
    plan_main, apply_main = workflow["jobs"]["plan-main"], workflow["jobs"]["apply-main"]
    assert "reconciler plan --out plans/reviewed.yaml" in _step(plan_main, "reconciler plan")["run"]
    assert "GITHUB_STEP_SUMMARY" in _step(plan_main, "reconciler show")["run"]
    upload = _step(plan_main, "upload-artifact")
    assert "plans/allow-destroy" in upload["with"]["path"] and upload["with"]["overwrite"] is True
    assert _step(plan_main, "ALLOW_DESTROY")["env"]["ALLOW_DESTROY"] == \
        "${{ inputs.allow-destroy }}"
    assert apply_main["needs"] == "plan-main" and apply_main["environment"] == "reconciler-live"
    download = _step(apply_main, "download-artifact")
    assert download["with"]["name"] == upload["with"]["name"] and "run-id" not in download["with"]
    assert "cat plans/allow-destroy" in _step(apply_main, "--allow-destroy")["run"]


def test_the_drift_issue_is_closed_not_repeated_and_says_when_the_check_failed(workflow: dict):
    drift = workflow["jobs"]["drift"]
    script = _step(drift, "github-script")["with"]["script"]
    assert "issues.create(" in script and "state: 'closed'" in script
    assert "code === '0'" in script  # a later clean check closes it
    assert "only two-way sync row flows" in script and "ONLY_SYNC" in script
    assert "the same drift is not said twice" in script and "check failed" in script
    failing = _step(drift, "Fail when")  # exit 1: the job fails too
    assert failing["if"] == "steps.plan.outputs.exitcode == '1'" and "exit 1" in failing["run"]


def test_the_workflows_scripts_are_valid_javascript(workflow: dict, tmp_path: Path):
    import shutil
    import subprocess

    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    for name, job in workflow["jobs"].items():
        for i, step in enumerate(job["steps"]):
            if "github-script" in step.get("uses", ""):
                path = tmp_path / f"{name}-{i}.js"
                path.write_text("(async () => {\n" + step["with"]["script"] + "\n})();\n")
                result = subprocess.run([node, "--check", str(path)], capture_output=True,
                                        text=True)
                assert result.returncode == 0, (name, result.stderr)


def test_every_reconciler_command_in_the_workflow_parses_with_the_real_cli(workflow: dict):
    group = typer.main.get_command(app)
    commands = _commands(workflow)
    assert {c[0] for c in commands} == {"validate", "plan", "show", "apply"}
    for args in commands:
        ctx = group.make_context("reconciler", list(args), resilient_parsing=False)
        name, command, rest = group.resolve_command(ctx, list(args))
        try:
            command.make_context(name, rest, parent=ctx)
        except Exception as exc:  # noqa: BLE001  (click's UsageError: an unknown option or argument)
            pytest.fail(f"reconciler {' '.join(args)}: {exc}")
    assert ["plan", "--detailed-exitcode", "--out", "plans/drift.yaml"] in commands
    assert ["show", "plans/reviewed.yaml", "--format", "markdown"] in commands
    assert ["show", "plans/drift.yaml", "--format", "json"] in commands


def test_init_gives_the_project_an_id_for_the_apply_lock(tmp_path):
    """Every clone of the project shares its `project_id`: the apply lock on a database is keyed
    by it (issue 12, bug 5). Two projects made by init get two ids."""
    from reconciler.project.loader import load_project
    from reconciler.scaffold import scaffold

    scaffold(tmp_path / "a")
    scaffold(tmp_path / "b")
    ids = [load_project(tmp_path / name, {}).config.project_id for name in ("a", "b")]
    assert all(ids) and ids[0] != ids[1]


class _Dist:
    def __init__(self, direct_url: str | None):
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        return self.direct_url if name == "direct_url.json" else None


@pytest.mark.parametrize(("direct_url", "install"), [
    ('{"url": "https://github.com/acme/reconciler.git", "vcs_info": {"vcs": "git", '
     '"commit_id": "0123abc", "requested_revision": "v0.1.0"}}',
     "git+https://github.com/acme/reconciler.git@0123abc"),
    ('{"url": "https://example.com/reconciler-0.1.0-py3-none-any.whl", "archive_info": {}}',
     "https://example.com/reconciler-0.1.0-py3-none-any.whl"),
    ('{"url": "https://me:ghp_secret@github.com/acme/reconciler.git", "vcs_info": {"vcs": '
     '"git", "commit_id": "0123abc"}}', "git+https://github.com/acme/reconciler.git@0123abc"),
    ('{"url": "file:///home/me/reconciler", "dir_info": {"editable": true}}', ""),
    (None, ""),  # from a package index: PyPI's `reconciler` is another project
])
def test_the_workflow_installs_what_runs_here_never_pypis_namesake(monkeypatch, direct_url, install):
    from importlib import metadata

    import reconciler.scaffold as scaffold

    monkeypatch.setattr(metadata, "distribution", lambda name: _Dist(direct_url))
    assert scaffold.install_source() == install
    text = scaffold.workflow_text()
    assert f'RECONCILER_INSTALL: "{install}"' in text and "reconciler==" not in text


def test_init_says_to_set_the_install_line_when_it_cannot_tell(tmp_path: Path):
    out = cli("init", str(tmp_path / "p")).output  # the tests run from an editable install
    assert "set RECONCILER_INSTALL in .github/workflows/reconciler.yml" in out
    text = (tmp_path / "p" / WORKFLOW).read_text()
    assert 'RECONCILER_INSTALL: ""' in text and "Set RECONCILER_INSTALL to how CI installs" in text


def test_the_readme_s_scheduled_sync_job_parses_with_the_real_cli():
    """README "Drift in CI" shows a scheduled job running the two-way sync per table."""
    text = (REPO / "README.md").read_text()
    section = text.split("### Drift in CI", 1)[1].split("\n## ", 1)[0]
    (line,) = [ln for ln in section.splitlines() if "- run: reconciler " in ln]
    args = shlex.split(line.split("- run: reconciler ", 1)[1])
    assert args[0] == "apply" and "--target" in args
    group = typer.main.get_command(app)
    ctx = group.make_context("reconciler", list(args))
    name, command, rest = group.resolve_command(ctx, list(args))
    command.make_context(name, rest, parent=ctx)
    assert "Require\nbranches to be up to date before merging" in section
    assert "plan-main" in section and "one *pending* run per\ngroup" in section
