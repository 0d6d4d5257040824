"""`reconciler.yaml`: connections and defaults of a project (DESIGN.md "The user's project").

Found at the project root or at `schemas/reconciler.yaml`. It holds no secrets: tokens and
connection strings come from the environment or `.env` (DESIGN.md), so only `${VAR}` references
appear here. Example::

    notion: {parent_page_id: "${NOTION_PARENT_PAGE_ID:-}", rate_limit: 3}
    supabase: {}
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Where the config file may live, relative to the project root, in order of preference.
CONFIG_PATHS: tuple[str, ...] = ("reconciler.yaml", "schemas/reconciler.yaml")

#: Notion's average limit is about three requests per second per integration (NOTION-API.md §4.1).
DEFAULT_RATE_LIMIT = 3.0


class NotionConfig(BaseModel):
    """The `notion:` section.

    `parent_page_id`: page that parents databases which declare no `parent`; an empty value
    (`""`, e.g. from `${NOTION_PARENT_PAGE_ID:-}`) becomes None, which lets the planner use the
    local Notion's root page. `rate_limit`: requests per second, > 0.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    parent_page_id: str | None = Field(
        None, description="Default parent page id of the databases, e.g. ${NOTION_PARENT_PAGE_ID}.")
    rate_limit: float = Field(DEFAULT_RATE_LIMIT, gt=0, le=100,
                              description="Requests per second sent to Notion (about 3 is the API's limit).")

    @field_validator("parent_page_id")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class SupabaseConfig(BaseModel):
    """The `supabase:` section. Open for now: its keys are defined by the Supabase backend."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Config(BaseModel):
    """The whole `reconciler.yaml` (every section optional).

    `project_id` names the project for everything its clones share: the apply lock on a
    database is keyed by it (`apply.lock`). The first apply that locks a database writes a new
    one (`add_project_id`) for the project to commit.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, title="reconciler.yaml")

    project_id: str | None = Field(
        None, min_length=1, max_length=200,
        description="Identifies the project across clones (the apply lock on a database is "
                    "keyed by it). Written by the first apply; commit it.")
    notion: NotionConfig = Field(default_factory=NotionConfig)
    supabase: SupabaseConfig = Field(default_factory=SupabaseConfig)


def config_paths(root: Path) -> list[Path]:
    """The config files that exist under `root`, in the order of `CONFIG_PATHS`."""
    return [root / rel for rel in CONFIG_PATHS if (root / rel).is_file()]


PROJECT_ID_COMMENT = ("identifies this project across clones: applies of clones that share it "
                      "lock each other out (commit it)")


def add_project_id(root: Path) -> str:
    """Write a new `project_id` (a uuid4) at the top of the project's `reconciler.yaml`, keeping
    its comments (created when the project has none); returns it. Raises OSError."""
    import uuid

    from ruamel.yaml import YAML

    project_id = str(uuid.uuid4())
    paths = config_paths(root)
    path = paths[0] if paths else root / CONFIG_PATHS[0]
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    data = yaml.load(path.read_text(encoding="utf-8")) if path.is_file() else None
    if not hasattr(data, "insert"):
        from ruamel.yaml.comments import CommentedMap
        data = CommentedMap()
    data.insert(0, "project_id", project_id, comment=PROJECT_ID_COMMENT)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    return project_id
