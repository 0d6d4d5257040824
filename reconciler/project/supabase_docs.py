"""What users write in `schemas/supabase/<table>.yaml` (pydantic document models).

Kept apart from the resource model (`model.postgres`), like Atlas's `sqlspec` and `schema`:
documents allow shorthands (`references: business_entities`, `grants: {anon: select}`), the
model holds one canonical form. The format is described in docs/supabase.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.project.content_docs import ContentDoc
from reconciler.project.sync_docs import SyncSpec

OnDelete = Literal["no action", "restrict", "cascade", "set null", "set default"]


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _names(value: Any) -> Any:
    """`x` → `[x]` for fields that take one name or a list of names."""
    return [value] if isinstance(value, str) else value


class ReferenceDoc(Doc):
    """`references: {table: business_entities, column: id, on_delete: cascade}`."""

    table: str
    column: str = "id"
    schema_: str | None = Field(None, alias="schema")
    on_delete: OnDelete = "no action"


class ColumnDoc(Doc):
    """One column. `type` is required unless the column overrides a mirrored one."""

    type: str | None = None
    values: list[str] | None = None
    nullable: bool | None = None
    default: Any = None
    default_sql: str | None = None
    comment: str | None = None
    primary_key: bool = False
    unique: bool = False
    references: str | ReferenceDoc | None = None
    check: str | None = None
    renamed_from: list[str] = []
    sensitive: bool | None = Field(
        None, description="Its values are personal data: plans, the ledger and reports show a "
                          "keyed digest, never the value. A mirrored column is as sensitive as "
                          "its property unless this says otherwise.")

    _listify = field_validator("renamed_from", mode="before")(_names)


class IndexDoc(Doc):
    """`{columns: [a, b], unique: false, method: btree, where: "…", name: …}`."""

    columns: list[str]
    name: str | None = None
    unique: bool = False
    method: Literal["btree", "hash", "gin", "gist", "brin", "spgist"] = "btree"
    where: str | None = None

    _listify = field_validator("columns", mode="before")(_names)


class PolicyDoc(Doc):
    """A row level security policy; `as: restrictive` for a restrictive one."""

    command: Literal["all", "select", "insert", "update", "delete"] = "all"
    roles: list[str] = ["public"]
    as_: Literal["permissive", "restrictive"] = Field("permissive", alias="as")
    using: str | None = None
    with_check: str | None = None

    _listify = field_validator("roles", mode="before")(_names)


class MirrorDoc(Doc):
    """`mirror: {database: tasks, dates: date}`; `mirror: tasks` is the short form."""

    database: str
    dates: Literal["timestamptz", "date"] = "timestamptz"


class TableDoc(Doc):
    """One table file. `name` defaults to the file's stem, `schema` to `public`."""

    schema_: str = Field("public", alias="schema")
    name: str | None = None
    comment: str | None = None
    renamed_from: list[str] = []
    mirror: str | MirrorDoc | None = None
    columns: dict[str, ColumnDoc | None] = {}
    primary_key: list[str] | None = None
    unique: list[list[str]] = []
    checks: list[str] = []
    indexes: list[IndexDoc] = []
    rls: bool = False
    policies: dict[str, PolicyDoc] = {}
    grants: dict[str, list[str]] = {}
    updated_at_trigger: bool | None = None
    content: ContentDoc | None = None
    sync: SyncSpec | None = None

    _listify = field_validator("renamed_from", mode="before")(_names)

    @field_validator("grants", mode="before")
    @classmethod
    def _grant_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _names(v) for k, v in value.items()}
        return value

    @field_validator("unique", mode="before")
    @classmethod
    def _unique_lists(cls, value: Any) -> Any:
        return [_names(v) for v in value] if isinstance(value, list) else value
