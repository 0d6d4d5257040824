"""Broken content: each case gives its exact located message, and nothing is written."""

from __future__ import annotations

import json

import pytest

from content_helpers import CLOSED, DB, notion_files, json_content
from reconciler.errors import SpecError
from reconciler.project import load_project

L = 17  # line of `content:` in DB; key 18, hash 19, source 20, kind 21, fields 22
GOOD = {"content/m/a.json": json.dumps({"name": "a", "features": ["memory.fold"]})}


def man(**data) -> dict[str, str]:
    """One manifest file content/m/x.json holding `data` (indented: one key per line)."""
    return {"content/m/x.json": json.dumps(data, indent=1)}


def spec(content: str, files=None, vocab=None):
    return notion_files(content, files if files is not None else GOOD,
                        **({"vocab": vocab} if vocab else {}))


def src(kind: str, extra: str = "", fields: str = "{Module: name}") -> str:
    return f"content:\n  key: Module\n  hash: SHA\n  source:\n    {kind}\n{extra}    fields: {fields}\n"


# (id, files, exact message)
CASES = [
    ("unknown-kind", spec(src("toml: x/*.toml")),
     f"{DB}:21:5: unknown key 'toml': remove it or check its spelling"),
    ("two-kinds", spec(src("json: a/*.json\n    csv: b.csv")),
     f"{DB}:20:3: give exactly one source kind (json, yaml, markdown, "
     "markdown_sections, csv, python); found json, csv"),
    ("key-undeclared", spec(json_content().replace("key: Module", "key: Name")),
     f"{DB}:18:3: key: 'Name' is not a declared property (declared: Module, Features, Stage, "
     "Labels, SLA, Coverage, Active, Released, Owner, Site, Notes, SHA, Created, Score)"),
    ("key-wrong-type", spec(json_content().replace("key: Module", "key: Labels")),
     f"{DB}:18:3: key: 'Labels' is a multi_select property; the key must be one of: title, "
     "rich_text, number, select, status, url, email, phone_number"),
    ("hash-wrong-type", spec(json_content().replace("hash: SHA", "hash: SLA")),
     f"{DB}:19:3: hash: 'SLA' is a number property; the hash must be one of: rich_text"),
    ("field-undeclared", spec(json_content("{Module: name, Colour: c}")),
     f"{DB}:22:28: fields: 'Colour' is not a declared property"),
    ("field-read-only", spec(json_content("{Module: name, Created: c}")),
     f"{DB}:22:28: fields: 'Created' is a created_time property, which Notion computes: "
     "it cannot be written"),
    ("field-formula", spec(json_content("{Module: name, Score: s}")),
     f"{DB}:22:28: fields: 'Score' is a formula property, which Notion computes: it cannot be written"),
    ("field-is-hash", spec(json_content("{Module: name, SHA: sha}")),
     f"{DB}:22:28: fields: 'SHA' is the hash field, which the sync writes itself: remove it "
     "from fields"),
    ("key-not-mapped", spec(json_content("{SLA: sla}")),
     f"{DB}:20:3: fields must map the key 'Module'"),
    ("bad-path", spec(json_content("{Module: 'a..b'}")),
     f"{DB}:22:14: fields: 'Module': path 'a..b' is not a dotted path (name.name[0].name)"),
    ("special-on-json", spec(json_content("{Module: $body}")),
     f"{DB}:22:14: fields: 'Module': $body is not available for a json source"),
    ("no-files", spec(json_content(glob="content/none/*.json")),
     f"{DB}:21:5: no files match content/none/*.json"),
    ("outside-root", spec(json_content(glob="../*.json")),
     f"{DB}:21:5: '../*.json': source paths are relative to the project root and stay inside it"),
    ("bad-json", spec(json_content(), {"content/m/x.json": '{"name": "a",\n "sla": }\n'}),
     "content/m/x.json:2:9: invalid JSON: Expecting value"),
    ("bad-yaml", spec(src("yaml: r/*.yaml"), {"r/x.yaml": "name: [a\n"}),
     "r/x.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>': fix the YAML "
     "syntax there"),
    ("missing-key", spec(json_content(), man(sla={"p95_ms": 1})),
     "content/m/x.json:1:1: row: no value for the key 'Module' (path 'name')"),
    ("duplicate-key", spec(json_content(), {"content/m/a.json": '{"name": "a"}',
                                            "content/m/b.json": '{\n "name": "a"\n}'}),
     "content/m/b.json:2:10: duplicate key 'a' (first in content/m/a.json:1): keys must be unique"),
    ("number-type", spec(json_content("{Module: name, Coverage: coverage}"),
                         man(name="m", coverage="high")),
     "content/m/x.json:3:14: row 'm': Coverage expects a number, got 'high'"),
    ("checkbox-type", spec(json_content("{Module: name, Active: on}"), man(name="m", on="maybe")),
     "content/m/x.json:3:8: row 'm': Active expects true or false, got 'maybe'"),
    ("multi-select-string", spec(json_content("{Module: name, Labels: l}"), man(name="m", l="a, b")),
     "content/m/x.json:3:7: row 'm': Labels option name 'a, b' contains a comma, which Notion "
     "refuses (Notion API \"Property object\", developers.notion.com/reference/property-object): "
     "remove the comma (to cut text into options, give the field "
     "`split: ','`)"),
    ("option-comma", spec(json_content("{Module: name, Labels: l}"), man(name="m", l=["a,b"])),
     "content/m/x.json:3:7: row 'm': Labels option name 'a,b' contains a comma, which Notion "
     "refuses (Notion API \"Property object\", developers.notion.com/reference/property-object): "
     "remove the comma (to cut text into options, give the field "
     "`split: ','`)"),
    ("option-too-long", spec(json_content("{Module: name, Labels: l}"), man(name="m", l=["x" * 101])),
     "content/m/x.json:3:7: row 'm': Labels option name is 101 characters long: Notion allows "
     "at most 100 (its API answers a longer one with `name.length should be ≤ 100`)"),
    ("date-type", spec(json_content("{Module: name, Released: d}"), man(name="m", d="next week")),
     "content/m/x.json:3:7: row 'm': Released expects a date (ISO, or a full date written in en), "
     "got 'next week': declare its language in `languages:` or write YYYY-MM-DD"),
    ("bad-default", spec(json_content("{Module: name, SLA: {path: s, default: abc}}"), man(name="m")),
     f"{DB}:22:43: default: SLA expects a number, got 'abc'"),
    ("people-type", spec(json_content("{Module: name, Owner: o}"), man(name="m", o="ada")),
     "content/m/x.json:3:7: row 'm': Owner expects e-mail addresses (one or a list), got 'ada'"),
    ("closed-option", spec(json_content("{Module: name, Stage: s}"), man(name="m", s="GA")),
     "content/m/x.json:3:7: row 'm': Stage value 'GA' is not in its options: add it to the "
     "property's options or fix the value; did you mean 'ga'?"),
    ("closed-vocabulary", spec(json_content("{Module: name, Features: f}"),
                               man(name="m", f=["memory.fold", "telepathy"]), vocab=CLOSED),
     "content/m/x.json:3:7: row 'm': Features value 'telepathy' is not in vocabulary 'features' "
     "(closed): add it to schemas/vocab/features.yaml or fix the value"),
    ("items-not-list", spec(json_content(extra="    items: modules\n"), man(modules={"a": 1})),
     "content/m/x.json:2:2: items: 'modules' is a dict, not a list"),
    ("csv-unknown-column", spec(src("csv: d.csv"), {"d.csv": "id,x\n1,2\n"}),
     f"{DB}:22:14: fields: 'Module' names column 'name', which d.csv does not have (columns: id, x)"),
    ("bad-heading-regex", spec(src("markdown_sections: {files: a.md, heading: '(('}")),
     f"{DB}:21:38: invalid regular expression '((': missing ), unterminated subpattern at position 1"),
    ("no-sections", spec(src("markdown_sections: {files: a.md, heading: '^## (X)'}",
                             fields="{Module: $heading.1}"), {"a.md": "# nothing\n"}),
     "a.md:1:1: no line matches the heading pattern '^## (X)': no rows in this file"),
    ("front-matter-unclosed", spec(src("markdown: d/*.md"), {"d/a.md": "---\nname: a\n"}),
     "d/a.md:1:1: front matter opened with '---' is never closed: add a line '---' after it"),
    ("python-import-error", spec(src("python: no_such_module_xyz:rows")),
     f"{DB}:21:5: python: no_such_module_xyz:rows failed: ModuleNotFoundError: No module named "
     "'no_such_module_xyz'"),
    ("python-raises", spec(src("python: gen_bad_mod:rows"),
                           {"gen_bad_mod.py": "def rows():\n    raise RuntimeError('boom')\n"}),
     f"{DB}:21:5: python: gen_bad_mod:rows failed at gen_bad_mod.py:2: RuntimeError: boom"),
]


@pytest.mark.parametrize("files,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_content_is_located_and_nothing_is_written(make_project, listing, files, message):
    root = make_project(files)
    before = listing(root)
    with pytest.raises(SpecError) as err:
        load_project(root, env={})
    assert message in [str(p) for p in err.value.problems], str(err.value)
    assert listing(root) == before


def test_every_problem_of_every_row_is_reported_at_once(make_project):
    files = spec(json_content("{Module: name, SLA: s, Active: a}"),
                 {"content/m/a.json": '{"name": "a", "s": "x"}',
                  "content/m/b.json": '{"name": "b", "a": 3}'})
    with pytest.raises(SpecError) as err:
        load_project(make_project(files), env={})
    assert [p.message for p in err.value.problems] == [
        "row 'a': SLA expects a number, got 'x'", "row 'b': Active expects true or false, got 3"]


def test_a_row_with_several_problems_reports_each_of_them(make_project):
    """QA: a row with a bad date, an option outside the select's options and a duplicate key
    showed only its date error. Every problem of every row comes in one run, the duplicate
    naming the line of the first row's key (not the front matter's `---`)."""
    fields = "{Module: name, Released: when, Stage: stage}"
    files = spec(src("markdown: d/*.md", fields=fields),
                 {"d/a.md": "---\nname: x\nstage: beta\n---\n",
                  "d/b.md": "---\nwhen: next week\nstage: nope\nname: x\n---\n"})
    with pytest.raises(SpecError) as err:
        load_project(make_project(files), env={})
    assert [str(p) for p in err.value.problems] == [
        "d/b.md:2:7: row 'x': Released expects a date (ISO, or a full date written in en), got "
        "'next week': declare its language in `languages:` or write YYYY-MM-DD",
        "d/b.md:3:8: row 'x': Stage value 'nope' is not in its options: add it to the "
        "property's options or fix the value",
        "d/b.md:4:7: duplicate key 'x' (first in d/a.md:2): keys must be unique"]
