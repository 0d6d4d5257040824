"""Each source kind parses into the expected SourceRows, values in content normal form."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from content_helpers import DB, notion_files, json_content
from reconciler.errors import SpecError
from reconciler.project import load_project

MANIFEST = {"name": "memory", "features": ["memory.fold"], "sla": {"p95_ms": "120"},
            "coverage": 0.91, "stage": "beta", "active": "yes", "released": "2025-10-03",
            "owner": "ada@example.com", "notes": ["GET /a", "POST /b"]}
ALL_FIELDS = ("{Module: name, Features: features, SLA: sla.p95_ms, Coverage: coverage, "
              "Stage: stage, Active: active, Released: released, Owner: owner, Notes: notes, "
              "Site: {path: site, default: 'https://example.com'}}")


def rows(root):
    (content,) = load_project(root, env={}).content
    return content


def test_json_manifests_one_file_one_row(make_project):
    root = make_project(notion_files(json_content(ALL_FIELDS), {
        "content/m/memory.json": json.dumps(MANIFEST, indent=2),
        "content/m/identity.json": json.dumps({"name": "identity", "sla": {"p95_ms": 80}})}))
    content = rows(root)
    assert (content.address, content.key, content.hash_field) == ("notion.modules", "Module", "SHA")
    assert content.spec == f"{DB}:17"
    assert [r.key for r in content.rows] == ["identity", "memory"]  # files in sorted order
    memory = content.rows[1]
    assert memory.source == "content/m/memory.json"
    assert memory.values == {
        "Module": "memory", "Features": ("memory.fold",), "SLA": 120, "Coverage": 0.91,
        "Stage": "beta", "Active": True, "Released": {"start": "2025-10-03"},
        "Owner": ("ada@example.com",), "Notes": "GET /a\nPOST /b", "Site": "https://example.com"}
    assert content.rows[0].values["Features"] == () and content.rows[0].values["Active"] is False


def test_yaml_items_each_element_is_a_row_with_its_line(make_project):
    text = "modules:\n  - name: a\n    sla: {p95_ms: 1}\n  - name: b\n    sla: {p95_ms: 2.5}\n"
    root = make_project(notion_files(
        json_content("{Module: name, SLA: 'sla.p95_ms'}", extra="    items: modules\n")
        .replace("json: content/m/*.json", "yaml: content/all.yaml"), {"content/all.yaml": text}))
    content = rows(root)
    assert [(r.key, r.values["SLA"], r.source) for r in content.rows] == [
        ("a", 1, "content/all.yaml:2"), ("b", 2.5, "content/all.yaml:4")]


def test_markdown_front_matter_and_specials(make_project):
    md = "---\nname: memory\nstage: ga\n---\n\n# Memory\n\nFolds.\n"
    content = ("content:\n  key: Module\n  hash: SHA\n  source:\n    markdown: docs/*.md\n"
               "    fields: {Module: name, Stage: stage, Notes: $body, Site: $path}\n")
    root = make_project(notion_files(content, {"docs/memory.md": md, "docs/plain.md": "x\n"}))
    with pytest.raises(SpecError) as err:  # plain.md has no front matter, so no key
        load_project(root, env={})
    assert str(err.value) == "docs/plain.md:1:1: row: no value for the key 'Module' (path 'name')"
    (root / "docs" / "plain.md").unlink()
    (row,) = rows(root).rows
    assert row.values == {"Module": "memory", "Stage": "ga", "Site": "docs/memory.md",
                          "Notes": ({"text": "Memory", "bold": True}, {"text": "\n\nFolds."})}
    assert row.source == "docs/memory.md:1"


def test_markdown_sections_heading_groups_and_regex_fields(make_project):
    doc = ("# Points\n\nintro\n\n## LP-1: First\n**Stage**: beta\n\nBody one.\n\n"
           "## LP-2: Second\nBody two.\n")
    content = ("content:\n  key: Module\n  hash: SHA\n  source:\n    markdown_sections:\n"
               "      files: lp.md\n      heading: '^## (LP-\\d+): (.+)$'\n"
               "      fields: {Module: $heading.1, Notes: $heading.2, "
               "Stage: {path: '\\*\\*Stage\\*\\*: (.+)', default: alpha}}\n")
    root = make_project(notion_files(content, {"lp.md": doc}))
    assert [(r.key, r.values, r.source) for r in rows(root).rows] == [
        ("LP-1", {"Module": "LP-1", "Notes": "First", "Stage": "beta"}, "lp.md:5"),
        ("LP-2", {"Module": "LP-2", "Notes": "Second", "Stage": "alpha"}, "lp.md:10")]


def test_csv_lines_are_rows_and_text_is_typed(make_project):
    text = "id,sla,on,when\nm1,42,true,2025-01-02\n\nm2,,no,\n"
    content = ("content:\n  key: Module\n  hash: SHA\n  source:\n    csv: data.csv\n"
               "    fields: {Module: id, SLA: sla, Active: 'on', Released: when}\n")
    root = make_project(notion_files(content, {"data.csv": text}))
    assert [(r.key, r.values, r.source) for r in rows(root).rows] == [
        ("m1", {"Module": "m1", "SLA": 42, "Active": True, "Released": {"start": "2025-01-02"}},
         "data.csv:2"),
        ("m2", {"Module": "m2", "SLA": None, "Active": False, "Released": None}, "data.csv:4")]


def test_python_function_yields_rows(make_project):
    code = ("def rows():\n    yield {'name': 'x', 'sla': {'p95_ms': 5}}\n"
            "    yield {'name': 'y', 'labels': ('a', 'b')}\n")
    content = ("content:\n  key: Module\n  hash: SHA\n  source:\n    python: gen_rows_mod:rows\n"
               "    fields: {Module: name, SLA: sla.p95_ms, Labels: labels}\n")
    root = make_project(notion_files(content, {"gen_rows_mod.py": code}))
    assert [(r.key, r.values, r.source) for r in rows(root).rows] == [
        ("x", {"Module": "x", "SLA": 5, "Labels": ()}, "gen_rows_mod:rows#1"),
        ("y", {"Module": "y", "SLA": None, "Labels": ("a", "b")}, "gen_rows_mod:rows#2")]


def test_what_a_python_source_prints_goes_to_stderr_not_into_json_output(make_project):
    code = "def rows():\n    print('hello from the source')\n    return [{'name': 'x'}]\n"
    content = ("content:\n  key: Module\n  hash: SHA\n  source:\n    python: noisy_rows_mod:rows\n"
               "    fields: {Module: name}\n")
    root = make_project(notion_files(content, {"noisy_rows_mod.py": code}))
    result = subprocess.run([sys.executable, "-m", "reconciler", "plan", "--dir", str(root),
                             "--out", str(root / "p.yaml")], capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items()
                                 if k not in ("NOTION_TOKEN", "DATABASE_URL", "CI")}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "hello from the source" in result.stderr
    shown = subprocess.run([sys.executable, "-m", "reconciler", "show", str(root / "p.yaml"),
                            "--format", "json"], capture_output=True, text=True, timeout=60)
    assert "hello" not in result.stdout and json.loads(shown.stdout)


def test_python_rows_come_back_from_the_child_process_with_their_dates(make_project):
    """The function runs in a child process: dates and tuples survive the trip, and a module
    of the same name in another project is that project's own (no import cache shared)."""
    code = ("import datetime\ndef rows():\n"
            "    return [{'name': 'x', 'when': datetime.date(2025, 1, 2), 'labels': ('a',)}]\n")
    content = ("content:\n  key: Module\n  hash: SHA\n  source:\n    python: gen_same:rows\n"
               "    fields: {Module: name, Released: when, Labels: labels}\n")
    first = rows(make_project(notion_files(content, {"gen_same.py": code})))
    other = rows(make_project(notion_files(content, {"gen_same.py": code.replace("'x'", "'y'")})))
    assert [(r.key, r.values["Released"], r.values["Labels"]) for r in first.rows] == [
        ("x", {"start": "2025-01-02"}, ("a",))]
    assert [r.key for r in other.rows] == ["y"]


def test_supabase_table_content_typed_by_column(make_project):
    table = ("columns:\n  slug: {type: text, primary_key: true}\n  n: {type: integer}\n"
             "  ok: {type: boolean}\n  at: {type: timestamptz}\n  meta: {type: jsonb}\n"
             "  tags: {type: 'text[]'}\n  h: {type: text}\n"
             "content:\n  key: slug\n  hash: h\n  source:\n    yaml: rows/*.yaml\n"
             "    fields: {slug: slug, n: n, ok: ok, at: at, meta: meta, tags: tags}\n")
    row = "slug: a\nn: '7'\nok: yes\nat: 2025-01-02T03:04:05Z\nmeta: {x: [1]}\ntags: [p, 2]\n"
    root = make_project({"schemas/supabase/things.yaml": table, "rows/a.yaml": row})
    content = rows(root)
    assert content.address == "supabase.public.things"
    assert content.rows[0].values == {"slug": "a", "n": 7, "ok": True,
                                      "at": "2025-01-02T03:04:05+00:00", "meta": {"x": [1]},
                                      "tags": ["p", "2"]}
