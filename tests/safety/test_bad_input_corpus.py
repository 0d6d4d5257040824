"""The bad-input corpus: every broken project, plan file or argument under `corpus/` fails with
exit code 1 and exactly one `Error:` block (naming `file:line` for spec problems), never a
traceback, and writes nothing in the project. Then a fuzzer: random YAML documents as a
database, a vocabulary and a table file make `load_project` raise only `ReconcilerError`s.

Each case is `corpus/<case>/` (files laid over `corpus/_base/`, a valid project with two
databases, a closed vocabulary and no tables) plus one row of `CASES` below.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli_runner import CliRunner

from reconciler.cli import app
from reconciler.errors import ReconcilerError
from reconciler.project import load_project
from tests.conftest import PATTERN_LIMIT
from tests.safety.conftest import snapshot

CORPUS = Path(__file__).parent / "corpus"
N, P, V = "schemas/notion/tasks.yaml", "schemas/notion/projects.yaml", "schemas/vocab/tags.yaml"
S, R, C = "schemas/supabase/tasks.yaml", "reconciler.yaml", "content/t/a.json"
HAS_CONTENT = importlib.util.find_spec("reconciler.project.content") is not None

#: A backtracking pattern is cut sooner here (`quick_patterns`, tests/conftest.py).
pytestmark = pytest.mark.usefixtures("quick_patterns")


# (case, command, file, line, phrase). command: `spec` runs validate and plan; `show` and
# `apply` get the case's plan.yaml; `target=X` runs plan --target X. file/line: where the
# Error: names the problem (None when it is not a spec file).
CASES = [
    # YAML syntax and document shape
    ("yaml-unclosed-flow", "spec", N, 4, "invalid YAML: expected ',' or '}'"),
    ("yaml-bad-indent", "spec", N, 4, "invalid YAML"),
    ("yaml-tab-indent", "spec", N, 3, "found character '\\t'"),
    ("yaml-duplicate-top-key", "spec", N, 2, "duplicate key 'title'"),
    ("yaml-unterminated-string", "spec", N, 4, "invalid YAML: found unexpected end of stream"),
    ("yaml-two-documents", "spec", N, 4, "but found another document"),
    ("yaml-top-level-list", "spec", N, 1, "should be a valid dictionary"),
    ("yaml-top-level-scalar", "spec", N, 1, "should be a valid dictionary"),
    ("yaml-undefined-alias", "spec", N, 1, "undefined alias 'missing'"),
    ("yaml-not-utf8", "spec", N, 1, "not UTF-8 text"),
    ("yaml-empty-file", "spec", N, 1, "the file is empty: declare a Notion database (README.md, "
     "\"The project\", shows one; the JSON Schemas `reconciler init` writes"),
    ("yaml-properties-list", "spec", N, 2, "properties: Input should be a valid dictionary"),
    # property types
    ("type-unknown", "spec", N, 4, "unknown property type 'datetime'"),
    ("type-capitalised", "spec", N, 4, "unknown property type 'Number'"),
    ("type-is-list", "spec", N, 4, "unknown property type"),
    ("type-is-null", "spec", N, 4, "unknown property type"),
    ("type-missing", "spec", N, 4, "property 'Est' has no type"),
    ("property-not-mapping", "spec", N, 4, "must be a mapping"),
    ("two-titles", "spec", N, 4, "second title property"),
    ("unknown-number-format", "spec", N, 4, "unknown number format 'dollars'"),
    ("formula-no-expression", "spec", N, 4, "missing required key 'expression'"),
    ("unknown-colour", "spec", N, 6, "unknown colour 'teal'"),
    # duplicate names
    ("duplicate-property-key", "spec", N, 4, "duplicate key 'Name'"),
    ("duplicate-property-case", "spec", N, 4, "'NAME' repeats 'Name'"),
    ("duplicate-database-title", "spec", N, 1, "already used by schemas/notion/projects.yaml"),
    ("duplicate-option", "spec", N, 6, "'open' repeats 'Open'"),
    ("duplicate-vocab-option", "spec", V, 1, "'Alpha' repeats 'alpha'"),
    # relations and rollups
    ("relation-undeclared", "spec", N, 4, "relation to 'clients', which is not a declared database"),
    ("relation-no-database", "spec", N, 4, "missing required key 'database'"),
    ("rollup-not-relation", "spec", N, 6, "not a relation property of this database"),
    # option and property names
    ("option-comma", "spec", N, 6, "contains a comma"),
    ("option-comma-vocab", "spec", V, 1, "contains a comma"),
    ("option-too-long", "spec", N, 6, "Notion allows at most 100"),
    ("option-empty", "spec", N, 6, "option name is empty"),
    ("option-not-text", "spec", N, 6, "quote it"),
    ("property-name-too-long", "spec", N, 4, "101 characters long"),
    ("property-name-empty", "spec", N, 4, "property name is empty"),
    # renamed_from
    ("renamed-from-cycle", "spec", N, 4, "names a current property"),
    ("renamed-from-self", "spec", N, 4, "names a current property"),
    ("renamed-from-twice", "spec", N, 5, "already listed in renamed_from of 'Alpha'"),
    ("renamed-from-number", "spec", N, 4, "renamed_from: Input should be a valid list"),
    # vocabularies, environment, file names
    ("unknown-vocabulary", "spec", N, 4, "unknown vocabulary 'kinds'"),
    ("vocab-mode", "spec", V, 1, "unknown vocabulary mode 'strict'"),
    ("vocab-empty", "spec", V, 2, "has no options"),
    ("env-var-unset", "spec", N, 2, "${NO_SUCH_VAR_RECONCILER} is not set"),
    ("file-stem", "spec", "schemas/notion/My-Tasks.yaml", 1, "rename it, e.g. to my_tasks.yaml"),
    ("file-yml", "spec", "schemas/notion/other.yml", 1, "rename it to other.yaml"),
    # Supabase tables: wrong value types and impossible names
    ("supabase-yaml-syntax", "spec", S, 4, "invalid YAML"),
    ("supabase-type-number", "spec", S, 3, "columns.done.type: Input should be a valid string"),
    ("supabase-empty-type", "spec", S, 3, "the type is empty"),
    ("supabase-unsafe-type", "spec", S, 3, "not a plain type name"),
    ("supabase-nullable-string", "spec", S, 3, "nullable: Input should be a valid boolean"),
    ("supabase-rls-text", "spec", S, 2, "rls: Input should be a valid boolean"),
    ("supabase-check-number", "spec", S, 3, "check: Input should be a valid string"),
    ("supabase-primary-key-string", "spec", S, 2, "primary_key: Input should be a valid list"),
    ("supabase-columns-list", "spec", S, 2, "columns: Input should be a valid dictionary"),
    ("supabase-unknown-key", "spec", S, 2, "unknown key 'colour'"),
    ("supabase-unknown-privilege", "spec", S, 2, "unknown privilege(s) everything"),
    ("supabase-mirror-unknown", "spec", S, 1, "no Notion database named 'taskz'"),
    ("supabase-index-unknown-column", "spec", S, 3, "unknown column 'nope'"),
    ("supabase-references-unknown", "spec", S, 3, "table public.people is not declared"),
    ("supabase-column-name-too-long", "spec", S, 3, "Postgres keeps at most 63"),
    ("supabase-table-name-too-long", "spec", S, 1, "Postgres keeps at most 63"),
    # reconciler.yaml
    ("config-yaml-syntax", "spec", R, 2, "invalid YAML"),
    ("config-unknown-key", "spec", R, 1, "unknown key 'token'"),
    ("config-rate-limit-text", "spec", R, 2, "rate_limit: Input should be a valid number"),
    ("config-is-list", "spec", R, 1, "should be a valid dictionary"),
    # plan files given to show and apply
    ("show-not-a-plan", "show", None, None, "not a reconciler plan file (no format_version)"),
    ("show-plan-is-list", "show", None, None, "not a reconciler plan file (no format_version)"),
    ("show-wrong-version", "show", None, None, "plan format_version 99 is not supported"),
    ("show-invalid-kind", "show", None, None, "invalid plan file at changes.1.kind"),
    ("show-invalid-action", "show", None, None, "invalid plan file at changes.1.action"),
    ("show-changes-not-list", "show", None, None, "invalid plan file at changes"),
    ("show-invalid-yaml", "show", None, None, "not a valid plan file"),
    ("show-binary", "show", None, None, "not a reconciler plan file (not UTF-8 text)"),
    ("show-missing-file", "show", None, None, "cannot read the plan file"),
    ("apply-not-a-plan", "apply", None, None, "not a reconciler plan file (no format_version)"),
    ("apply-wrong-version", "apply", None, None, "plan format_version 6 is not supported"),
    ("apply-invalid-kind", "apply", None, None, "invalid plan file at changes.1.kind"),
    # --target
    ("target-not-an-address", "target=not an address!", None, None, "is not a resource address"),
    ("target-empty", "target=", None, None, "is not a resource address"),
    ("target-unknown-root", "target=github.repos", None, None, "is not a resource address"),
    # issue 9: formulas, texts, hostile YAML, malformed plan headers
    ("formula-syntax", "spec", N, 5, "formula: expected a value, found the end of the formula"),
    ("formula-unknown-property", "spec", N, 5, "the database has no property 'Estimat'"),
    ("formula-type-error", "spec", N, 8, "formula: * works on numbers, not on text"),
    ("formula-circular", "spec", N, 5, "formulas refer to each other in a circle (A → B → A)"),
    ("description-too-long", "spec", N, 2, "description: 240,000 characters need 120 rich text"),
    ("yaml-recursive-alias", "spec", N, 4, "recursive alias: &a is used inside itself"),
    ("yaml-alias-bomb", "spec", N, 11, "aliases expand the file by 1,234,567,880 nodes"),
    ("yaml-integer-too-long", "spec", N, 4, "a number of 5,000 digits"),
    ("spec-file-too-big", "spec", N, 1, "reads files of at most 1,048,576 bytes"),
    ("show-header-string", "show", None, None, "invalid plan file at header: it is text"),
    ("show-header-number", "show", None, None, "invalid plan file at header: it is a number"),
    ("show-recursive-alias", "show", None, None, "recursive alias: &c is used inside itself"),
    ("show-alias-bomb", "show", None, None, "an alias bomb?"),
    ("apply-header-string", "apply", None, None, "invalid plan file at header: it is text"),
]
CONTENT_CASES = [
    ("content-number-is-text", "spec", C, 3, "Est expects a number, got 'high'"),
    ("content-tags-not-list", "spec", C, 3, "Tags expects an option name, got {'x': 1}"),
    ("content-key-missing", "spec", C, 1, "no value for the key 'Name'"),
    ("content-closed-vocabulary", "spec", C, 3, "'gamma' is not in vocabulary 'tags' (closed)"),
    ("content-bad-json", "spec", C, 4, "invalid JSON"),
    ("content-slow-pattern", "spec", N, 16,
     f"took longer than {PATTERN_LIMIT:g} s on content/t/log.md:2: it "
     "backtracks; simplify it"),
    ("content-bad-default", "spec", N, 14, "default: Est expects a number, got 'abc'"),
    ("content-field-undeclared", "spec", N, 12, "'Colour' is not a declared property"),
    ("content-no-files", "spec", N, 11, "no files match content/none/*.json"),
    ("content-duplicate-key", "spec", "content/t/b.json", 2, "duplicate key 'a'"),
    # issue 9: what validate must refuse before any write
    ("content-rich-text-too-long", "spec", C, 3, "210,000 characters need 105 rich text objects"),
    ("content-number-too-big", "spec", C, 3, "holds integers up to ±9,007,199,254,740,991"),
    ("content-json-integer-too-long", "spec", C, 3, "a number has more than 4,300 digits"),
    ("content-python-exit", "spec", N, 9, "called sys.exit(3)"),
    ("content-python-base-exception", "spec", N, 9,
     "failed at corpus_base_exception_rows.py:7: Stop: no more rows"),
    ("content-python-os-exit", "spec", N, 9, "python: corpus_os_exit_rows:rows ended its process "
     "without returning its rows (exit code 0, e.g. os._exit())"),
    ("content-python-interrupt", "spec", N, 9,
     "python: corpus_interrupt_rows:rows failed at corpus_interrupt_rows.py:2: KeyboardInterrupt"),
    ("content-front-matter-alias-bomb", "spec", "content/t/a.md", 10, "an alias bomb?"),
    ("content-file-too-big", "spec", C, 1, "reads content files of at most 8,388,608 bytes"),
    ("content-varchar-too-long", "spec", C, 2, "the column is character varying(4)"),
    ("content-enum-value", "spec", C, 3, "kind 'release' breaks the check (\"kind\" IN"),
    ("content-not-null-unmapped", "spec", S, 10, "'owner' is NOT NULL and has no default"),
]
#: Cases whose files are too big to keep in the repository: written when the case is laid out.
GENERATED = {
    "description-too-long": {N: "title: Tasks\ndescription: " + "x" * 240_000
                             + "\nproperties:\n  Name: {type: title}\n"},
    "content-rich-text-too-long": {C: '{\n "name": "a",\n "notes": "' + "y" * 210_000 + '"\n}\n'},
    "spec-file-too-big": {N: "title: Tasks\nproperties:\n  Name: {type: title}\n"
                          + "# padding\n" * 110_000},
    "content-file-too-big": {C: '{"name": "a", "notes": "' + "z" * (9 << 20) + '"}\n'},
}
ALL = CASES + [pytest.param(*c, marks=pytest.mark.skipif(
    not HAS_CONTENT, reason="content sources (reconciler.project.content) not present"))
    for c in CONTENT_CASES]

runner = CliRunner()


def project(case: str, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(CORPUS / "_base", root)
    shutil.copytree(CORPUS / case, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".keep"))
    for rel, text in GENERATED.get(case, {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def check_failure(result, file: str | None, line: int | None, phrase: str) -> None:
    text = result.output
    assert result.exit_code == 1, text
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in text
    assert text.count("Error:") == 1, text
    assert result.stderr.lstrip().startswith("Error:"), text
    assert phrase in result.stderr, text
    if file is not None:
        assert re.search(rf"(^|\s){re.escape(file)}:{line}:\d+: ", result.stderr), text


def test_the_corpus_is_big_and_every_case_has_a_row():
    listed = {c[0] for c in CASES + CONTENT_CASES}
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "_base"}
    assert listed == on_disk
    assert len(CASES) >= 50


def test_the_base_workspace_is_valid(tmp_path: Path):
    root = project("_base", tmp_path)
    assert runner.invoke(app, ["validate", "--dir", str(root)]).exit_code == 0


@pytest.mark.parametrize("case, command, file, line, phrase", ALL,
                         ids=[c[0] for c in CASES + CONTENT_CASES])
def test_bad_input_fails_cleanly_and_writes_nothing(case, command, file, line, phrase,
                                                    tmp_path: Path):
    root = project(case, tmp_path)
    plan_file = str(root / "plan.yaml")
    if command == "spec":
        before = snapshot(root)
        for verb in ("validate", "plan"):
            check_failure(runner.invoke(app, [verb, "--dir", str(root)]), file, line, phrase)
        assert not (root / ".reconciler").exists()
        assert snapshot(root) == before
        return
    if command == "show":
        before = snapshot(root)
        for fmt in ("text", "markdown", "json"):
            check_failure(runner.invoke(app, ["show", plan_file, "--format", fmt]),
                          file, line, phrase)
        assert snapshot(root) == before
        return
    # apply and --target read live state: start from a project that has planned once
    assert runner.invoke(app, ["plan", "--dir", str(root)]).exit_code == 0
    before = snapshot(root)  # the plan closed its local Notion store: nothing is left to settle
    if command == "apply":
        argv = ["apply", plan_file, "--dir", str(root), "--auto-approve"]
    else:
        argv = ["plan", "--dir", str(root), "--target", command.removeprefix("target=")]
    check_failure(runner.invoke(app, argv), file, line, phrase)
    assert snapshot(root) == before


# -- fuzzing load_project ----------------------------------------------------------------------

KEYS = st.sampled_from([
    "title", "properties", "type", "options", "vocabulary", "database", "relation", "rollup",
    "property", "function", "format", "expression", "renamed_from", "two_way", "synced_property",
    "name", "color", "mode", "mirror", "columns", "nullable", "default", "default_sql",
    "primary_key", "unique", "indexes", "references", "grants", "rls", "schema", "checks",
    "content", "key", "hash", "source", "fields", "json", "Name", "Status", "tasks", "select",
    "number", "multi_select", "formula", "status", "rich_text", "date", "people", "boolean",
    "uuid", "text", "enum", "jsonb", "text[]", "values", "closed", "additive", "projects",
    "title ", "", "é", "a,b", "x" * 120])
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | KEYS
           | st.text(max_size=20))
DOCS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=5),
                    max_leaves=25)
PROPERTY = st.fixed_dictionaries({"type": KEYS}, optional={
    k: DOCS for k in ("options", "vocabulary", "database", "relation", "property", "function",
                      "format", "renamed_from", "two_way", "synced_property", "expression")})
TEMPLATE = st.fixed_dictionaries({
    "title": st.just("Tasks") | SCALARS,
    "properties": st.fixed_dictionaries({"Name": st.just({"type": "title"})})
    | st.dictionaries(KEYS, PROPERTY | DOCS, max_size=4) | DOCS,
}, optional={"content": DOCS}) | DOCS


def dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@settings(max_examples=75, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(database=TEMPLATE, vocab=DOCS, table=DOCS | st.fixed_dictionaries(
    {"mirror": st.just("tasks") | SCALARS, "columns": DOCS}),
    raw=st.none() | st.text(max_size=40))
def test_load_workspace_raises_only_reconciler_errors(tmp_path_factory, database, vocab, table,
                                                      raw):
    root = tmp_path_factory.mktemp("fuzz")
    files = {"reconciler.yaml": "supabase: {}\n", N: dump(database), V: dump(vocab),
             S: dump(table), P: raw if raw is not None else "title: Projects\nproperties:\n"
                                                           "  Name: {type: title}\n"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    try:
        load_project(root, env={})
    except ReconcilerError:
        pass
