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


def _grant_map(value: Any) -> Any:
    """`{role: privilege}` → `{role: [privilege]}` (grants take one privilege or a list)."""
    if isinstance(value, dict):
        return {k: _names(v) for k, v in value.items()}
    return value


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
    identity: Literal["always", "by default"] | None = None
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
    concurrently: bool = False

    _listify = field_validator("columns", mode="before")(_names)


class PolicyDoc(Doc):
    """A row level security policy; `as: restrictive` for a restrictive one."""

    command: Literal["all", "select", "insert", "update", "delete"] = "all"
    roles: list[str] = ["public"]
    as_: Literal["permissive", "restrictive"] = Field("permissive", alias="as")
    using: str | None = None
    with_check: str | None = None

    _listify = field_validator("roles", mode="before")(_names)


class TriggerDoc(Doc):
    """`{function: set_owner, timing: before, events: [insert, update], for_each: row,
    when: "…", enabled: true}`; `function` may be schema-qualified (default: the table's)."""

    function: str
    timing: Literal["before", "after", "instead of"] = "before"
    events: list[Literal["insert", "update", "delete", "truncate"]] = ["update"]
    for_each: Literal["row", "statement"] = "row"
    when: str | None = None
    enabled: bool = True

    _listify = field_validator("events", mode="before")(_names)


class MirrorDoc(Doc):
    """`mirror: {database: tasks, dates: date}`; `mirror: tasks` is the short form."""

    database: str
    dates: Literal["timestamptz", "date"] = "timestamptz"


class TableDoc(Doc):
    """One table file (`kind: table`, the default). `name` defaults to the file's stem,
    `schema` to `public`."""

    kind: Literal["table"] = "table"
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
    force_rls: bool = False
    realtime: bool | None = None
    policies: dict[str, PolicyDoc] = {}
    grants: dict[str, list[str]] = {}
    triggers: dict[str, TriggerDoc] = {}
    updated_at_trigger: bool | None = None
    content: ContentDoc | None = None
    sync: SyncSpec | None = None

    _listify = field_validator("renamed_from", mode="before")(_names)

    _grant_lists = field_validator("grants", mode="before")(_grant_map)

    @field_validator("unique", mode="before")
    @classmethod
    def _unique_lists(cls, value: Any) -> Any:
        return [_names(v) for v in value] if isinstance(value, list) else value


# --- objects beside tables (one per file, chosen by `kind:`) ----------------------------------


class EnumValueDoc(Doc):
    """`{name: shipped, renamed_from: [sent]}`: a value that had another name."""

    name: str
    renamed_from: list[str] = []

    _listify = field_validator("renamed_from", mode="before")(_names)


class EnumDoc(Doc):
    """`kind: enum`: `CREATE TYPE <name> AS ENUM (values…)`."""

    kind: Literal["enum"]
    schema_: str = Field("public", alias="schema")
    name: str | None = None
    values: list[str | EnumValueDoc]


class ExtensionDoc(Doc):
    """`kind: extension` (the file stem is the extension's name unless `name:` says otherwise);
    `absent: true` drops it."""

    kind: Literal["extension"]
    name: str | None = None
    schema_: str | None = Field(None, alias="schema")
    version: str | None = None
    absent: bool = False


class SequenceDoc(Doc):
    """`kind: sequence`; bounds default to those of its type (docs, "CREATE SEQUENCE")."""

    kind: Literal["sequence"]
    schema_: str = Field("public", alias="schema")
    name: str | None = None
    as_: Literal["smallint", "integer", "bigint"] = Field("bigint", alias="as")
    start: int | None = None
    increment: int = 1
    min: int | None = None
    max: int | None = None
    cache: int = 1
    cycle: bool = False


class ViewDoc(Doc):
    """`kind: view`: `query` is the SELECT; `security_invoker: true` makes it obey the
    caller's row level security."""

    kind: Literal["view"]
    schema_: str = Field("public", alias="schema")
    name: str | None = None
    query: str
    security_invoker: bool = False
    comment: str | None = None
    grants: dict[str, list[str]] = {}

    _grant_lists = field_validator("grants", mode="before")(_grant_map)


class FunctionDoc(Doc):
    """`kind: function`: a function PostgREST serves at `/rest/v1/rpc/<name>`."""

    kind: Literal["function"]
    schema_: str = Field("public", alias="schema")
    name: str | None = None
    arguments: str = ""
    returns: str
    language: str = "sql"
    body: str
    volatility: Literal["volatile", "stable", "immutable"] = "volatile"
    security_definer: bool = False
    search_path: str | None = None
    comment: str | None = None
    grants: dict[str, list[str]] = {}

    _grant_lists = field_validator("grants", mode="before")(_grant_map)


class DefaultPrivilegesDoc(Doc):
    """`kind: default_privileges`: what roles get on the objects `owner` creates in `schema`
    from now on (`{role: [privilege, …]}` or `{role: all}` per kind of object)."""

    kind: Literal["default_privileges"]
    schema_: str = Field("public", alias="schema")
    owner: str = "postgres"
    tables: dict[str, list[str]] = {}
    sequences: dict[str, list[str]] = {}
    functions: dict[str, list[str]] = {}

    _grant_lists = field_validator("tables", "sequences", "functions", mode="before")(_grant_map)


#: The document model of each `kind:` a file under schemas/supabase may have.
DOC_KINDS: dict[str, type[Doc]] = {
    "table": TableDoc, "enum": EnumDoc, "extension": ExtensionDoc, "sequence": SequenceDoc,
    "view": ViewDoc, "function": FunctionDoc, "default_privileges": DefaultPrivilegesDoc,
}
