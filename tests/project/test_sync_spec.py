"""`sync:` in a mirrored table's file: resolved into fields and seeds, and every mistake located
at `file:line:col` by `validate`, before any live state is read."""

from __future__ import annotations

import pytest

from reconciler.errors import SpecError
from reconciler.project import load_project
from tests.conftest import PATTERN_LIMIT

#: A backtracking pattern is cut sooner here (`quick_patterns`, tests/conftest.py).
pytestmark = pytest.mark.usefixtures("quick_patterns")

N = "schemas/notion/companies.yaml"
D = "schemas/notion/deals.yaml"
T = "schemas/supabase/companies.yaml"
COMPANIES = ("title: Companies\nproperties:\n  Name: {type: title}\n"
             "  Stage: {type: select, options: [Lead, Client]}\n  Score: {type: number}\n"
             "  Tags: {type: multi_select}\n  Made: {type: created_time}\n")
DEALS = ("title: Deals\nproperties:\n  Deal: {type: title}\n"
         "  Company: {type: relation, database: companies}\n")


def table(*lines: str) -> dict[str, str]:
    """companies.yaml (line 1: mirror, line 2 on: `lines`) beside the two databases."""
    return {N: COMPANIES, D: DEALS, T: "mirror: companies\n" + "".join(f"{x}\n" for x in lines)}


def test_sync_resolves_fields_directions_and_the_short_form(make_project):
    project = load_project(make_project(table("sync: both")))
    (synced,) = project.sync
    assert (synced.address, synced.database, synced.direction, synced.conflicts,
            synced.deletes) == ("supabase.public.companies", "companies", "both", "latest",
                                "unlink")
    fields = {f.column: f for f in synced.fields}
    assert set(fields) == {"name", "stage", "score", "tags", "made"}
    assert fields["stage"].options == ("Lead", "Client") and fields["tags"].options is None
    assert not fields["made"].to_notion and fields["made"].to_supabase  # computed by Notion
    page_id = next(c for c in project.supabase[0].columns if c.name == "notion_page_id")
    assert page_id.nullable, "a row created in Supabase has no page until the sync writes it"


def test_a_one_way_table_from_notion_keeps_notion_page_id_required(make_project):
    project = load_project(make_project(table("sync: notion_to_supabase")))
    page_id = next(c for c in project.supabase[0].columns if c.name == "notion_page_id")
    assert not page_id.nullable
    assert not any(f.to_notion for f in project.sync[0].fields)


SEEDS = ("sync:\n  seed:\n    notion: {key: Name, source: {yaml: content/c.yaml, items: notion}}\n"
         "    supabase: {key: name, source: {yaml: content/c.yaml, items: supabase}}\n")


def test_seeds_are_typed_per_side_and_relations_name_seed_keys(make_project):
    files = table(SEEDS) | {
        "content/c.yaml": "notion:\n  - {Name: Acme, Stage: Lead, Score: '3'}\n"
                          "supabase:\n  - {name: Globex, score: 2, tags: [x]}\n",
        "schemas/supabase/deals.yaml": "mirror: deals\nsync:\n  seed:\n    notion: {key: Deal, "
        "source: {yaml: content/d.yaml}}\ncolumns:\n  company: {type: uuid, references: "
        "{table: companies, column: notion_page_id}}\n",
        "content/d.yaml": "{Deal: Big, Company: [Globex]}\n"}
    project = load_project(make_project(files))
    companies, deals = project.sync
    assert [(s.side, s.key, s.values.get("Score", s.values.get("score"))) for s in
            companies.seeds] == [("notion", "Acme", 3), ("supabase", "Globex", 2)]
    assert deals.seeds[0].values["Company"] == ("Globex",)
    assert companies.seed_keys == {"notion": "Name", "supabase": "name"}


CASES = [
    ("not-mirrored", {N: COMPANIES, T: "columns:\n  id: {type: uuid, primary_key: true}\n"
                      "sync: both\n"}, (T, 3, 1, "only a mirrored table syncs")),
    ("bad-direction", table("sync: {direction: sideways}"), (T, 2, 8, "direction")),
    ("bad-share", table("sync: {circuit_breaker: {max_share: 150%}}"),
     (T, 2, 26, "less than or equal to 1")),
    ("required-column", table("sync: both", "columns:", "  owner: {type: text, nullable: false}"),
     (T, 4, 3, "NOT NULL without a default and no Notion property fills it")),
    ("type-mismatch", table("sync: both", "columns:", "  score: {type: boolean}"),
     (T, 4, 3, "cannot hold the values of the number property 'Score'")),
    ("resolve-unknown-column", table("sync: {resolve: {abc: {nope: notion}}}"),
     (T, 2, 24, "'nope' is not a synced column")),
    ("seed-key-not-synced", table(SEEDS.replace("key: Name", "key: Nope")) | {
        "content/c.yaml": "notion: []\nsupabase: []\n"},
     (T, 4, 14, "must be a synced property holding text")),
    ("seed-unknown-relation", {**table(SEEDS), "content/c.yaml": "notion: []\nsupabase: []\n",
                               "schemas/supabase/deals.yaml": "mirror: deals\nsync:\n  seed:\n"
                               "    notion: {key: Deal, source: {yaml: content/d.yaml}}\n",
                               "content/d.yaml": "{Deal: Big, Company: [Nobody]}\n"},
     ("content/d.yaml", 1, 1, "names 'Nobody', which is no seed row")),
    ("seed-slow-pattern", table("sync:\n  seed:\n    notion:\n      key: Name\n      source:\n"
                                "        yaml: content/c.yaml\n        items: notion\n"
                                "        fields:\n          Name: Name\n"
                                "          Tags: {path: Tags, split: {regex: '(a|aa)+$'}}") | {
        "content/c.yaml": "notion:\n  - {Name: Acme, Tags: " + "a" * 40 + "b}\n"},
     (T, 11, 38, f"took longer than {PATTERN_LIMIT:g} s on content/c.yaml:2: it backtracks")),
    ("relation-join-not-declared", table("sync: {relations: {Stage: {join_table: x}}}"),
     (T, 2, 20, "'Stage' is not a relation property")),
    ("notion-content-fights-sync", {**table("sync: both"),
                                    N: COMPANIES + "content:\n  key: Name\n  hash: H\n  source: "
                                    "{csv: content/x.csv}\n"},
     (T, 2, 1, "which would undo what the sync brings from Supabase")),
]


@pytest.mark.parametrize("files, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sync_mistakes_are_located(make_project, files, expected):
    with pytest.raises(SpecError) as caught:
        load_project(make_project(files))
    file, line, col, phrase = expected
    found = [p for p in caught.value.problems if phrase in p.message]
    assert found, str(caught.value)
    assert (found[0].file, found[0].line, found[0].col) == (file, line, col), str(found[0])
