"""Content rows: one page (row) of a Notion data source, its property values normalised.

Built from the API by `backends.notion.convert.row_from_page` (live) and compared with rows built
from a content source (desired). Values are plain JSON data (str, int/float, bool, None, tuples,
dicts) so they can be hashed into content hashes and written to plans.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import Field

from reconciler.digests import digest
from reconciler.model.base import Model
from reconciler.model.postgres import TableRef


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
      (`notion.lukhas_modules`, `supabase.public.source_of_truth`); `database` (the Notion
      database's logical name, `lukhas_modules`) or `table` (the Postgres table) names it as
      data, so the backends never read it from the address.
    - `key`: the property/column holding each row's key; `hash_field`: the property/column
      holding the content hash written with the row (seed 004's "Provenance SHA").
    - `rows`: in source order, keys unique.
    - `spec`: `file:line` of the `content:` section that declared it.
    - `sensitive`: the fields whose values are personal data (every field of a set declared
      `sensitive: true`; else those of sensitive properties / columns). When the key field is
      one of them, rows are named in addresses by a keyed digest of their key
      (`model.sensitive.Sealer.name`), never by the key.
    """

    address: str
    key: str
    hash_field: str
    database: str | None = None
    table: TableRef | None = None
    rows: tuple[SourceRow, ...] = ()
    spec: str = ""
    sensitive: tuple[str, ...] = ()

    @property
    def sensitive_key(self) -> bool:
        """Whether the key is personal data (rows are then named by a digest of it)."""
        return self.key in self.sensitive

    @cached_property
    def hashes(self) -> dict[str, str]:
        """`{row key: content_hash}` of every row (the hash field left out), computed once."""
        return {r.key: content_hash(r.values, exclude=self.hash_field) for r in self.rows}


class RowState(Model):
    """A row as a content change shows it: `key`, the live `id` (Notion page id; None for a
    Postgres row or a page to create), the content `hash` written with it, the `source` it came
    from (`file[:line]`) and `values` (field → normal-form value; only the fields the change
    writes).

    Personal data (`model.sensitive`): `sensitive` names the row's fields that hold it (the
    diff sets it, whether or not `values` writes them), `sensitive_key` says the key is one of
    them. In a plan the row is `sealed`: the values of those fields, the key (when
    `sensitive_key`) and the content hash (which is computed over them) are keyed digests
    (`hmac-sha256:…`); apply opens it again from the sources (`plan.seal`).
    """

    key: str | None = None
    id: str | None = None
    hash: str | None = None
    source: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    sensitive: tuple[str, ...] = ()
    sensitive_key: bool = False
    sealed: bool = False

    @property
    def has_sensitive(self) -> bool:
        """Whether anything of the row is personal data (its hash then is sealed too)."""
        return bool(self.sensitive) or self.sensitive_key


@dataclass(frozen=True)
class LiveRow:
    """A live row: its key, its id (Notion page id; None for Postgres) and normal-form values.

    `stamp` (Notion `last_edited_time`) and `digest` (`content_hash` of the values when they
    were read) feed the content fingerprint; a row remembered by an incremental read's snapshot
    holds only its stored hash in `values`, so it carries the digest of its last full read.

    Drift (a value edited by hand leaves the stored hash as it was): `checked` is the stamp at
    which the row's values were last compared and found to match the source (None: never, or
    edited since); `edited` says the row may have been edited since then, so the diff compares
    its values even when its stored hash matches; `partial` names the fields whose values the
    read holds only in part (Notion relations and people past 25 items, not fetched): for them
    the stored hash still decides.
    """

    key: str
    id: str | None
    values: Mapping[str, Any]
    stamp: str | None = None
    digest: str | None = None
    checked: str | None = None
    edited: bool = False
    partial: tuple[str, ...] = ()


def plain_data(value: Any) -> Any:
    """`value` with tuples as lists and dict keys sorted: the form rows are hashed in."""
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in sorted(value.items())}
    return value


def content_hash(values: Mapping[str, Any], exclude: str | None = None) -> str:
    """`sha256:<hex>` of a row's values (canonical JSON, `exclude` left out): the hash written
    with each row (seed 004's "Provenance SHA"), so a row whose hash matches costs nothing."""
    return digest({k: plain_data(v) for k, v in values.items() if k != exclude})


def rows_fingerprint(rows: Mapping[str, LiveRow]) -> str:
    """`sha256:` over (key, id, `stamp`, values digest) of every live row: changes whenever a row
    is added, removed, edited or re-keyed."""
    return digest(sorted([k, r.id or "", r.stamp or "", r.digest or content_hash(r.values)]
                         for k, r in rows.items()))


class ContentSummary(Model):
    """Per content set (by the address of its database or table): the key and hash fields; rows
    to create, update, archive; rows unchanged; live rows the source no longer has (archived
    only with `--prune`); and schema lag: for each live-missing field, the number of rows
    waiting for it."""

    key: str = ""
    hash_field: str = ""
    create: int = 0
    update: int = 0
    archive: int = 0
    unchanged: int = 0
    not_in_source: int = 0
    lag: dict[str, int] = Field(default_factory=dict)
