"""The Postgres resource model: tables, columns, keys, indexes, checks, policies and grants.

Built by `project.supabase` from YAML (desired) and by `backends.postgres.reader` from the catalog
(live); `diff.postgres` compares the two (Atlas `sql/schema/schema.go`: one model, two producers).
Types are kept in the canonical spelling of `normalise_type` and defaults in that of
`normalise_default`, so equal things compare equal whichever side produced them.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from reconciler.addresses import child, supabase_table
from reconciler.digests import short_digest
from reconciler.model.base import Model

#: Table privileges (Postgres docs, "GRANT": SELECT … TRIGGER on tables); `all` expands to these.
PRIVILEGES: tuple[str, ...] = (
    "select", "insert", "update", "delete", "truncate", "references", "trigger",
)
#: Postgres truncates identifiers to NAMEDATALEN-1 = 63 bytes (docs §4.1.1 "Identifiers").
MAX_IDENTIFIER = 63
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")

PolicyCommand = Literal["all", "select", "insert", "update", "delete"]


class Column(Model):
    """One column. `type` canonical (`integer`, `numeric(10,2)`, `text[]`, `timestamptz`);
    `default` a canonical SQL expression; `renamed_from` (desired only) former names;
    `enum_values` (live only) the labels of the column's enum type (of its elements for an
    array), in their sort order, for checking content before it is written. It is left out of
    dumps (plans, fingerprints): it describes the type, not the column. `sensitive` (desired
    only): the column holds personal data (declared, or carried from the property a `mirror:`
    column mirrors), so plans, ledgers and reports hold a keyed digest of its values
    (`model.sensitive`); Postgres never hears of it and the diff does not compare it."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None
    renamed_from: tuple[str, ...] = ()
    enum_values: tuple[str, ...] | None = Field(None, exclude=True)
    sensitive: bool = False


class ForeignKey(Model):
    """`columns` reference `ref_columns` of `ref_schema.ref_table`; `on_delete` in SQL words."""

    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "no action"

    @property
    def signature(self) -> tuple:
        return (self.columns, self.ref_schema, self.ref_table, self.ref_columns, self.on_delete)


class Unique(Model):
    name: str
    columns: tuple[str, ...]

    @property
    def signature(self) -> tuple:
        return self.columns


class Check(Model):
    """A CHECK constraint. `expression` is compared as text (the reader spells a live expression
    the way the spec does when the server finds them equivalent)."""

    name: str
    expression: str

    @property
    def signature(self) -> str:
        return self.expression


class Index(Model):
    """A non-constraint index. `columns` are column names or parenthesised expressions."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    method: str = "btree"
    where: str | None = None

    @property
    def signature(self) -> tuple:
        return (self.columns, self.unique, self.method, self.where)


class Policy(Model):
    """A row level security policy (Postgres docs, "CREATE POLICY")."""

    name: str
    command: PolicyCommand = "all"
    roles: tuple[str, ...] = ("public",)
    permissive: bool = True
    using: str | None = None
    with_check: str | None = None


class Grant(Model):
    """Table privileges held by `role` (sorted, lower case, from `PRIVILEGES`)."""

    role: str
    privileges: tuple[str, ...]


class Table(Model):
    """A table and everything the reconciler manages on it.

    `schema_name`/`name` identify it; `primary_key_name` is the live constraint's name (set by
    the reader, never compared); `touch_updated_at` is the trigger that keeps `updated_at`
    current; `mirror` names the Notion database the columns were derived from (desired only);
    `renamed_from` former names (desired only).
    """

    schema_name: str = "public"
    name: str
    columns: tuple[Column, ...] = ()
    primary_key: tuple[str, ...] = ()
    primary_key_name: str | None = None
    uniques: tuple[Unique, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    indexes: tuple[Index, ...] = ()
    comment: str | None = None
    rls: bool = False
    policies: tuple[Policy, ...] = ()
    grants: tuple[Grant, ...] = ()
    touch_updated_at: bool = False
    mirror: str | None = None
    renamed_from: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return table_address(self.schema_name, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


class TableRef(Model):
    """A table by schema and name."""

    schema_name: str
    table: str

    @property
    def address(self) -> str:
        return table_address(self.schema_name, self.table)


class TableAttrs(TableRef):
    """A table's own settings that `modify_table` changes."""

    comment: str | None = None
    rls: bool = False
    touch_updated_at: bool = False


class ColumnOn(TableRef):
    """A column of the table `schema_name.table`."""

    column: Column


class Constraint(Model):
    """Any table constraint as one shape: `type` primary_key / unique / check / foreign_key, its
    `name`, and the fields of that type (`columns`; `expression`; `ref_schema`, `ref_table`,
    `ref_columns`, `on_delete`)."""

    type: Literal["primary_key", "unique", "check", "foreign_key"]
    name: str
    columns: tuple[str, ...] | None = None
    expression: str | None = None
    ref_schema: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] | None = None
    on_delete: str | None = None

    @classmethod
    def of(cls, item: "Unique | Check | ForeignKey") -> "Constraint":
        kind = {Unique: "unique", Check: "check", ForeignKey: "foreign_key"}[type(item)]
        return cls(type=kind, **item.model_dump())


class ConstraintOn(TableRef):
    constraint: Constraint


class IndexOn(TableRef):
    index: Index


class PolicyOn(TableRef):
    policy: Policy


class GrantOn(TableRef):
    grant: Grant


class ForeignKeyRef(TableRef):
    """The foreign key `name` of the table `schema_name.table`."""

    name: str


def table_address(schema: str, name: str) -> str:
    """`supabase.public.tasks`; names that are not plain identifiers are quoted:
    `supabase.public.table["we\\"ird; t"]` (so every address stays parseable)."""
    if _PLAIN.match(schema) and _PLAIN.match(name):
        return supabase_table(schema, name)
    head = f"supabase.{schema}" if _PLAIN.match(schema) else child("supabase", "schema", schema)
    return child(head, "table", name)


def member_address(table: Table | tuple[str, str], element: str, name: str) -> str:
    """`supabase.public.tasks.column["status"]` for `element` column / constraint / index /
    policy / grant."""
    schema, tname = (table.schema_name, table.name) if isinstance(table, Table) else table
    return child(table_address(schema, tname), element, name)


def object_name(table: str, parts: list[str] | tuple[str, ...], suffix: str) -> str:
    """A Postgres-style generated name `<table>_<parts>_<suffix>` that fits in 63 bytes.

    Like Postgres's own `ChooseRelationName` it shortens the leading parts; unlike it, a name that
    had to be shortened gets an 8-hex hash, so two long names never collide.
    """
    name = "_".join([table, *parts, suffix])
    if len(name.encode()) <= MAX_IDENTIFIER:
        return name
    digest = short_digest(name)
    keep = MAX_IDENTIFIER - len(suffix) - len(digest) - 2
    head = name.encode()[:keep].decode(errors="ignore")
    return f"{head}_{digest}_{suffix}"


def check_name(table: str, expression: str) -> str:
    """Name of a check constraint: derived from its expression, so it is stable across plans."""
    digest = short_digest(" ".join(expression.split()))
    return object_name(table, [digest], "check")


# --- canonical spellings ---------------------------------------------------------------------

#: Aliases → canonical type names (Postgres docs §8 "Data Types", table 8.1 lists the aliases).
TYPE_ALIASES: dict[str, str] = {
    "int": "integer", "int4": "integer", "integer": "integer", "serial": "integer",
    "int8": "bigint", "bigint": "bigint", "bigserial": "bigint",
    "int2": "smallint", "smallint": "smallint",
    "bool": "boolean", "boolean": "boolean",
    "float8": "double precision", "double precision": "double precision",
    "float4": "real", "real": "real",
    "decimal": "numeric", "numeric": "numeric",
    "varchar": "character varying", "character varying": "character varying",
    "char": "character", "character": "character", "bpchar": "character",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "timetz": "timetz", "time with time zone": "timetz",
    "time": "time", "time without time zone": "time",
    "text": "text", "uuid": "uuid", "jsonb": "jsonb", "json": "json", "date": "date",
    "bytea": "bytea", "interval": "interval", "inet": "inet", "citext": "citext",
}
_TYPE = re.compile(r"^(?P<base>[a-z][a-z0-9_ ]*?)\s*(?P<mod>\(\s*\d+(?:\s*,\s*\d+)?\s*\))?"
                   r"(?P<arr>(?:\s*\[\s*\])*)$")


def normalise_type(text: str) -> str:
    """The canonical spelling of a type: `INT4` → `integer`, `decimal(10, 2)` → `numeric(10,2)`,
    `timestamp with time zone` → `timestamptz`, `_text`/`text ARRAY` → `text[]`.

    Unknown names (enums, domains, quoted user types) are returned with whitespace collapsed."""
    raw = " ".join(text.strip().split())
    lowered = raw.lower().replace(" array", "[]")
    if lowered.startswith("_") and lowered[1:] in TYPE_ALIASES:
        lowered = lowered[1:] + "[]"
    m = _TYPE.match(lowered)
    if not m or m.group("base") not in TYPE_ALIASES:
        return raw
    base = TYPE_ALIASES[m.group("base")]
    mod = (m.group("mod") or "").replace(" ", "")
    dims = "[]" * m.group("arr").count("[")
    return f"{base}{mod}{dims}"


_CAST = re.compile(r"^(?P<lit>'(?:[^']|'')*')::[a-z][a-z0-9_ ]*(?:\(\d+(?:,\d+)?\))?(?:\[\])*$",
                   re.IGNORECASE)
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_FUNCTIONS = {"now()": "now()", "current_timestamp": "CURRENT_TIMESTAMP",
              "current_date": "CURRENT_DATE", "gen_random_uuid()": "gen_random_uuid()",
              "true": "true", "false": "false"}


def normalise_default(expr: str | None) -> str | None:
    """The canonical spelling of a default expression, as `pg_get_expr` would print it modulo
    casts: `'Active'::text` → `'Active'`, `'-1'::integer` → `-1`, `NOW()` → `now()`.

    Anything else is returned with whitespace collapsed; the reader also spells a live default the
    way the spec does when the server finds them equivalent (see reader `canonicalise`)."""
    if expr is None:
        return None
    text = " ".join(expr.strip().split())
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    m = _CAST.match(text)
    if m:
        text = m.group("lit")
    if text.startswith("'") and _NUMBER.match(text[1:-1]):
        text = text[1:-1]
    return _FUNCTIONS.get(text.lower(), text)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0
