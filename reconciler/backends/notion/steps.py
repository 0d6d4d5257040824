"""Notion requests as data: what `compile` produces, the plan previews and `execute` sends.

Each step is one request (or, for a database update, two) with its method, path and body, the
addresses of the changes it carries out, and what `execute` needs around it (the object to look
up after an ambiguous create, the fields that may lag, the state to remember). Ids that only
exist once an earlier step of the same apply ran (a database created in this apply, a page
created in this apply, the property a two-way relation creates) are `Ref`s: the plan shows them
as `(known after apply: <address>)` and `execute` fills them in, Terraform's "known after apply".
Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.model.changes import RequestPreview


@dataclass(frozen=True)
class Ref:
    """A value known once an earlier step has run: `what` of the object at `address`.

    `what`: `data_source_id` (of a database), `page_id` (of a page), `property_key` (the live
    name or id of the property a two-way relation created; `origin` then names the relation:
    `(database, property)` of the relation that creates it). `database` (for `data_source_id`
    and `property_key`) and `property` (for `property_key`: the name the spec gives it) are the
    names `execute` looks up, so it never reads them from `address`.
    """

    address: str
    what: str
    origin: tuple[str, str] | None = None
    database: str = ""
    property: str = ""

    def __str__(self) -> str:
        return f"(known after apply: {self.address})"


def shown(value: Any) -> str:
    """An id or a `Ref` as the plan prints it."""
    return str(value)


@dataclass(frozen=True)
class NotionStep:
    """One request: `method`, `path` (below `/v1/`; `path_args` fill its `{}`s and may be `Ref`s),
    `body` (may hold `Ref`s, also as keys), `changes` (addresses it carries out) and `keys`
    (address → the property names of the body written for that change). Each change it
    carries previews the whole request: every key of the body, sorted (so a plan read back
    from its file previews the same), and how many changes share it."""

    method: str
    path: str
    body: dict[Any, Any]
    changes: tuple[str, ...]
    path_args: tuple[Any, ...] = ()
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Changes the step carries out without a request of their own (a two-way relation's synced
    #: property that Notion names as the spec does): reported with the step, never previewed.
    silent: tuple[str, ...] = ()

    def preview(self) -> RequestPreview:
        """The request as the plan shows it, the same for each change it carries."""
        path = "/v1/" + self.path.format(*(shown(a) for a in self.path_args))
        keys = {k for names in self.keys.values() for k in names}
        return RequestPreview(method=self.method, path=path, keys=tuple(sorted(keys)),
                              shared_by=self.shared_by)

    @property
    def shared_by(self) -> int | None:
        """How many changes this request carries, when more than one (`RequestPreview`)."""
        sent = len(self.changes) - len(self.silent)
        return sent if sent > 1 else None

    def previews(self) -> dict[str, dict[str, Any]]:
        """Per change address, the fields the plan shows for it (`requests`)."""
        return {a: {"requests": (self.preview(),)} for a in self.changes if a not in self.silent}


@dataclass(frozen=True)
class CreateDatabaseStep(NotionStep):
    """`POST /v1/databases`. `database`: logical name; `title`/`parent_page_id`: how to find it
    after a create that may have committed (NOTION-API.md §4.4)."""

    database: str = ""
    title: str = ""
    parent_page_id: str = ""


@dataclass(frozen=True)
class UpdateDatabaseStep(NotionStep):
    """`PATCH /v1/databases/{id}` (title, description), then `PATCH /v1/data_sources/{id}`
    (title): the data source keeps the database's title (NOTION-API.md §1.1)."""

    database: str = ""
    data_source_id: str = ""
    title: Any = None

    def previews(self) -> dict[str, dict[str, Any]]:
        second = RequestPreview(method="PATCH", path=f"/v1/data_sources/{self.data_source_id}",
                                keys=("title",), shared_by=self.shared_by)
        return {a: {"requests": (self.preview(), second)} for a in self.changes}


@dataclass(frozen=True)
class PatchPropertiesStep(NotionStep):
    """`PATCH /v1/data_sources/{id}` with `properties`: every property change of one database in
    one phase (NOTION-API.md §3: keys are names or ids, `null` deletes, `name` renames).
    `formulas`: formula text sent per property name, remembered next to what Notion returns."""

    database: str = ""
    formulas: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PageStep(NotionStep):
    """A page create (`POST /v1/pages`), update or archive (`PATCH /v1/pages/{id}`).

    - `database`, `key`: the page's database and content key; `key_property`: the property that
      holds keys, to find a page whose create may have committed.
    - `values`: the normal-form values of the properties in `body` (to hash what is written when
      some are deferred); `hash_property` / `desired_hash`: where the content hash goes and its
      value when every field is written; `stored_hash`: the hash the live page holds (an update).
    - `relates`: some relation values name pages created in this apply; a `RelateStep` writes
      them in pass two.
    """

    database: str = ""
    key: str = ""
    key_property: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    hash_property: str | None = None
    desired_hash: str | None = None
    stored_hash: str | None = None
    archive: bool = False
    relates: bool = False


@dataclass(frozen=True)
class RelateStep(NotionStep):
    """Pass two of a content apply: one `PATCH /v1/pages/{id}` setting the page's relation
    `fields` once every page of the run exists (`path_args[0]` and the relations' items may be
    `Ref`s), with the desired content hash in `hash_property` when the page is then complete."""

    database: str = ""
    fields: tuple[str, ...] = ()
    hash_property: str | None = None
    desired_hash: str | None = None
