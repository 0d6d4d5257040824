"""Shared fixtures: model factories and a copy of the bundled example workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.model.notion import Database, Property, Relation, SelectOption

REPO = Path(__file__).resolve().parents[1]


def make_property(name: str, type: str = "rich_text", **fields) -> Property:
    """A property with sensible defaults; `options` may be given as plain names."""
    options = fields.pop("options", ())
    fields["options"] = tuple(o if isinstance(o, SelectOption) else SelectOption(name=o, color="blue")
                              for o in options)
    if isinstance(fields.get("relation"), str):
        fields["relation"] = Relation(database=fields["relation"])
    return Property(name=name, type=type, **fields)


def make_database(key: str = "tasks", *props: Property, **fields) -> Database:
    """A database with a `Name` title property first unless one is given."""
    if not any(p.type == "title" for p in props):
        props = (Property(name="Name", type="title", id="title"),) + props
    fields.setdefault("title", key.replace("_", " ").title())
    return Database(key=key, properties=tuple(props), **fields)


@pytest.fixture
def example_workspace(tmp_path: Path) -> Path:
    """A private copy of the bundled example (reconciler.yaml + schemas/), without local state."""
    root = tmp_path / "workspace"
    root.mkdir()
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    shutil.copytree(REPO / "schemas", root / "schemas",
                    ignore=shutil.ignore_patterns(".schema"))
    return root


@pytest.fixture(autouse=True)
def _no_real_notion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a real Notion: drop tokens and base URLs from the environment."""
    for name in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "NOTION_PARENT_PAGE_ID"):
        monkeypatch.delenv(name, raising=False)
