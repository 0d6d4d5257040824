"""Values as people write them in notes (issue 13): lists from text (`split`, `strip`, `map`,
`default`, one value → one item, markdown lists), fields that span lines, section bounds,
dates and numbers in declared languages and locales, relations by key — each rule through
`load_project`, with the exact located message when the input is wrong."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from reconciler.errors import SpecError
from reconciler.project import load_project

DB = "schemas/notion/log.yaml"
LOG = """title: Log
properties:
  Key: {type: title}
  Tags: {type: multi_select}
  Owners: {type: people}
  Related: {type: relation, database: log}
  Links: {type: files}
  Insight: {type: rich_text}
  Score: {type: number}
  When: {type: date}
  Level: {type: select, options: [High, Low]}
  SHA: {type: rich_text}
content:
  key: Key
  hash: SHA
  source:
"""
SOURCE_LINE = LOG.count("\n")  # `source:` is the last line of LOG


def project(make_project, fields: str, doc: str, source: str = "", sections: str = ""):
    """The log database reading `log.md` sections `## <key>` with `fields` (YAML lines)."""
    spec = (LOG + source + "    markdown_sections:\n      files: log.md\n"
            "      heading: '^## (\\w+)$'\n" + sections + "      fields:\n        Key: $heading.1\n"
            + "".join(f"        {line}\n" for line in fields.strip().split("\n")))
    return make_project({DB: spec, "log.md": doc})


def values(root) -> dict[str, dict]:
    (content,) = load_project(root, env={}).content
    return {r.key: r.values for r in content.rows}


def problems(root) -> list[str]:
    with pytest.raises(SpecError) as err:
        load_project(root, env={})
    return [str(p) for p in err.value.problems]


TAGS = "Tags: {path: '^Tags:\\s*(.*)$', split: ','}"


# -- lists from text ---------------------------------------------------------------------------

def test_split_trims_and_drops_empty_items(make_project):
    root = project(make_project, TAGS, "## a\nTags: Architecture,  Systems ,, \n")
    assert values(root)["a"]["Tags"] == ("Architecture", "Systems")


def test_split_by_regex_and_a_single_value_is_one_item(make_project):
    fields = ("Tags: {path: '^Tags:\\s*(.*)$', split: {regex: '\\s*[;/]\\s*'}}\n"
              "Owners: '^Owner:\\s*(.*)$'")
    root = project(make_project, fields, "## a\nTags: x; y/z\nOwner: ada@example.com\n"
                                         "## b\nTags: only\n")
    found = values(root)
    assert found["a"]["Tags"] == ("x", "y", "z") and found["a"]["Owners"] == ("ada@example.com",)
    assert found["b"]["Tags"] == ("only",) and found["b"]["Owners"] == ()


def test_strip_map_and_default(make_project):
    fields = ("Tags: {path: '^Tags:\\s*(.*)$', split: ',', strip: '^#', map: {arch: Architecture,"
              " none: null}, default: [Untagged]}\n"
              "Level: {path: '^Level:\\s*(.*)$', map: {Hi: High, Lo: Low}, default: Low}")
    root = project(make_project, fields, "## a\nTags: #arch, #ops, none\nLevel: hi\n"
                                         "## b\nTags: none\n")
    found = values(root)
    assert found["a"]["Tags"] == ("Architecture", "ops") and found["a"]["Level"] == "High"
    assert found["b"]["Tags"] == ("Untagged",) and found["b"]["Level"] == "Low"


def test_a_markdown_list_gives_list_items_and_links_give_files(make_project):
    fields = ("Tags: '^Tags:\\s*(.*)$'\nLinks: '^Links:\\s*(.*)$'")
    doc = ("## a\nTags:\n- **Architecture**\n- Systems\n\nLinks:\n"
           "- [spec](https://x.example/spec.pdf)\n- https://x.example/raw.txt\n")
    found = values(project(make_project, fields, doc))["a"]
    assert found["Tags"] == ("Architecture", "Systems")
    assert found["Links"] == ({"name": "spec", "url": "https://x.example/spec.pdf"},
                              {"name": "https://x.example/raw.txt",
                               "url": "https://x.example/raw.txt"})


_item = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                              blacklist_characters=",\n*_`[]<>&\\#!|~+-=."),
                min_size=1, max_size=12).map(str.strip).filter(bool)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(_item, min_size=1, max_size=8, unique=True),
       spaces=st.sampled_from([",", ", ", " ,  "]))
def test_any_list_written_with_the_separator_round_trips(make_project, items, spaces):
    root = project(make_project, TAGS, "## a\nTags: " + spaces.join(items) + "\n")
    assert values(root)["a"]["Tags"] == tuple(items)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(_item, min_size=1, max_size=6, unique=True),
       separator=st.sampled_from([";", " | ", " / ", " and "]))
def test_any_list_written_with_a_regex_separator_round_trips(make_project, items, separator):
    fields = "Tags: {path: '^Tags:\\s*(.*)$', split: {regex: '\\s*(?:;|\\||/| and )\\s*'}}"
    items = [i for i in items if " and " not in f" {i} " and not set(i) & set(";|/")] or ["x"]
    root = project(make_project, fields, "## a\nTags: " + separator.join(items) + "\n")
    assert values(root)["a"]["Tags"] == tuple(items)


# -- fields that span lines --------------------------------------------------------------------

DOC = """## a
**Insight**: The sync wrote a *Confidence* property
the database did not have, so it **failed**.
**Evidence**:

- first `run`
- second [link](https://x.example/l)

**Tags**: One, Two

A paragraph of its own.

## b
**Insight**: one line only

not this paragraph
"""
MULTI = ("Insight: '^\\*\\*Insight\\*\\*:\\s*(.*)$'\n"
         "Tags: {path: '^\\*\\*Tags\\*\\*:\\s*(.*)$', split: ','}")


def test_a_field_runs_until_a_marker_a_blank_line_or_a_heading(make_project):
    found = values(project(make_project, MULTI + "\nScore: {path: 'nothing (\\d+)'}", DOC))
    assert found["a"]["Insight"] == (
        {"text": "The sync wrote a "}, {"text": "Confidence", "italic": True},
        {"text": " property\nthe database did not have, so it "},
        {"text": "failed", "bold": True}, {"text": "."})
    assert found["a"]["Tags"] == ("One", "Two")
    assert found["b"]["Insight"] == "one line only"


def test_a_bulleted_field_becomes_lines_in_rich_text(make_project):
    fields = "Insight: '^\\*\\*Evidence\\*\\*:\\s*(.*)$'"
    found = values(project(make_project, fields, DOC))["a"]["Insight"]
    assert found == ({"text": "• first "}, {"text": "run", "code": True}, {"text": "\n• second "},
                     {"text": "link", "link": "https://x.example/l"})


def test_until_is_configurable_per_source_and_per_field(make_project):
    one_line = project(make_project, MULTI, DOC, sections="      until: [line]\n")
    assert values(one_line)["a"]["Insight"] == ({"text": "The sync wrote a "},
                                                {"text": "Confidence", "italic": True},
                                                {"text": " property"})
    fields = ("Insight: {path: '^\\*\\*Insight\\*\\*:\\s*(.*)$', until: [heading], "
              "format: plain}")
    wide = values(project(make_project, fields, DOC))
    assert wide["b"]["Insight"] == "one line only\n\nnot this paragraph"
    regex = "Insight: {path: '^\\*\\*Insight\\*\\*:\\s*(.*)$', until: ['^the'], format: plain}"
    assert values(project(make_project, regex, DOC))["a"]["Insight"] == \
        "The sync wrote a *Confidence* property"


def test_a_value_inside_a_line_does_not_run_on(make_project):
    fields = "Score: 'Score (\\d+) of'"
    found = values(project(make_project, fields, "## a\nScore 7 of 10, then\nmore text\n"))
    assert found["a"]["Score"] == 7


# -- section bounds ----------------------------------------------------------------------------

BOUNDS = """# Day

## a
Body a.
### sub of a
still a

---
after the rule

## b
Body b.

# Next day
not b
"""


def test_a_section_ends_at_a_heading_of_the_same_or_a_higher_level(make_project):
    found = values(project(make_project, "Insight: {path: $body, format: plain}", BOUNDS))
    assert found["a"]["Insight"] == "Body a.\n### sub of a\nstill a\n\n---\nafter the rule"
    assert found["b"]["Insight"] == "Body b."


def test_end_names_a_pattern_that_ends_a_section(make_project):
    root = project(make_project, "Insight: {path: $body, format: plain}", BOUNDS,
                   sections="      end: '^---$'\n")
    assert values(root)["a"]["Insight"] == "Body a.\n### sub of a\nstill a"


def test_headings_in_code_fences_do_not_end_a_section(make_project):
    doc = "## a\n```\n## not a heading\n```\nafter\n## b\n"
    found = values(project(make_project, "Insight: {path: $body, format: plain}", doc))
    assert found["a"]["Insight"] == "```\n## not a heading\n```\nafter"


def test_a_line_in_a_code_fence_never_starts_or_ends_a_section(make_project):
    """QA: `### Entry #3: in fence` inside a fence became a row. A fenced line matching the
    heading pattern is text of its section, and a fenced `end` line does not end it."""
    doc = ("## a\nExample entry:\n```markdown\n## b\n---\n```\n~~~\n## c\n~~~\nafter\n\n"
           "---\nnot a\n## d\nd body\n")
    found = values(project(make_project, "Insight: {path: $body, format: plain}", doc,
                           sections="      end: '^---$'\n"))
    assert list(found) == ["a", "d"]
    assert found["a"]["Insight"] == "Example entry:\n```markdown\n## b\n---\n```\n~~~\n## c\n~~~\nafter"


# -- dates and numbers as written --------------------------------------------------------------

def test_dates_in_declared_languages_and_numbers_with_units_and_locales(make_project):
    fields = "When: '^When:\\s*(.*)$'\nScore: '^Score:\\s*(.*)$'"
    source = "    languages: [nb, en]\n    date_order: DMY\n    locale: nb\n"
    doc = ("## a\nWhen: 29. oktober 2025\nScore: 95%\n## b\nWhen: Oct 29, 2025 14:30\n"
           "Score: 1 234,5 kr\n## c\nWhen: 03.04.2025\nScore: 120 ms\n")
    found = values(project(make_project, fields, doc, source=source))
    assert [(found[k]["When"], found[k]["Score"]) for k in "abc"] == [
        ({"start": "2025-10-29"}, 0.95), ({"start": "2025-10-29T14:30:00"}, 1234.5),
        ({"start": "2025-04-03"}, 120)]


@pytest.mark.parametrize("written,expected", [
    ("2025-10-28 10:00 AM", "2025-10-28T10:00:00"), ("2025-10-28 10am", "2025-10-28T10:00:00"),
    ("2025-10-28 UTC", "2025-10-28"), ("2025-10-28T10:00:00 GMT", "2025-10-28T10:00:00+00:00"),
])
def test_a_date_starting_like_iso_with_a_time_written_otherwise_is_read(written, expected):
    """An ISO day followed by a time `fromisoformat` refuses is read by dateparser, as before
    impossible days were told apart (review: these were refused as 'not ISO 8601')."""
    from reconciler.project.written import read_date

    assert read_date(written) == expected


@pytest.mark.parametrize("written,source,message", [
    ("When: 2025-02-30", "", "no such day: February 2025 has 28 days"),
    ("When: 2025-13-01", "", "no such month: 13"),
    ("When: 2025-02-28T25:00", "", "not ISO 8601: write YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"),
    ("When: 31. Februar 2025", "    languages: [de]\n", "no such day: February 2025 has 28 days"),
    ("When: Feb 29, 2025", "", "no such day: February 2025 has 28 days"),
    ("When: 31/04/2025", "    date_order: DMY\n", "no such day: April 2025 has 30 days"),
])
def test_a_date_with_no_such_day_says_so(make_project, written, source, message):
    """QA: `2025-02-30` was called ambiguous (declare date_order) and `31. Februar 2025`, in a
    declared language, was told to declare its language: both are no date at all."""
    fields = "When: '^When:\\s*(.*)$'"
    root = project(make_project, fields, f"## a\n\n{written}\n", source=source)
    assert problems(root) == [f"log.md:3:7: row 'a': When expects a date, got "
                              f"{written[6:]!r}: not a date ({message})"]


@pytest.mark.parametrize("written,message", [
    ("When: 29. oktober 2025", "expects a date (ISO, or a full date written in en), got "
     "'29. oktober 2025': declare its language in `languages:` or write YYYY-MM-DD"),
    ("When: 03/04/2025", "expects a date, got '03/04/2025': an all-numeric date is ambiguous; "
     "declare date_order (DMY, MDY or YMD) in the source"),
    ("When: October 2025", "expects a date (ISO, or a full date written in en), got "
     "'October 2025': declare its language in `languages:` or write YYYY-MM-DD"),
    ("Score: 1 234,5", "expects a number, got '1 234,5': grouped or decimal-comma numbers need "
     "the source's `locale:` (nb, de, fr, en, …)"),
])
def test_unreadable_values_quote_the_original_text_at_file_line_col(make_project, written,
                                                                   message):
    fields = "When: '^When:\\s*(.*)$'\nScore: '^Score:\\s*(.*)$'"
    root = project(make_project, fields, f"## a\n\n{written}\n")
    name = written.split(":")[0]
    assert problems(root) == [f"log.md:3:{len(name) + 3}: row 'a': {name} {message}"]


# -- relations by key --------------------------------------------------------------------------

def test_relations_name_rows_by_key_and_unknown_keys_are_located(make_project):
    fields = "Related: {path: '^Related:\\s*(.*)$', split: ',', strip: '^#'}"
    root = project(make_project, fields, "## a\nRelated: #b\n## b\nRelated: #a, #zz\n")
    assert problems(root) == ["log.md:4:10: row 'b': Related: no row of log has the key 'zz' "
                              "(keys come from log's content source): fix the reference or add "
                              "the row"]
    (root / "log.md").write_text("## a\nRelated: #b\n## b\nRelated: #a\n")
    assert values(root)["b"]["Related"] == ("a",)


def test_a_relation_to_a_database_without_content_is_refused(make_project):
    root = project(make_project, "Related: '^Related:\\s*(.*)$'", "## a\nRelated: x\n")
    text = (root / DB).read_text().replace("database: log}", "database: other}")
    (root / DB).write_text(text)
    (root / "schemas/notion/other.yaml").write_text("title: Other\nproperties:\n"
                                                    "  Name: {type: title}\n")
    assert problems(root) == ["log.md:2:10: row 'a': Related names rows of other by key ('x'), "
                              "but other has no content: section, so its rows have no keys: "
                              "give it one"]


# -- the spec, checked before anything is read -------------------------------------------------

def test_bad_options_are_spec_problems_at_their_yaml_position(make_project):
    fields = ("Tags: {path: '^Tags:(.*)$', split: {regex: '('}}\n"
              "Level: {path: '^Level:(.*)$', split: ','}\n"
              "Insight: {path: '^I:(.*)$', strip: '[', until: ['(']}")
    source = "    languages: [nb, xx]\n    locale: zz_ZZ\n"
    found = problems(project(make_project, fields, "## a\n", source=source))
    s = SOURCE_LINE
    assert found == [
        f"{DB}:{s + 1}:5: languages: Unknown language(s): 'xx' (codes as the dateparser package "
        "knows them: en, nb, da, de, fr, …)",
        f"{DB}:{s + 2}:5: locale: unknown locale 'zz_ZZ' (a CLDR locale such as nb, de, fr, "
        "en_US)",
        f"{DB}:{s + 8}:45: split: invalid regular expression '(': missing ), unterminated "
        "subpattern at position 0",
        f"{DB}:{s + 9}:39: split: a select holds one value; split is for multi_select, "
        "people, relation, files and array columns",
        f"{DB}:{s + 10}:37: strip: invalid regular expression '[': unterminated character set "
        "at position 0",
        f"{DB}:{s + 10}:57: until: invalid regular expression '(': missing ), unterminated "
        "subpattern at position 0"]


def test_until_only_applies_to_markdown_sections(make_project):
    spec = LOG + "    json: m/*.json\n    fields: {Key: name, Insight: {path: n, until: [blank]}}\n"
    root = make_project({DB: spec, "m/a.json": '{"name": "a"}'})
    assert problems(root) == [f"{DB}:{SOURCE_LINE + 2}:44: until: only a markdown_sections "
                              "source has fields that span lines, not a json source"]


def test_a_heading_group_is_located_at_its_column(make_project):
    spec = (LOG + "    markdown_sections:\n      files: log.md\n"
            "      heading: '^## (\\w+) — (.+)$'\n"
            "      fields: {Key: $heading.1, When: $heading.2}\n")
    root = make_project({DB: spec, "log.md": "intro\n## a — someday\n"})
    assert problems(root) == ["log.md:2:8: row 'a': When expects a date (ISO, or a full date "
                              "written in en), got 'someday': declare its language in "
                              "`languages:` or write YYYY-MM-DD"]


_MD = st.lists(st.sampled_from(["## a", "## b", "### c", "# d", "\n", "\n\n", "**Tags**: ", "x, y",
                                "- ", "1. ", "**", "`", "[l](u)", "---", "```", "Related: a",
                                "When: 29. oktober 2025", "When: 1/2/3", "Score: 9,5 %", "é"]),
               max_size=40).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_MD)
def test_arbitrary_notes_raise_only_spec_error(make_project, doc):
    fields = (MULTI + "\nRelated: {path: '^Related:\\s*(.*)$', split: ','}\n"
              "When: '^When:\\s*(.*)$'\nScore: '^Score:\\s*(.*)$'\n"
              "Links: '^\\*\\*Tags\\*\\*:\\s*(.*)$'\nOwners: '^- (.*)$'")
    root = project(make_project, fields, doc, source="    languages: [nb, en]\n    locale: nb\n",
                   sections="      end: '^---$'\n")
    try:
        load_project(root, env={})
    except SpecError:
        pass
