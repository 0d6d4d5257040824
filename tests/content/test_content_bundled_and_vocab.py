"""The bundled content loads; additive vocabularies grow; arbitrary sources raise only SpecError."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from content_helpers import DB, json_content, notion_files
from reconciler.errors import SpecError
from reconciler.model.notion import stable_color
from reconciler.project import load_project


def test_bundled_content_loads(bundled_project):
    ws = bundled_project
    sets = {c.address: c for c in ws.content}
    assert list(sets) == ["notion.learning_days", "notion.learning_log", "notion.learning_points",
                          "notion.lukhas_modules", "supabase.public.sot_entries"]
    modules = sets["notion.lukhas_modules"]
    assert (modules.key, modules.hash_field, len(modules.rows)) == ("Module", "Provenance SHA", 10)
    memory = next(r for r in modules.rows if r.key == "memory")
    assert memory.values["SLA p95"] == 120 and memory.values["Coverage"] == 0.91
    assert memory.values["Features"] == ("memory.fold", "memory.recall", "memory.cascade_prevention")
    assert memory.values["APIs"] == "POST /v1/memory/fold\nGET /v1/memory/recall"
    points = sets["notion.learning_points"]
    assert [r.key for r in points.rows] == [f"LP-0{n}" for n in range(70, 78)]
    assert points.rows[6].values["Category"] == "Architecture"
    sot = sets["supabase.public.sot_entries"]
    assert [r.key for r in sot.rows] == ["BUILD-001", "BUILD-002", "DEBUG-001", "DECISION-001"]
    assert sot.rows[0].values["metadata"]["category"] == "build_history"


def test_additive_values_become_desired_options_with_stable_colours(bundled_project):
    features = bundled_project.notion.database("lukhas_modules").property("Features")
    assert features.options_mode == "additive"
    assert features.options[-1].name == "memory.consolidation"
    assert features.options[-1].color == stable_color("memory.consolidation")


def test_additive_option_added_once_in_first_seen_order(make_project):
    files = notion_files(json_content("{Module: name, Features: f}"), {
        "content/m/a.json": json.dumps({"name": "a", "f": ["zeta", "memory.fold", "alpha"]}),
        "content/m/b.json": json.dumps({"name": "b", "f": ["alpha", "zeta"]})})
    prop = load_project(make_project(files), env={}).notion.database("modules") \
        .property("Features")
    assert [o.name for o in prop.options][-2:] == ["zeta", "alpha"]


def test_open_options_accept_anything(make_project):
    files = notion_files(json_content("{Module: name, Labels: l}"),
                         {"content/m/a.json": json.dumps({"name": "a", "l": ["new"]})})
    ws = load_project(make_project(files), env={})
    assert ws.content[0].rows[0].values["Labels"] == ("new",)
    assert ws.notion.database("modules").property("Labels").options == ()


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                       lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(["name", "sla", "p95_ms", "f", "x"]),
                                         inner, max_size=4), max_leaves=10)
FIELDS = "{Module: name, SLA: sla.p95_ms, Features: f, Released: x, Notes: x}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=JSONISH)
def test_arbitrary_manifest_raises_only_spec_error(make_project, data):
    files = notion_files(json_content(FIELDS), {"content/m/a.json": json.dumps(data)})
    try:
        load_project(make_project(files), env={})
    except SpecError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("-:#*\n {}[]ab1\t'\"")), max_size=80))
def test_arbitrary_yaml_and_markdown_raise_only_spec_error(make_project, text):
    for kind, name in (("yaml", "content/m/a.yaml"), ("markdown", "content/m/a.md")):
        content = json_content("{Module: a, Notes: b}").replace("json: content/m/*.json",
                                                                f"{kind}: {name}")
        try:
            load_project(make_project(notion_files(content, {name: text})), env={})
        except SpecError:
            pass
