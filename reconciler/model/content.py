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
