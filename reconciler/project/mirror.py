"""`mirror: <notion database>`: derive a table's columns from a Notion database's properties.

The column type of each property type is the `postgres` of its row in
`model.property_types`; the mapping (documented in docs/supabase.md) follows the shapes of Notion property values
(Notion API 2025-09-03, "Property values"): plain text for title/rich_text/url/email/phone/select/
status/unique_id, `text[]` for multi_select names, `uuid[]` of related page ids for relations,
`numeric` for numbers, `boolean` for checkboxes, `timestamptz` (or `date`) for dates and
timestamps, `jsonb` for people, files, formulas, rollups, users and places. Pure.
"""

from __future__ import annotations

import re

from reconciler.model.notion import Database, Property
from reconciler.model.postgres import Column
from reconciler.model.property_types import property_type


#: Columns every mirrored table has, in this order (seed 001: id, notion_page_id, timestamps).
SYSTEM_COLUMNS: tuple[Column, ...] = (
    Column(name="id", type="uuid", nullable=False, default="gen_random_uuid()"),
    Column(name="notion_page_id", type="uuid", nullable=False,
           comment="Id of the Notion page this row mirrors"),
    Column(name="created_at", type="timestamptz", nullable=False, default="now()"),
    Column(name="updated_at", type="timestamptz", nullable=False, default="now()"),
)
SYSTEM_NAMES = frozenset(c.name for c in SYSTEM_COLUMNS)


def column_name(property_name: str) -> str:
    """snake_case column name of a property: `Duration (min)` → `duration_min`, `SLA p95` →
    `sla_p95`; a name starting with a digit gets `p_`; a system column name gets `notion_`."""
    name = re.sub(r"[^0-9a-z]+", "_", property_name.lower()).strip("_") or "property"
    if name[0].isdigit():
        name = f"p_{name}"
    return f"notion_{name}" if name in SYSTEM_NAMES else name


def to_column(prop: Property, dates: str = "timestamptz") -> Column | None:
    """The column mirroring `prop` (None for types without a value). Its comment names the
    property, its `renamed_from` follows the property's, and it is as `sensitive` as the
    property."""
    row = property_type(prop.type)
    if row is None or row.postgres is None:
        return None
    pg_type = dates if prop.type == "date" else row.postgres
    former = tuple(dict.fromkeys(column_name(n) for n in prop.renamed_from))
    return Column(name=column_name(prop.name), type=pg_type, nullable=True,
                  comment=f"Notion property {prop.name!r} ({prop.type})",
                  renamed_from=tuple(n for n in former if n != column_name(prop.name)),
                  sensitive=prop.sensitive)


def mirror_columns(database: Database, dates: str = "timestamptz") -> tuple[list[Column], list[str]]:
    """System columns, then one column per property in declaration order.

    Returns `(columns, clashes)`: `clashes` lists properties whose column name is already taken
    (they are left out; the caller reports them)."""
    columns = list(SYSTEM_COLUMNS)
    taken = {c.name for c in columns}
    clashes: list[str] = []
    for prop in database.properties:
        col = to_column(prop, dates)
        if col is None:
            continue
        if col.name in taken:
            clashes.append(prop.name)
            continue
        taken.add(col.name)
        columns.append(col)
    return columns, clashes
