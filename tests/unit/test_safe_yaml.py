"""Hostile YAML is refused where it stands, and each file is parsed once (issue 9, point 2)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer

from reconciler import safe_yaml
from reconciler.project.yaml import load_yaml
from reconciler.safe_yaml import MAX_ALIAS_NODES, MAX_SPEC_BYTES, load_text


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("text", "line", "col", "phrase"), [
    ("a: &a [*a]\n", 1, 4, "recursive alias: &a is used inside itself"),
    ("a: &a {b: [1, {c: *a}]}\n", 1, 4, "recursive alias"),
    (_bomb(8), 8, 5, "aliases expand the file by"),  # at &a7, the biggest anchor reused
    ("n: " + "1" * 5000 + "\n", 1, 4, "a number of 5,000 digits"),
    ("a: [1\n", 2, 1, "invalid YAML"),
])
@pytest.mark.parametrize("c_parser", [True, False], ids=["libyaml", "pure"])
def test_hostile_yaml_is_refused_with_a_location(text, line, col, phrase, c_parser, monkeypatch):
    if not c_parser:
        monkeypatch.setattr(safe_yaml, "CParser", None)
    parsed = load_text(YAML(typ="rt"), text)
    assert parsed.fatal and parsed.data is None
    (issue,) = parsed.issues
    assert (issue.line, issue.col) == (line, col) and phrase in issue.message


def test_aliases_within_the_limit_and_every_duplicate_key_are_kept():
    assert load_text(YAML(typ="rt"), _bomb(3)).data["a3"][0][0][0] == ["x"] * 10
    yaml = YAML(typ="rt")  # ruamel refuses duplicates unless told not to
    yaml.allow_duplicate_keys = True
    parsed = load_text(yaml, "a: 1\nb: {c: 1, c: 2}\na: 3\n")
    assert not parsed.fatal
    assert [(i.line, i.col) for i in parsed.issues] == [(2, 11), (3, 1)]
    assert 10 ** 6 > MAX_ALIAS_NODES


def test_a_spec_file_is_parsed_once_and_size_is_checked_first(tmp_path: Path, monkeypatch):
    from reconciler.project import yaml as project_yaml

    project_yaml._parsed.cache_clear()  # a text this process read before is not parsed again
    calls = []  # one per node graph composed, by the pure-Python composer or the C one
    original = Composer.get_single_node
    monkeypatch.setattr(Composer, "get_single_node",
                        lambda self: calls.append(1) or original(self))
    c_loader = safe_yaml._c_loader
    monkeypatch.setattr(safe_yaml, "_c_loader", lambda yaml, text: (
        lambda made: made and calls.append(1) or made)(c_loader(yaml, text)))
    path = tmp_path / "t.yaml"
    path.write_text("title: T\ntitle: U\nproperties: {a: &x [1], b: *x}\n")
    doc, problems = load_yaml(path, "t.yaml", {})
    assert len(calls) == 1
    assert [p.message.split(":")[0] for p in problems] == ["duplicate key 'title'"]
    path.write_text("# padding\n" * (MAX_SPEC_BYTES // 10 + 1))
    doc, problems = load_yaml(path, "t.yaml", {})
    assert doc is None and "reads files of at most 1,048,576 bytes" in problems[0].message
    assert len(calls) == 1  # refused before reading


def test_the_c_parser_gives_the_same_data_and_positions_as_the_pure_one(monkeypatch):
    """libyaml composes the nodes when installed; what is built from them, and where each key
    and item stands, is what the pure-Python parser gives (every bundled spec file)."""
    from reconciler.project.yaml import parse_yaml

    assert safe_yaml.CParser is not None, "ruamel.yaml[libyaml] is a dependency"
    root = Path(__file__).resolve().parents[2]
    texts = [p.read_text() for p in sorted((root / "schemas").rglob("*.yaml"))]
    texts.append("a: 2026-01-02\nb: [0o17, 1_000, .inf, ~, 'x', yes]\nc: |\n  line\n")
    fast = [parse_yaml(t, "f.yaml", {}) for t in texts]
    monkeypatch.setattr(safe_yaml, "CParser", None)
    for text, (doc, problems) in zip(texts, fast):
        pure, pure_problems = parse_yaml(text, "f.yaml", {})
        assert (doc.data, doc.positions, problems) == (pure.data, pure.positions, pure_problems)


def test_an_anchor_defined_again_warns_nobody_and_the_alias_names_the_latest():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ruamel's ReusedAnchorWarning printed a site-packages path
        parsed = load_text(YAML(typ="rt"), "a: &x 1\nb: &x 2\nc: *x\n")
    assert not parsed.issues and dict(parsed.data) == {"a": 1, "b": 2, "c": 2}


def test_a_file_read_again_is_parsed_once_and_handed_out_as_a_copy(tmp_path: Path):
    """`load_yaml(remember=True)` keeps a text it parsed (a process that loads a project twice
    parses it once) and interpolates `${VAR}` into a copy on each load, with the environment of
    that load, as a fresh parse would (also where YAML escapes spell the variable)."""
    from reconciler.project import yaml as project_yaml

    project_yaml._parsed.cache_clear()
    path = tmp_path / "t.yaml"
    path.write_text('title: ${TITLE}\nitems: [1, 2]\nescaped: "\\x24{TITLE}"\n')
    first, _ = load_yaml(path, "t.yaml", {"TITLE": "A"}, remember=True)
    assert first.data == {"title": "A", "items": [1, 2], "escaped": "A"}
    first.data["items"].append(3)
    again, _ = load_yaml(path, "t.yaml", {"TITLE": "B"}, remember=True)
    assert project_yaml._parsed.cache_info().hits == 1
    assert again.data == {"title": "B", "items": [1, 2], "escaped": "B"}, \
        "a copy, interpolated with this load's environment"
    unset, problems = load_yaml(path, "t.yaml", {}, remember=True)
    fresh, fresh_problems = load_yaml(path, "t.yaml", {})
    assert (unset.data, unset.positions, sorted(problems, key=str)) == \
        (fresh.data, fresh.positions, sorted(fresh_problems, key=str))
    assert [p.message.split(" is ")[0] for p in problems] == ["${TITLE}", "${TITLE}"]
    path.write_text("title: T\n")
    assert load_yaml(path, "t.yaml", {}, remember=True)[0].data == {"title": "T"}, \
        "a new text is parsed"


def test_a_file_that_is_not_utf8_is_refused_at_its_first_bad_byte(tmp_path):
    """The line and column of the first byte that is not UTF-8, not 1:1."""
    from reconciler.project.yaml import load_yaml

    path = tmp_path / "x.yaml"
    path.write_bytes("title: Tasks\nproperties:\n  Naïve: {type: \xff}\n".encode("latin-1"))
    _, problems = load_yaml(path, "x.yaml")
    (problem,) = problems
    assert (problem.line, problem.col) == (3, 5)  # ï in Latin-1
    assert "not UTF-8 text" in problem.message and "save the file as UTF-8" in problem.message
