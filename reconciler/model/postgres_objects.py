"""What a Supabase project keeps in Postgres besides tables: enum types, extensions, sequences,
views, SQL functions called as RPCs, and default privileges (Postgres docs, "CREATE TYPE",
"CREATE EXTENSION", "CREATE SEQUENCE", "CREATE VIEW", "CREATE FUNCTION", "ALTER DEFAULT
PRIVILEGES").

Built by `project.supabase_objects` from YAML (desired) and by `backends.postgres.reader_objects`
from the catalog (live); `diff.postgres_objects` compares the two. Bodies and definitions are
compared in the spelling the server prints (the reader lets it normalise the desired text, as
for table expressions) and then by `normalise_sql`.
"""

from __future__ import annotations

from typing import Literal

from reconciler.addresses import child
from reconciler.model.base import Model
from reconciler.model.postgres import Grant, Table

Volatility = Literal["volatile", "stable", "immutable"]
DefaultsOn = Literal["tables", "sequences", "functions"]

#: Privileges per kind of object default privileges apply to (Postgres docs, "GRANT").
DEFAULT_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "tables": ("select", "insert", "update", "delete", "truncate", "references", "trigger"),
    "sequences": ("usage", "select", "update"),
    "functions": ("execute",),
}

#: Privileges a `grants:` entry may name, per kind of object file.
OBJECT_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "view": DEFAULT_PRIVILEGES["tables"], "function": DEFAULT_PRIVILEGES["functions"]}


def object_address(schema: str, kind: str, name: str) -> str:
    """`supabase.public.enum["mood"]`: an object of `kind` in `schema`."""
    return child(f"supabase.{schema}", kind, name)


class EnumType(Model):
    """`CREATE TYPE schema.name AS ENUM (values…)`; `renamed_values` (desired only) maps a
    value's former name to its new one, so the plan renames it instead of failing to drop it."""

    schema_name: str = "public"
    name: str
    values: tuple[str, ...]
    renamed_values: tuple[tuple[str, str], ...] = ()

    @property
    def address(self) -> str:
        return object_address(self.schema_name, "enum", self.name)

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.name}"


class Extension(Model):
    """An extension (`pg_trgm`, `vector`, …). `schema_name` where its objects go (None: the
    server's choice, not compared); `version` None: whatever is installed; `absent`: the spec
    asks for it to be dropped (extensions a spec does not mention are never dropped)."""

    name: str
    schema_name: str | None = None
    version: str | None = None
    absent: bool = False

    @property
    def address(self) -> str:
        return child("supabase", "extension", self.name)


class Sequence(Model):
    """A sequence of its own (a serial or identity column's sequence belongs to the column).
    Bounds are explicit on both sides (the loader fills the type's defaults in)."""

    schema_name: str = "public"
    name: str
    type: Literal["smallint", "integer", "bigint"] = "bigint"
    start: int = 1
    increment: int = 1
    min_value: int = 1
    max_value: int = 9223372036854775807
    cache: int = 1
    cycle: bool = False

    @property
    def address(self) -> str:
        return object_address(self.schema_name, "sequence", self.name)


class View(Model):
    """A view; `definition` its query (the reader spells the live one like the spec when the
    server prints both alike); `security_invoker` makes it check the caller's row level security
    (Supabase's advice for views in exposed schemas). `grants`: desired, the roles the spec
    names; live, every grantee but the owner."""

    schema_name: str = "public"
    name: str
    definition: str
    security_invoker: bool = False
    comment: str | None = None
    grants: tuple[Grant, ...] = ()

    @property
    def address(self) -> str:
        return object_address(self.schema_name, "view", self.name)


class Function(Model):
    """A function PostgREST serves as an RPC (`/rest/v1/rpc/<name>`). Matched by schema and name
    (one signature per name). `arguments` as `pg_get_function_arguments` prints them
    (`query text, max_rows integer DEFAULT 10`), `returns` as `pg_get_function_result` does,
    `body` the source between the dollar quotes, compared by `normalise_sql`. `grants` (privilege
    `execute`): desired, the roles the spec names; live, every grantee but the owner, `public`
    included (Postgres grants EXECUTE to PUBLIC on a new function). `identity` (live only) the
    argument types as `pg_get_function_identity_arguments` prints them, None once the
    canonicaliser found it to be the declared signature (it tells a hand-made overload apart)."""

    schema_name: str = "public"
    name: str
    arguments: str = ""
    returns: str
    language: str = "sql"
    body: str
    volatility: Volatility = "volatile"
    security_definer: bool = False
    search_path: str | None = None
    comment: str | None = None
    grants: tuple[Grant, ...] = ()
    identity: str | None = None

    @property
    def address(self) -> str:
        return object_address(self.schema_name, "function", self.name)


class DefaultPrivilege(Model):
    """`ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA schema GRANT … ON <on> TO grantee`:
    what `grant.role` gets on the objects `owner` creates in the schema from now on."""

    schema_name: str = "public"
    owner: str = "postgres"
    on: DefaultsOn = "tables"
    grant: Grant

    @property
    def address(self) -> str:
        return child(child(f"supabase.{self.schema_name}", "default_privileges", self.owner),
                     self.on, self.grant.role)


class SchemaObjects(Model):
    """Every object besides tables, on one side of the diff."""

    enums: tuple[EnumType, ...] = ()
    extensions: tuple[Extension, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    views: tuple[View, ...] = ()
    functions: tuple[Function, ...] = ()
    default_privileges: tuple[DefaultPrivilege, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)

    @property
    def schemas(self) -> set[str]:
        """The schemas these objects live in (extensions are database-wide)."""
        return {o.schema_name for kind in (self.enums, self.sequences, self.views, self.functions,
                                           self.default_privileges) for o in kind}

    def enum_names(self) -> frozenset[str]:
        """Each enum type's name, bare and schema-qualified (for checking column types)."""
        return frozenset(n for e in self.enums for n in (e.name, e.qualified))

    def with_enum_labels(self, tables: tuple[Table, ...]) -> tuple[Table, ...]:
        """`tables` with the declared labels on each column (or array column) whose type is an
        enum type declared here (`Column.enum_values`), so content rows are checked against them
        before the type exists; other tables are returned as they are."""
        labels = {n: e.values for e in self.enums for n in (e.name, e.qualified)}
        out = []
        for table in tables:
            columns = tuple(c.model_copy(update={"enum_values": labels[c.type.removesuffix("[]")]})
                            if c.enum_values is None and c.type.removesuffix("[]") in labels else c
                            for c in table.columns)
            out.append(table if columns == table.columns else
                       table.model_copy(update={"columns": columns}))
        return tuple(out)
