"""What users write under `sync:` in a mirrored table's file (`schemas/supabase/<table>.yaml`).

```yaml
mirror: master_tasks
sync:
  direction: both            # notion_to_supabase | supabase_to_notion | both
  conflicts: latest          # latest | notion_wins | supabase_wins | manual
  deletes: unlink            # unlink | delete (acts only with --prune)
  circuit_breaker: {max_share: 50%, min_rows: 5}
  relations:                 # a relation kept in a join table instead of a uuid[] column
    Related Workflows: {join_table: use_case_workflows}
  resolve:                   # manual conflicts resolved here: row or page id → column → side
    3f2a…: {status: notion}
  seed:                      # example rows, created once on both sides, then synced
    notion: {key: Task ID, source: {csv: content/sync/master_tasks.csv}}
    supabase: {key: task_id, source: {yaml: content/sync/tasks.yaml, items: rows, fields: {…}}}
```
`sync: both` is the short form. `project.sync` resolves these into `model.sync.SyncTable`s; the
format is described in docs/sync.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.project.content_docs import SourceDoc


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def share(value: Any) -> Any:
    """`50%` → 0.5; numbers as given (a share between 0 and 1)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            return value
    return value


class BreakerDoc(_Doc):
    """The mass-change circuit breaker: a run that would change or delete more than `max_share`
    of the table's rows on either side (and more than `min_rows` rows) stops unless `--force`."""

    max_share: float = Field(0.5, ge=0, le=1, description="Share of rows (0-1 or 'N%').")
    min_rows: int = Field(5, ge=0, description="Changes of at most this many rows never trip it.")

    _share = field_validator("max_share", mode="before")(share)


class RelationDoc(_Doc):
    """`{join_table: <table>}`: the relation is kept as rows of a join table whose two uuid
    columns reference this table's and the related table's `notion_page_id`."""

    join_table: str


class SeedDoc(_Doc):
    """Example rows of one side: `key` (the field a seed row is known by) and a content source
    (docs/content.md) whose `fields` name properties (`notion`) or columns (`supabase`)."""

    key: str
    source: SourceDoc


class SeedsDoc(_Doc):
    notion: SeedDoc | None = None
    supabase: SeedDoc | None = None


class SyncDoc(_Doc):
    """The `sync:` section (see the module docstring)."""

    direction: Literal["notion_to_supabase", "supabase_to_notion", "both"] = "both"
    conflicts: Literal["latest", "notion_wins", "supabase_wins", "manual"] = "latest"
    deletes: Literal["unlink", "delete"] = "unlink"
    circuit_breaker: BreakerDoc = BreakerDoc()
    relations: dict[str, RelationDoc] = {}
    resolve: dict[str, dict[str, Literal["notion", "supabase"]]] = {}
    seed: SeedsDoc | None = None


SyncSpec = Literal["notion_to_supabase", "supabase_to_notion", "both"] | SyncDoc


def sync_doc(value: SyncSpec) -> SyncDoc:
    """The long form of a `sync:` value (`sync: both` → `SyncDoc(direction="both")`)."""
    return SyncDoc(direction=value) if isinstance(value, str) else value
