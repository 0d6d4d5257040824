"""Broken specs: each gives its exact `file:line:col` and a message that says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.project import load_project

N = "schemas/notion/tasks.yaml"
P = "schemas/notion/projects.yaml"
V = "schemas/vocab/tags.yaml"
HEAD = "title: Tasks\nproperties:\n  Name: {type: title}\n"   # properties start on line 4
PROJECTS = "title: Projects\nproperties:\n  Name: {type: title}\n  Owner: {type: people}\n"


def db(*lines: str) -> dict[str, str]:
    """tasks.yaml = HEAD plus `lines` (line 4 onwards)."""
    return {N: HEAD + "".join(f"{line}\n" for line in lines)}


# (id, files, (file, line, col, phrase))
CASES = [
    ("yaml-syntax", {N: "title: Tasks\nproperties:\n  Name: {type: title\n"},
     (N, 4, 1, "invalid YAML")),
    ("duplicate-key", db("  Name: {type: rich_text}"), (N, 4, 3, "duplicate key 'Name'")),
    ("unknown-top-key", {N: "title: Tasks\ncolour: red\nproperties:\n  Name: {type: title}\n"},
     (N, 2, 1, "unknown key 'colour'")),
    ("unknown-type", db("  Due: {type: datetime}"), (N, 4, 9, "unknown property type 'datetime': did you mean date? use one of button, checkbox")),
    ("missing-type", db("  Due: {typ: date}"), (N, 4, 3, "has no type")),
    ("empty-key", db("  : {type: rich_text}"), (N, 4, 3, "a key is empty: write a name")),
    ("property-not-mapping", db("  Due: date"), (N, 4, 3, "must be a mapping")),
    ("no-title", {N: "title: Tasks\nproperties:\n  Notes: {type: rich_text}\n"},
     (N, 2, 1, "no title property")),
    ("two-titles", db("  Other: {type: title}"), (N, 4, 3, "second title property")),
    ("options-on-number", db("  Est: {type: number, options: [a]}"),
     (N, 4, 23, "options are only for select, multi_select and status")),
    ("format-on-select", db("  S: {type: select, format: dollar}"),
     (N, 4, 21, "'format' does not apply to a select property (only to number)")),
    ("option-comma", db("  S:", "    type: select", '    options: [a, "b,c"]'),
     (N, 6, 18, "contains a comma")),
    ("option-too-long", db("  S:", "    type: select", f"    options: [{'x' * 101}]"),
     (N, 6, 15, "at most 100")),
    ("option-empty", db("  S:", "    type: select", '    options: [""]'), (N, 6, 15, "option name is empty")),
    ("option-duplicate-case", db("  S:", "    type: select", "    options: [Done, done]"),
     (N, 6, 21, "repeats 'Done'")),
    ("option-not-text", db("  S:", "    type: select", "    options: [true]"), (N, 6, 15, "quote it")),
    ("unknown-colour", db("  S:", "    type: select", "    options: [{name: a, color: teal}]"),
     (N, 6, 25, "unknown colour 'teal': use one of default, gray")),
    ("unknown-number-format", db("  N: {type: number, format: dollars}"),
     (N, 4, 21, "unknown number format 'dollars'")),
    ("unknown-rollup-function",
     {**db("  Project: {type: relation, database: projects}",
           "  Owners: {type: rollup, relation: Project, property: Owner, function: total}"), P: PROJECTS},
     (N, 5, 62, "unknown rollup function 'total'")),
    ("unknown-vocabulary", db("  T: {type: multi_select, vocabulary: tagz}"),
     (N, 4, 27, "unknown vocabulary 'tagz': create schemas/vocab/tagz.yaml")),
    ("options-and-vocabulary", {**db("  T: {type: select, options: [a], vocabulary: tags}"),
                                V: "options: [x]\n"},
     (N, 4, 35, "options and vocabulary are both given")),
    ("relation-undeclared", db("  P: {type: relation, database: projectz}"),
     (N, 4, 23, "not a declared database: use one of tasks")),
    ("synced-property-one-way", {**db("  P: {type: relation, database: projects, synced_property: X}"),
                                 P: PROJECTS},
     (N, 4, 43, "only applies to two-way relations")),
    ("rollup-relation-not-relation",
     db("  Count:", "    type: rollup", "    relation: Name", "    property: Name", "    function: count"),
     (N, 6, 5, "not a relation property of this database")),
    ("rollup-property-missing",
     {**db("  Project: {type: relation, database: projects}", "  Count:", "    type: rollup",
           "    relation: Project", "    property: Budget", "    function: sum"), P: PROJECTS},
     (N, 8, 5, "rollup property 'Budget' does not exist in 'projects'")),
    ("formula-without-expression", db("  F: {type: formula}"),
     (N, 4, 3, "missing required key 'expression'")),
    ("property-name-duplicate-case", db("  name: {type: rich_text}"), (N, 4, 3, "repeats 'Name'")),
    ("property-name-too-long", db(f"  {'p' * 101}: {{type: rich_text}}"), (N, 4, 3, "use at most 100")),
    ("property-name-empty", db('  "": {type: rich_text}'), (N, 4, 3, "property name is empty")),
    ("renamed-from-current", db("  Stage: {type: rich_text, renamed_from: [Name]}"),
     (N, 4, 43, "names a current property")),
    ("renamed-from-repeated", db("  A: {type: rich_text, renamed_from: [Old]}",
                                 "  B: {type: rich_text, renamed_from: [Old]}"),
     (N, 5, 39, "already listed in renamed_from of 'A'")),
    ("duplicate-title", {N: HEAD, P: "title: tasks\nproperties:\n  Name: {type: title}\n"},
     (N, 1, 1, "already used by schemas/notion/projects.yaml")),
    ("synced-property-collision",
     {**db("  Project: {type: relation, database: projects, two_way: true, synced_property: Owner}"),
      P: PROJECTS},
     (N, 4, 64, "already declares 'Owner' (people)")),
    ("synced-default-name-collision",
     {**db("  Project: {type: relation, database: projects, two_way: true}"),
      P: PROJECTS + "  Related to Tasks (Project): {type: rich_text}\n"},
     (N, 4, 49, "creates the property 'Related to Tasks (Project)'")),
    ("env-var-unset", {N: "title: Tasks\nparent: ${NO_SUCH_VAR}\nproperties:\n  Name: {type: title}\n"},
     (N, 2, 1, "${NO_SUCH_VAR} is not set: export NO_SUCH_VAR or add it to .env")),
    ("vocabulary-empty", {N: HEAD, V: "mode: closed\noptions: []\n"}, (V, 2, 1, "has no options")),
    ("vocabulary-mode", {N: HEAD, V: "mode: strict\noptions: [a]\n"},
     (V, 1, 1, "unknown vocabulary mode 'strict'")),
    ("vocabulary-duplicate", {N: HEAD, V: "options: [a, b, A]\n"}, (V, 1, 17, "repeats 'a'")),
    ("bad-file-stem", {"schemas/notion/My-Tasks.yaml": HEAD},
     ("schemas/notion/My-Tasks.yaml", 1, 1, "rename it, e.g. to my_tasks.yaml")),
    ("yml-suffix", {"schemas/notion/tasks.yml": HEAD}, ("schemas/notion/tasks.yml", 1, 1, "rename it to tasks.yaml")),
    ("empty-file", {N: "# nothing yet\n"}, (N, 1, 1, "the file is empty")),
    ("config-secret", {N: HEAD, "reconciler.yaml": "notion: {token: abc}\n"},
     ("reconciler.yaml", 1, 10, "unknown key 'token'")),
    ("config-rate-limit", {N: HEAD, "reconciler.yaml": "notion:\n  rate_limit: 0\n"},
     ("reconciler.yaml", 2, 3, "greater than 0")),
]


@pytest.mark.parametrize("files, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_spec_is_located(make_project, files, expected):
    root = make_project(files)
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    file, line, col, phrase = expected
    found = [(p.file, p.line, p.col) for p in info.value.problems]
    hits = [p for p in info.value.problems if phrase in p.message]
    assert hits, f"no message with {phrase!r} in:\n{info.value}"
    assert (hits[0].file, hits[0].line, hits[0].col) == (file, line, col), str(info.value)
    assert len(found) == 1, f"one mistake, one problem:\n{info.value}"
    assert str(hits[0]).startswith(f"{file}:{line}:{col}: ")


def test_every_problem_of_every_file_at_once(make_project):
    root = make_project({
        N: HEAD + "  Due: {type: datetime}\n  P: {type: relation, database: nowhere}\n",
        P: "title: Projects\nproperties:\n  Name: {type: title}\n  S: {type: select, options: [a, A]}\n",
        V: "options: []\n",
        "schemas/notion/broken.yaml": "title: [\n",
    })
    with pytest.raises(SpecError) as info:
        load_project(root, env={})
    files = [p.file for p in info.value.problems]
    assert files == sorted(files)
    assert set(files) == {N, P, V, "schemas/notion/broken.yaml"}
    assert len(info.value.problems) == 4  # tasks.yaml fails schema first: relation checked later
    assert str(info.value).count("\n") == 3


def test_loading_never_writes(make_project, listing):
    good = make_project({N: HEAD, "reconciler.yaml": "notion: {rate_limit: 2}\n"})
    before = listing(good)
    load_project(good, env={})
    (good / N).write_text(HEAD + "  X: {type: nope}\n")
    before = listing(good)
    with pytest.raises(SpecError):
        load_project(good, env={})
    assert listing(good) == before


def test_a_typo_in_a_mirrored_database_is_one_error_with_a_suggestion(tmp_path: Path):
    from tests.conftest import copy_bundled_example

    root = copy_bundled_example(tmp_path / "p")
    path = root / "schemas" / "notion" / "master_tasks.yaml"
    path.write_text(path.read_text().replace("Due Date: {type: date}", "Due Date: {type: dat}"))
    with pytest.raises(SpecError) as info:
        load_project(root, {})
    problems = [(p.file, p.line, p.message) for p in info.value.problems]
    # the table mirroring it (schemas/supabase/tasks.yaml) adds nothing: no "no Notion database
    # named 'master_tasks'", no columns without a type
    assert len(problems) == 1, problems
    assert problems[0][:2] == ("schemas/notion/master_tasks.yaml", 24)
    assert "unknown property type 'dat': did you mean date?" in problems[0][2]
