"""Styled rich text: the normal form (`model.rich_text`), markdown → runs
(`project.markdown_text`), runs ⇄ Notion rich text arrays (`backends.notion.rich_text`), and the
plan file keeping runs as they are — so a styled value written and read back is equal and a
converged project plans nothing (the e2e proof through the local Notion is in
tests/e2e/test_value_roundtrip.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from reconciler.backends.notion.convert import value_from_api, value_to_api
from reconciler.backends.notion.rich_text import rich_text_from_api, rich_text_to_api
from reconciler.diff.content import comparable
from reconciler.model.content import content_hash
from reconciler.model.rich_text import normal, plain
from reconciler.plan import planfile
from reconciler.model.changes import Phase, UpdatePage
from reconciler.model.content import RowState
from reconciler.project.markdown_text import list_items, to_rich_text
from tests.unit.test_planfile import _plan

DEFAULT = {"bold": False, "italic": False, "strikethrough": False, "underline": False,
           "code": False, "color": "default"}


def as_response(items: list[dict]) -> list[dict]:
    """A request rich text array as Notion answers it (plain_text, full annotations, href)."""
    out = []
    for item in items:
        link = item["text"].get("link")
        out.append({"type": "text", "text": {"content": item["text"]["content"], "link": link},
                    "annotations": {**DEFAULT, **item.get("annotations", {})},
                    "plain_text": item["text"]["content"], "href": link and link["url"]})
    return out


def test_normal_form_merges_drops_and_falls_back_to_plain_text():
    assert normal([{"text": "a"}, {"text": "b", "bold": False, "color": "default"}]) == "ab"
    assert normal([{"text": ""}]) is None and normal("") is None
    assert normal([{"text": "a", "bold": True}, {"text": "b", "bold": True}, {"text": ""},
                   {"text": "c"}]) == ({"text": "ab", "bold": True}, {"text": "c"})
    assert plain(({"text": "ab", "bold": True}, {"text": "c"})) == "abc"


@pytest.mark.parametrize("run,message", [
    ("x", 'a rich text run must be {"text": str, …}'),
    ({"text": "x", "size": 3}, "unknown rich text run keys ['size']"),
    ({"text": "x", "bold": "yes"}, "rich text bold must be true or false"),
    ({"text": "x", "link": 3}, "rich text link must be a string"),
])
def test_malformed_runs_are_refused(run, message):
    with pytest.raises(ValueError) as err:
        normal([run])
    assert str(err.value).startswith(message)


def test_markdown_becomes_annotations_lines_and_items():
    assert to_rich_text("**b** *i* `c` ~~s~~ [l](https://x.example)\nnext") == (
        {"text": "b", "bold": True}, {"text": " "}, {"text": "i", "italic": True},
        {"text": " "}, {"text": "c", "code": True}, {"text": " "},
        {"text": "s", "strikethrough": True}, {"text": " "},
        {"text": "l", "link": "https://x.example"}, {"text": "\nnext"})
    assert to_rich_text("intro:\n- a\n- b\n  1. c\n\nafter") == \
        "intro:\n• a\n• b\n  1. c\n\nafter"
    assert to_rich_text("plain text\nwith lines") == "plain text\nwith lines"
    assert list_items("- **a**\n- b, c\n\nd") == [("a", None), ("b, c", None), ("d", None)]


def test_long_styled_runs_are_cut_at_2000_and_read_back_whole():
    runs = normal([{"text": "x" * 4500, "bold": True, "link": "https://x.example"},
                   {"text": "y"}])
    items = rich_text_to_api(runs)
    assert [len(i["text"]["content"]) for i in items] == [2000, 2000, 500, 1]
    assert items[0] == {"type": "text", "annotations": {"bold": True}, "text": {
        "content": "x" * 2000, "link": {"url": "https://x.example"}}}
    assert items[-1] == {"type": "text", "text": {"content": "y"}}
    assert rich_text_from_api(as_response(items)) == runs


def test_more_than_100_objects_is_refused_before_any_write():
    runs = [{"text": "a", "bold": i % 2 == 0} for i in range(101)]
    with pytest.raises(ValueError) as err:
        rich_text_to_api(runs)
    assert str(err.value) == ("101 characters in 101 styled runs need 101 rich text objects; "
                              "Notion accepts at most 100 in one value (Notion API \"Request "
                              "limits\", developers.notion.com/reference/request-limits): "
                              "shorten it, or give the field `format: plain`")


def test_a_mention_is_its_text_not_a_link():
    mention = {"type": "mention", "mention": {"type": "page", "page": {"id": "p"}},
               "annotations": DEFAULT, "plain_text": "Page", "href": "https://notion.so/p"}
    assert rich_text_from_api([mention]) == "Page"
    assert value_from_api({"type": "title", "title": as_response(
        rich_text_to_api(({"text": "T", "bold": True},)))}) == "T"  # titles stay plain


_run = st.fixed_dictionaries({"text": st.text(max_size=2500)}, optional={
    "bold": st.booleans(), "code": st.booleans(), "color": st.sampled_from(["default", "red"]),
    "link": st.sampled_from(["https://a.example", "https://b.example"])})


@given(st.lists(_run, max_size=8))
def test_any_runs_round_trip_through_the_api_shapes(runs):
    want = normal(runs)
    try:
        body = value_to_api("rich_text", want)
    except ValueError:
        return  # over 100 objects: refused at plan time (test above)
    got = value_from_api({"type": "rich_text", "rich_text": as_response(body["rich_text"])})
    assert got == want and comparable("rich_text", got) == comparable("rich_text", want)
    assert content_hash({"X": got}) == content_hash({"X": want})


def test_runs_survive_the_plan_file(tmp_path):
    runs = to_rich_text("Schema **first**, then [content](https://x.example).")
    change = UpdatePage(address='notion.tasks.page["a"]', phase=Phase.CONTENT, database="tasks",
                        before=RowState(id="p", hash="sha256:1", values={"Notes": None}),
                        after=RowState(key="a", hash="sha256:2", source="a.md:1",
                                       values={"Notes": runs}))
    plan = _plan(datetime(2026, 1, 1, tzinfo=timezone.utc))
    plan = plan.model_copy(update={"changes": (*plan.changes, change)})
    planfile.save(plan, tmp_path / "p.yaml")
    loaded = planfile.load(tmp_path / "p.yaml").changes[-1].after.values["Notes"]
    assert value_to_api("rich_text", loaded) == value_to_api("rich_text", runs)
    assert comparable("rich_text", loaded) == comparable("rich_text", runs)
