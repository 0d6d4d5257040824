"""Rendering: text for terminals, markdown for review (attention first, within a GitHub
comment), JSON = the document."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from markdown_it import MarkdownIt

from reconciler.plan import planfile
from reconciler.render import render
from reconciler.render.fields import field_changes
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT
from tests.unit.test_planfile import _plan

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _doc():
    return planfile.to_document(_plan(datetime(2026, 1, 1, tzinfo=timezone.utc)))


def test_text_lists_every_change_and_the_summary():
    text = render(_doc(), "text")
    assert '+ notion.tasks.property["Status"]' in text
    assert '- notion.tasks.property["Old"]' in text
    assert "destructive" in text
    assert "Plan: 2 to create, 0 to update, 0 to rename, 1 to delete, 0 manual." in text
    assert "\x1b[" not in text


def test_text_colours_only_when_asked_and_is_otherwise_the_same_bytes():
    coloured = render(_doc(), "text", color=True)
    assert "\x1b[1;32m+ notion.tasks.property" in coloured  # rich's bold green
    assert ANSI.sub("", coloured) == render(_doc(), "text")


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
    assert "<details><summary><code>notion.m</code> rows: 3000 to create</summary>" in md  # collapsed
    assert md.index("### Schema lag") < md.index("### Changes")
    assert len(md) < GITHUB_COMMENT_LIMIT
    hidden = int(re.search(r"\*\*… and (\d+) more change\(s\) not shown here\*\*", md).group(1))
    assert md.count("- `+` `page[") + hidden == 3000
    assert "- `notion.m` rows: " in md  # where the hidden ones are


def test_field_paths_name_keys_and_options_not_positions():
    before = {"name": "Status", "type": "select", "id": "a",
              "options": [{"name": "Done", "color": "green"}, {"name": "Todo", "color": "red"}]}
    after = {"name": "Status", "type": "select", "id": "b",
             "options": [{"name": "Done", "color": "blue"}, {"name": "Todo", "color": "red"},
                         {"name": "Won't do", "color": "gray"}]}
    assert field_changes(before, after) == [
        {"field": 'options["Done"].color', "before": '"green"', "after": '"blue"'},
        {"field": 'options["Won\'t do"]', "before": "(none)", "after": '{"color": "gray"}'}]
    reordered = dict(before, options=before["options"][::-1])
    assert field_changes(before, reordered) == [
        {"field": "options (order)", "before": '["Done", "Todo"]', "after": '["Todo", "Done"]'}]
    grant = lambda *p: {"grant": {"role": "anon", "privileges": list(p)}}  # noqa: E731
    assert field_changes(grant("select"), grant("select", "insert")) == [
        {"field": "grant.privileges", "before": '["select"]', "after": '["select", "insert"]'}]
    assert field_changes({"values": {"SLA p95": 1}}, {"values": {"SLA p95": 2}})[0]["field"] \
        == 'values["SLA p95"]'


def _destructive_doc(n: int) -> dict:
    from reconciler.model.changes import DropProperty, Phase
    from reconciler.plan.model import Plan, PlanHeader
    from tests.conftest import make_property

    changes = tuple(DropProperty(address=f'notion.t.property["P{i:05d}"]', phase=Phase.PROPERTY,
                                 database="t", before=make_property(f"P{i:05d}", id=f"x{i}"),
                                 destructive=True, note="drops the property and its values")
                    for i in range(n))
    plan = Plan(header=PlanHeader(tool_version="t", created_at="c", spec_hash="sha256:s",
                                  backends={"notion": "local Notion"}), changes=changes)
    return planfile.to_document(plan)


def test_markdown_fits_a_comment_even_when_everything_needs_attention():
    md = render(_destructive_doc(5000), "markdown")
    assert len(md) < GITHUB_COMMENT_LIMIT
    attention = md.split("### Needs attention")[1].split("### Changes")[0]
    assert "- **Destructive** delete of 5000 in `notion.t`: property " in attention
    cut = re.search(r", … and (\d+) more \(`reconciler show FILE` lists them all\)", attention)
    left = int(cut.group(1)) if cut else 0
    assert attention.count('"P0') + left == 5000


def test_every_destructive_change_is_named_and_changes_do_not_repeat_them_first():
    """QA: 300 properties dropped from one database: "Needs attention" listed 187, then
    "… and 113 more", while "Changes" repeated 84 of them."""
    doc = _destructive_doc(300)
    md = render(doc, "markdown")
    assert len(md) < GITHUB_COMMENT_LIMIT
    attention = md.split("### Needs attention")[1].split("### Changes")[0]
    assert "more" not in attention
    assert all(f'"P{i:05d}"' in attention for i in range(300))
    assert md.count("- `-` `property[") < 300  # the repetition went first
    assert 'named under "Needs attention"' in md


def _conflicts_doc(rows: int) -> dict:
    from reconciler.model.changes import DropProperty, Phase
    from reconciler.model.sync import SyncSummary
    from reconciler.plan.model import Plan, PlanHeader
    from tests.conftest import make_property

    conflicts = tuple({"row": f"00000000-0000-4000-8000-{i:012d}", "field": field,
                       "notion": f"Notion {field} {i}", "supabase": f"Supabase {field} {i}",
                       "base": f"was {field} {i}", "resolution": "notion",
                       "reason": "both edited in the same minute (2026-12-01T10:15+00:00): "
                                 "a tie goes to Notion"}
                      for i in range(rows) for field in ("status", "priority", "description"))
    sync = SyncSummary(database="master_tasks", direction="both", policy="latest",
                       conflicts=conflicts, to_notion={"update": rows},
                       to_supabase={"update": rows})
    changes = tuple(DropProperty(address=f'notion.d{j:03d}.property["Old"]', phase=Phase.PROPERTY,
                                 database=f"d{j:03d}", before=make_property("Old", id="x"),
                                 destructive=True) for j in range(3))
    diagram = "erDiagram\n" + "".join(f"  d{j:03d} {{\n    text Name\n  }}\n" for j in range(300))
    plan = Plan(header=PlanHeader(tool_version="t", created_at="c", spec_hash="sha256:s",
                                  diagram=diagram),
                changes=changes, sync={"supabase.public.tasks": sync})
    return planfile.to_document(plan)


def test_many_sync_conflicts_fit_grouped_by_field_with_every_row_named():
    """QA: 300 rows edited on both sides made 900 conflict rows, a 192,994-character report
    without its diagram, and a "not shown" line naming no resource."""
    md = render(_conflicts_doc(300), "markdown")
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert "900 conflicts, grouped by field: `reconciler show FILE` shows each" in md
    for field in ("status", "priority", "description"):
        assert f"| `supabase.public.tasks` | `{field}` | **notion** | 300 | " in md
    assert all(f"00000000-0000-4000-8000-{i:012d}" in md for i in range(300))
    for j in range(3):  # destructive changes named whatever the conflicts take
        assert f'- **Destructive** delete `notion.d{j:03d}.property["Old"]`' in md
    assert "```mermaid" in md or "`reconciler graph --plan FILE --format markdown` prints it" in md


def test_conflicts_beyond_a_comment_are_cut_with_a_pointer_and_counted():
    md = render(_conflicts_doc(3000), "markdown")
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert "9000 conflicts, grouped by field" in md
    for field in ("status", "priority", "description"):
        listed = re.search(rf"\| `{field}` \| \*\*notion\*\* \| 3000 \| (.*) … and (\d+) more \|", md)
        assert listed.group(1).count("`00000000-") + int(listed.group(2)) == 3000
    assert "`reconciler graph --plan FILE --format markdown` prints it" in md


def test_the_closing_line_names_or_counts_every_resource_left_out():
    from reconciler.model.changes import AddProperty, Phase
    from reconciler.plan.model import Plan, PlanHeader
    from tests.conftest import make_property

    changes = tuple(AddProperty(address=f'notion.db{j:04d}.property["P{i}"]', phase=Phase.PROPERTY,
                                database=f"db{j:04d}", after=make_property(f"P{i}", id=f"x{i}"))
                    for j in range(2000) for i in range(2))
    md = render(planfile.to_document(Plan(header=PlanHeader(
        tool_version="t", created_at="c", spec_hash="sha256:s"), changes=changes)), "markdown")
    assert len(md) < GITHUB_COMMENT_LIMIT
    closing = md.split("more change(s) not shown here**")[1]
    named = len(re.findall(r"^- `notion\.db\d{4}`: ", closing, re.M))
    counted = int(re.search(r"- … and (\d+) more notion resource\(s\)", closing).group(1))
    shown = len(re.findall(r"<details><summary><code>notion\.db", md))
    assert named > 0 and named + counted + shown >= 2000


def test_markdown_renders_as_sections_lists_and_sql_blocks():
    from reconciler.model.changes import AddColumn, Phase
    from reconciler.model.postgres import Column, ColumnOn
    from reconciler.plan.model import Plan, PlanHeader

    column = AddColumn(address='supabase.public.t.column["x"]', phase=Phase.COLUMN,
                       after=ColumnOn(schema_name="public", table="t",
                                      column=Column(name="x", type="text")),
                       sql=('ALTER TABLE "public"."t" ADD COLUMN "x" text;',))
    doc = planfile.to_document(Plan(header=PlanHeader(
        tool_version="t", created_at="c", spec_hash="sha256:s"), changes=(column,)))
    doc["changes"] += _doc()["changes"]
    html = MarkdownIt("commonmark").enable("table").render(render(doc, "markdown"))
    assert '<code class="language-sql">ALTER TABLE &quot;public&quot;.&quot;t&quot; ADD COLUMN' in html
    assert html.count("<details") == html.count("</details>") == 2
    assert "<h3>Needs attention</h3>" in html and "<table>" in html
    assert '<code>+</code> <code>column[&quot;x&quot;]</code> create' in html


def test_rows_of_tables_whose_names_need_quotes_stay_with_their_table():
    """`supabase.public.table["Notes a"].row[…]` belongs to that table, not to the schema: each
    table's rows are listed and counted on their own."""
    from reconciler.render.view import resource_of

    assert resource_of('supabase.public.table["Notes a"].row["a-1"]') == \
        'supabase.public.table["Notes a"]'
    assert resource_of('supabase.schema["x y"].table["t"].column["c"]') == \
        'supabase.schema["x y"].table["t"]'
    assert resource_of('supabase.public.tasks.row["x"]') == "supabase.public.tasks"
    assert resource_of('notion.tasks.property["A"]') == "notion.tasks"
    doc = _doc()
    doc["changes"] = [{"address": f'supabase.public.table["Notes {t}"].row["{t}-{i}"]',
                       "action": "create", "kind": "insert_row", "phase": 90,
                       "after": {"key": f"{t}-{i}", "values": {"n": i}}}
                      for t in "ab" for i in range(22)]
    text = render(doc, "text")
    assert 'more row change(s) in supabase.public.table["Notes a"]' in text
    assert 'more row change(s) in supabase.public.table["Notes b"]' in text
