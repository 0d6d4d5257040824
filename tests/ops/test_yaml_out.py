"""What `import` writes reads back as written: `importer.yaml_out.dump` through the loader's own
YAML reader (`project.yaml.parse_yaml`), for any text, key or nesting (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.importer.yaml_out import dump
from reconciler.project.yaml import parse_yaml

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff\x85\u2028\u2029"),
               max_size=30)
scalar = st.one_of(text, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                   st.floats(allow_nan=False, allow_infinity=False, width=32))
leaf = st.one_of(scalar, st.lists(scalar, max_size=4), st.dictionaries(text, scalar, max_size=4))
document = st.dictionaries(text, st.one_of(leaf, st.dictionaries(text, leaf, max_size=4)),
                           max_size=5)


@settings(max_examples=100, deadline=None)
@given(document)
def test_dump_reads_back_unchanged(data):
    written = dump(data, schema="../.schema/x.json", header="imported\nsecond line")
    parsed, problems = parse_yaml(written, "x.yaml")
    assert not problems, written
    assert parsed.data == (data or None) or parsed.data == data, written


def test_texts_that_flow_style_would_break_are_written_in_block_style():
    data = {"rows": [{"text": ": Hi", "bold": True}, {"text": "a, b"}, {"text": "plain"}]}
    written = dump(data)
    assert "- {text: plain}" in written
    assert parse_yaml(written, "x.yaml")[0].data == data
