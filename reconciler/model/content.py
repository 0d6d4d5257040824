"""Content rows: one page (row) of a Notion data source, its property values normalised.

Built from the API by `backends.notion.convert.row_from_page` (live) and compared with rows built
from a content source (desired). Values are plain JSON data (str, int/float, bool, None, tuples,
dicts) so they can be hashed into content hashes and written to plans.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from reconciler.model.base import Model


class Row(Model):
    """One row (page) of a data source.

    `values` maps property name → normalised value (see `backends.notion.convert.value_from_api`
    for the shape per type). `truncated` names the properties whose value came back incomplete in
    the page object (relation `has_more: true`, more than 25 references; NOTION-API.md §4.3); their
    full value needs `GET /v1/pages/{id}/properties/{property_id}`.
    """

    id: str | None = None
    data_source_id: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    in_trash: bool = False
    truncated: tuple[str, ...] = ()
    created_time: str | None = None
    last_edited_time: str | None = None


class SourceRow(Model):
    """A desired row, read from a content source (a file, a manifest, a CSV line, …).

    - `key`: the row's identity across runs (the value of the content set's key field).
    - `values`: field (Notion property or Postgres column) name → value in *content normal form*:
      text types → str (None when empty); number → int | float; checkbox → bool;
      select/status → option name; multi_select → tuple of names; date → dict with `start`
      (ISO date or date-time) and optional `end`, `time_zone`; people → tuple of e-mail addresses;
      relation → tuple of keys of rows in the related database; files → tuple of
      `{"name", "url"}`; url/email/phone_number → str. Postgres columns: JSON-able values
      (str, int, float, bool, None, lists, dicts; dates as ISO strings).
    - `source`: where the row came from, `file` or `file:line`, for messages.
    """

    key: str
    values: dict[str, Any] = Field(default_factory=dict)
    source: str


class ContentSet(Model):
    """The rows a content source declares for one Notion database or Postgres table.

    - `address`: the address of the database or table the rows go into
      (`notion.lukhas_modules`, `supabase.public.source_of_truth`).
    - `key`: the property/column holding each row's key; `hash_field`: the property/column
      holding the content hash written with the row (seed 004's "Provenance SHA").
    - `rows`: in source order, keys unique.
    - `spec`: `file:line` of the `content:` section that declared it.
    """

    address: str
    key: str
    hash_field: str
    rows: tuple[SourceRow, ...] = ()
    spec: str = ""
