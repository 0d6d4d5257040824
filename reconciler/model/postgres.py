"""The Postgres resource model: tables, columns, keys, indexes, checks, policies and grants.

Built by `project.supabase` from YAML (desired) and by `backends.postgres.reader` from the catalog
(live); `diff.postgres` compares the two (Atlas `sql/schema/schema.go`: one model, two producers).
Types are kept in the canonical spelling of `normalise_type` and defaults in that of
`normalise_default`, so equal things compare equal whichever side produced them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from reconciler.addresses import child, supabase_table
from reconciler.digests import short_digest
from reconciler.model.base import Model
from reconciler.model.postgres_types import (  # noqa: F401  (the canonical spellings live there)
    SERIAL_TYPES, TYPE_ALIASES, normalise_default, normalise_sql, normalise_type,
)

#: Table privileges (Postgres docs, "GRANT": SELECT … TRIGGER on tables); `all` expands to these.
PRIVILEGES: tuple[str, ...] = (
    "select", "insert", "update", "delete", "truncate", "references", "trigger",
)
#: Postgres truncates identifiers to NAMEDATALEN-1 = 63 bytes (docs §4.1.1 "Identifiers").
MAX_IDENTIFIER = 63
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")

PolicyCommand = Literal["all", "select", "insert", "update", "delete"]


Identity = Literal["always", "by default"]


class Column(Model):
    """One column. `type` canonical (`integer`, `numeric(10,2)`, `text[]`, `timestamptz`, or
    `serial` / `bigserial` / `smallserial` for an integer column that owns the sequence its
    default draws from); `default` a canonical SQL expression; `identity` for a `GENERATED
    ALWAYS | BY DEFAULT AS IDENTITY` column (Postgres docs, "CREATE TABLE"); `sequence` (live
    only, never compared) the sequence a serial or identity column owns; `renamed_from` (desired
    only) former names; `enum_values` (live only) the labels of the column's enum type (of its
    elements for an array), in their sort order, for checking content before it is written. It
    is left out of dumps (plans, fingerprints): it describes the type, not the column.
    `sensitive` (desired only): the column holds personal data (declared, or carried from the
    property a `mirror:` column mirrors), so plans, ledgers and reports hold a keyed digest of
    its values (`model.sensitive`); Postgres never hears of it and the diff does not compare
    it."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    comment: str | None = None
    identity: Identity | None = None
    sequence: str | None = None
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
    """A non-constraint index. `columns` are column names or parenthesised expressions.
    `concurrently` (desired only, not compared): create it with `CREATE INDEX CONCURRENTLY`,
    outside apply's transaction, so writes to the table are not blocked meanwhile."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    method: str = "btree"
    where: str | None = None
    concurrently: bool = False

    @property
    def signature(self) -> tuple:
        return (self.columns, self.unique, self.method, self.where)


#: What may follow an index column: `COLLATE name`, an operator class, `ASC|DESC`,
#: `NULLS FIRST|LAST` (Postgres docs, "CREATE INDEX"), in that order.
_INDEX_SUFFIX = re.compile(
    r'(?:COLLATE\s+(?P<collate>"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s+|\Z))?'
    r'(?:(?!(?:ASC|DESC|NULLS)\b)(?P<opclass>[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)(?:\s+|\Z))?'
    r'(?:(?P<order>ASC|DESC)(?:\s+|\Z))?(?:NULLS\s+(?P<nulls>FIRST|LAST))?\Z', re.IGNORECASE)
_INDEX_HEAD = re.compile(r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?=\s)')
_QUOTED = re.compile(r'"(?:[^"]|"")+"\Z')


def index_column(text: str) -> tuple[str, str]:
    """An index item split into its column or expression and what follows it: `"title
    gin_trgm_ops"` → `("title", "gin_trgm_ops")`, `"(lower(title)) DESC"` → `("(lower(title))",
    "DESC")`, `'"my col" DESC'` → `("my col", "DESC")`; an item with nothing after its column
    (or whose rest is not `[COLLATE c] [opclass] [ASC|DESC] [NULLS FIRST|LAST]`) is `(text,
    "")`. A column name comes back unquoted; an expression keeps its parentheses."""
    text = text.strip()
    if _QUOTED.match(text):
        return text[1:-1].replace('""', '"'), ""
    if text.startswith("("):
        depth, quote = 0, None
        for pos, char in enumerate(text):
            if quote:
                quote = None if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    rest = text[pos + 1:].strip()
                    if rest and not _INDEX_SUFFIX.match(rest):
                        return text, ""
                    return text[:pos + 1], index_suffix(rest)
        return text, ""
    head = _INDEX_HEAD.match(text)
    if head is None or not _INDEX_SUFFIX.match(rest := text[head.end():].strip()):
        return text, ""
    name = head.group(0)
    if name.startswith('"'):
        name = name[1:-1].replace('""', '"')
    return name, index_suffix(rest)


def index_suffix(text: str) -> str:
    """What follows an index column, spelled as Postgres prints it: keywords in capitals, the
    default order (`ASC`, and `NULLS LAST` after it, `NULLS FIRST` after `DESC`) left out."""
    m = _INDEX_SUFFIX.match(text.strip())
    if m is None or not text.strip():
        return text.strip()
    order = (m.group("order") or "ASC").upper()
    nulls = (m.group("nulls") or ("FIRST" if order == "DESC" else "LAST")).upper()
    parts = [f"COLLATE {m.group('collate')}" if m.group("collate") else "",
             m.group("opclass") or "", "DESC" if order == "DESC" else "",
             "" if (nulls == "FIRST") == (order == "DESC") else f"NULLS {nulls}"]
    return " ".join(p for p in parts if p)


def index_text(head: str, suffix: str = "") -> str:
    """The canonical spelling of an index item (the inverse of `index_column`): the column
    name (quoted when it is not a plain identifier and could be read otherwise) or the
    `(expression)`, then the suffix."""
    suffix = index_suffix(suffix)
    if not head.startswith("(") and (
            (suffix and not re.fullmatch(r"[A-Za-z_][\w$]*", head))
            or (not suffix and index_column(head) != (head, ""))):
        head = '"' + head.replace('"', '""') + '"'
    return f"{head} {suffix}" if suffix else head


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


TriggerEvent = Literal["insert", "update", "delete", "truncate"]


class Trigger(Model):
    """A trigger on a table (Postgres docs, "CREATE TRIGGER"): `timing` before / after /
    instead of, `events` (sorted), `for_each` row / statement, the `function` it executes
    (`schema.name`), an optional `when` condition and whether it is `enabled` (`ALTER TABLE …
    DISABLE TRIGGER` turns it off)."""

    name: str
    function: str
    timing: Literal["before", "after", "instead of"] = "before"
    events: tuple[TriggerEvent, ...] = ("update",)
    for_each: Literal["row", "statement"] = "row"
    when: str | None = None
    enabled: bool = True


class Table(Model):
    """A table and everything the reconciler manages on it.

    `schema_name`/`name` identify it; `primary_key_name` is the live constraint's name (set by
    the reader, never compared); `touch_updated_at` is the trigger that keeps `updated_at`
    current (live: present, enabled and calling the reconciler's own function body);
    `force_rls` is `FORCE ROW LEVEL SECURITY` (the owner obeys the policies too); `realtime`
    membership in Supabase's `supabase_realtime` publication (None: not managed); `triggers`
    the table's other triggers; `mirror` names the Notion database the columns were derived
    from (desired only); `renamed_from` former names (desired only).
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
    force_rls: bool = False
    realtime: bool | None = None
    policies: tuple[Policy, ...] = ()
    grants: tuple[Grant, ...] = ()
    triggers: tuple[Trigger, ...] = ()
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
    force_rls: bool = False
    realtime: bool | None = None
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


class TriggerOn(TableRef):
    trigger: Trigger


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
    policy / grant / trigger."""
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


def referenced_first(tables: Sequence[Table]) -> dict[str, int]:
    """Each table's address → its place in an order where every table comes after the tables
    its foreign keys reference: rows are inserted and updated in that order (a row's parent is
    there before it), and deleted in the reverse one (a row goes before its parent). A table
    referencing itself is checked per statement anyway; a cycle between tables is cut where it
    closes. Tables that do not depend on each other keep their address order."""
    by_address = {t.address: t for t in tables}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(address: str) -> None:
        if address in state:
            return  # placed, or on the path (a cycle closes here)
        state[address] = 1
        for fk in by_address[address].foreign_keys:
            ref = table_address(fk.ref_schema, fk.ref_table)
            if ref in by_address and ref != address:
                visit(ref)
        order.append(address)

    for address in sorted(by_address):
        visit(address)
    return {address: place for place, address in enumerate(order)}
