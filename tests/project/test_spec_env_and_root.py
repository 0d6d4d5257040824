"""`${VAR}` from the environment and `.env`, config defaults, and finding the project root."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ConfigError, SpecError
from reconciler.project import find_root, load_project

DB = "title: Tasks\nparent: ${TASKS_PARENT}\nproperties:\n  Name: {type: title}\n"
N = "schemas/notion/tasks.yaml"


def test_var_from_given_env(make_project):
    root = make_project({N: DB})
    ws = load_project(root, env={"TASKS_PARENT": "page-1"})
    assert ws.notion.database("tasks").parent_page_id == "page-1"


def test_var_from_dotenv_and_environment_wins(make_project, monkeypatch):
    root = make_project({N: DB, ".env": "TASKS_PARENT=from-dotenv\n"})
    monkeypatch.delenv("TASKS_PARENT", raising=False)
    assert load_project(root).notion.database("tasks").parent_page_id == "from-dotenv"
    monkeypatch.setenv("TASKS_PARENT", "from-env")
    assert load_project(root).notion.database("tasks").parent_page_id == "from-env"


def test_var_default_and_empty_parent(make_project):
    root = make_project({N: DB.replace("${TASKS_PARENT}", "${TASKS_PARENT:-dflt}"),
                           "reconciler.yaml": 'notion: {parent_page_id: "${P:-}"}\n'})
    ws = load_project(root, env={})
    assert ws.notion.database("tasks").parent_page_id == "dflt"
    assert ws.config.notion.parent_page_id is None  # empty: the planner picks the root page


def test_config_parent_defaults_to_env_and_is_inherited(make_project):
    root = make_project({N: DB.replace("parent: ${TASKS_PARENT}\n", "")})
    ws = load_project(root, env={"NOTION_PARENT_PAGE_ID": "abc"})
    assert ws.config.notion.parent_page_id == "abc"
    assert ws.notion.database("tasks").parent_page_id == "abc"


def test_config_under_schemas_and_supabase_section_is_open(make_project):
    root = make_project({N: DB, "schemas/reconciler.yaml":
                           "notion: {rate_limit: 1.5}\nsupabase: {schema: public, anything: [1]}\n"})
    ws = load_project(root, env={"TASKS_PARENT": "x"})
    assert ws.config.notion.rate_limit == 1.5
    assert ws.config.supabase.model_extra == {"schema": "public", "anything": [1]}
    assert ws.supabase == ()


def test_two_config_files_are_a_problem(make_project):
    root = make_project({"reconciler.yaml": "{}\n", "schemas/reconciler.yaml": "{}\n"})
    with pytest.raises(SpecError, match=r"schemas/reconciler.yaml:1:1: a second config file"):
        load_project(root, env={})


def test_find_root_walks_up(make_project):
    root = make_project({N: DB})
    assert find_root(root / "schemas" / "notion") == root.resolve()
    assert find_root(root) == root.resolve()


def test_find_root_from_schemas_with_its_own_config(tmp_path: Path):
    (tmp_path / "proj" / "schemas" / "notion").mkdir(parents=True)
    (tmp_path / "proj" / "schemas" / "reconciler.yaml").write_text("{}\n")
    assert find_root(tmp_path / "proj" / "schemas" / "notion") == (tmp_path / "proj").resolve()


def test_find_root_fails_clearly(tmp_path: Path):
    with pytest.raises(ConfigError, match="run `reconciler init` at the root of your project"):
        find_root(tmp_path)


def test_missing_root_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="not a directory"):
        load_project(tmp_path / "nowhere", env={})
