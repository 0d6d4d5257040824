"""Rendering: text for terminals, markdown for review (attention first), JSON = the document."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from reconciler.plan import planfile
from reconciler.render import render
from tests.unit.test_planfile import _plan


def _doc():
    return planfile.to_document(_plan(datetime(2026, 1, 1, tzinfo=timezone.utc)))


def test_text_lists_every_change_and_the_summary():
    text = render(_doc(), "text")
    assert '+ notion.tasks.property["Status"]' in text
    assert '- notion.tasks.property["Old"]' in text
    assert "destructive" in text
    assert "Plan: 2 to create, 0 to update, 0 to rename, 1 to delete, 0 manual." in text
    assert "\x1b[" not in text


def test_text_colours_only_when_asked():
    assert "\x1b[" in render(_doc(), "text", color=True)


def test_markdown_puts_destructive_changes_before_the_rest():
    md = render(_doc(), "markdown")
    attention = md.index("### Needs attention")
    assert md.index('**Destructive** delete `notion.tasks.property["Old"]`') > attention
    assert md.index("### Changes") > attention
    assert "| 2 | 0 | 0 | 1 | 0 | 0 |" in md


def test_json_is_the_plan_document():
    doc = _doc()
    out = json.loads(render(doc, "json"))
    assert out["summary"]["create"] == 2
    assert [c["action"] for c in out["changes"]] == ["create", "delete", "create"]


def test_no_changes_says_so():
    doc = _doc() | {"changes": [], "summary": {}}
    assert "No changes" in render(doc, "text")
    assert "No changes" in render(doc, "markdown")


def _content_doc(rows: int) -> dict:
    from reconciler.model.changes import CreatePage, Phase
    from reconciler.model.content import ContentSummary, RowState
    from reconciler.plan.model import Plan, PlanHeader

    changes = tuple(CreatePage(address=f'notion.m.page["row{i:04d}"]', phase=Phase.CONTENT,
                               database="m", lagging=("Owner",),
                               after=RowState(key=f"row{i:04d}", hash="sha256:x", source="f",
                                              values={"Name": f"row{i:04d}", "Owner": "ada"}))
                    for i in range(rows))
    plan = Plan(header=PlanHeader(tool_version="t", created_at="c", spec_hash="sha256:s"),
                changes=changes,
                content={"notion.m": ContentSummary(key="Name", hash_field="H", create=rows,
                                                    unchanged=7, lag={'notion.m.property["Owner"]': rows})})
    return planfile.to_document(plan)


def test_thousands_of_rows_stay_readable():
    doc = _content_doc(3000)
    text = render(doc, "text")
    assert text.count("will be created") == 20
    assert "… and 2980 more row change(s) in notion.m" in text
    assert "notion.m: 3000 to create, 0 to update, 0 to archive, 7 unchanged" in text
    assert 'notion.m.property["Owner"]: 3000 rows waiting' in text
    md = render(doc, "markdown")
    assert "| `notion.m` | 3000 | 0 | 0 | 7 | 0 |" in md
    assert "<details><summary><code>notion.m</code>: 3000 change(s)" in md  # collapsed
    assert md.index("### Schema lag") < md.index("### Changes")
