"""`reconciler.yaml`: targets and defaults of a project (DESIGN.md "The user's project").

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
    """The whole `reconciler.yaml` (every section optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="reconciler.yaml")

    notion: NotionConfig = Field(default_factory=NotionConfig)
    supabase: SupabaseConfig = Field(default_factory=SupabaseConfig)


def config_paths(root: Path) -> list[Path]:
    """The config files that exist under `root`, in the order of `CONFIG_PATHS`."""
    return [root / rel for rel in CONFIG_PATHS if (root / rel).is_file()]
