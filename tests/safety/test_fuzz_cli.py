"""Fuzzing the CLI with hostile files (issue 9, point 2): YAML spec files, content files and plan
files made of YAML fragments, anchors and aliases (recursive ones and bombs), huge numbers and
broken syntax. Whatever the input: exit code 0 or 1, no traceback, nothing written.

Examples are bounded (`max_examples`) so the whole file runs in a few seconds in CI.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.plan.model import FORMAT_VERSION
from tests.conftest import write_files
from tests.safety.conftest import snapshot

runner = CliRunner()
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

BASE = {
    "reconciler.yaml": "supabase: {}\n",
    "schemas/vocab/tags.yaml": "options: [alpha, beta]\n",
    "schemas/notion/projects.yaml": "title: Projects\nproperties:\n  Name: {type: title}\n",
}
TASKS = ("title: Tasks\nproperties:\n  Name: {type: title}\n  Est: {type: number}\n"
         "  Notes: {type: rich_text}\n  SHA: {type: rich_text}\n"
         "  F: {type: formula, expression: 'prop(\"Est\") * 2'}\n"
         "content:\n  key: Name\n  hash: SHA\n  source:\n    %s: content/t/*.%s\n"
         "    fields: {Name: name, Est: est, Notes: notes}\n")

SCALARS = st.sampled_from([
    "a", "'q'", '"dq"', "1", "-7", "1e400", "9" * 400, "9" * 5000, "null", "~", "true", "{}",
    "[]", "!!str 3", "!!binary aGk=", "&x 1", "*x", "*missing", "\t", "\x00", "é", "'", '"',
    "prop(\"Est\") *", "{{", "${NOPE}", "2026-01-01", ": :", "- -", "? k", "<<: *x",
])
KEYS = st.sampled_from(["title", "properties", "Name", "type", "expression", "name", "est",
                        "notes", "format_version", "header", "changes", "content", "a", "b"])


@st.composite
def yaml_texts(draw) -> str:
    """Lines of YAML-like text: mappings, lists, anchors and aliases (also recursive ones and
    a bomb of nested aliases), and raw scalars; often broken, sometimes valid."""
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        indent = "  " * draw(st.integers(0, 2))
        shape = draw(st.sampled_from(["map", "list", "anchor", "flow", "raw"]))
        key, value = draw(KEYS), draw(SCALARS)
        lines.append(indent + {"map": f"{key}: {value}", "list": f"- {value}",
                               "anchor": f"{key}: &{key} [*{key}, {value}]",
                               "flow": f"{key}: {{a: {value}, b: [{value}]}}",
                               "raw": value}[shape])
    if draw(st.booleans()):
        lines.append("a0: &a0 [x, x, x, x, x, x, x, x, x, x]")
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n---\n", "\n..."]))


def _run_clean(argv: list[str], root: Path) -> None:
    before = snapshot(root)
    result = runner.invoke(app, argv)
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    assert snapshot(root) == before
    assert not (root / ".reconciler").exists()


@SETTINGS
@given(text=yaml_texts())
def test_a_fuzzed_spec_file_fails_cleanly(tmp_path_factory, text):
    root = write_files(tmp_path_factory.mktemp("spec"), {**BASE, "schemas/notion/tasks.yaml": text})
    _run_clean(["validate", "--dir", str(root)], root)


@SETTINGS
@given(kind=st.sampled_from(["yaml", "json", "md"]), text=yaml_texts())
def test_a_fuzzed_content_file_fails_cleanly(tmp_path_factory, kind, text):
    source = {"yaml": "yaml", "json": "json", "md": "markdown"}[kind]
    body = f"---\n{text}\n---\nbody\n" if kind == "md" else text
    root = write_files(tmp_path_factory.mktemp("content"), {
        **BASE, "schemas/notion/tasks.yaml": TASKS % (source, kind), f"content/t/a.{kind}": body})
    _run_clean(["validate", "--dir", str(root)], root)


@SETTINGS
@given(text=yaml_texts(), header=st.sampled_from(["", f"format_version: {FORMAT_VERSION}\n",
                                                  f"format_version: {FORMAT_VERSION}\nheader: {{}}\n"]))
def test_a_fuzzed_plan_file_fails_cleanly(tmp_path_factory, text, header):
    root = write_files(tmp_path_factory.mktemp("plan"), {**BASE, "plan.yaml": header + text})
    before = snapshot(root)
    shown = runner.invoke(app, ["show", str(root / "plan.yaml"), "--format", "json"])
    assert shown.exit_code in (0, 1) and "Traceback" not in shown.output, shown.output
    assert shown.exception is None or isinstance(shown.exception, SystemExit)
    assert snapshot(root) == before
    if shown.exit_code == 1:  # a plan show refuses, apply refuses before reading anything
        _run_clean(["apply", str(root / "plan.yaml"), "--dir", str(root), "--auto-approve"], root)
