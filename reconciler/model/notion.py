"""The Notion resource model: databases (with their data source), properties and select options.

Built by the spec resolver from YAML (desired) and by `backends.notion.reader` from the API (live);
`diff.notion` compares the two. Shapes follow Notion API 2025-09-03 (see shared/NOTION-API.md §2):
property types, number formats and option colours are the API's own words.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import Field

from reconciler.model.base import Model
from reconciler.model.property_types import CREATABLE_TYPES, UI_ONLY_TYPES  # noqa: F401

#: Option colours the API accepts (notion-sdk-js `SelectColor`; NOTION-API.md §2).
OPTION_COLORS: tuple[str, ...] = (
    "default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red",
)


#: Number formats (DOC26 property-object; NOTION-API.md §2 "Details worth encoding").
NUMBER_FORMATS: tuple[str, ...] = (
    "number", "number_with_commas", "percent", "dollar", "australian_dollar", "canadian_dollar",
    "singapore_dollar", "euro", "pound", "yen", "ruble", "rupee", "won", "yuan", "real", "lira",
    "rupiah", "franc", "hong_kong_dollar", "new_zealand_dollar", "krona", "norwegian_krone",
    "mexican_peso", "rand", "new_taiwan_dollar", "danish_krone", "zloty", "baht", "forint", "koruna",
    "shekel", "chilean_peso", "philippine_peso", "dirham", "colombian_peso", "riyal", "ringgit", "leu",
    "argentine_peso", "uruguayan_peso", "peruvian_sol", "vietnamese_dong", "pakistani_rupee",
    "nigerian_naira", "bitcoin",
)

#: Rollup functions (notion-sdk-js `RollupFunction`).
ROLLUP_FUNCTIONS: tuple[str, ...] = (
    "count", "count_values", "empty", "not_empty", "unique", "show_unique", "percent_empty",
    "percent_not_empty", "sum", "average", "median", "min", "max", "range", "earliest_date",
    "latest_date", "date_range", "checked", "unchecked", "percent_checked", "percent_unchecked",
    "count_per_group", "percent_per_group", "show_original",
)

OptionsMode = Literal["exact", "additive", "open"]


def bare_id(object_id: str) -> str:
    """A Notion id without dashes, lower-cased: the API accepts and returns both forms, so ids are
    compared this way (NOTION-API.md §1.1 shows ids with dashes; URLs carry them without)."""
    return object_id.replace("-", "").lower()


def stable_color(name: str) -> str:
    """The colour an option gets when none is declared: a hash of its case-folded name, so it never
    changes, not even when only the case of the name does (option names are unique ignoring case,
    NOTION-API.md §3.4).

    Returns one of `OPTION_COLORS` other than "default" (sha256 of the UTF-8 case-folded name, first byte).
    """
    palette = OPTION_COLORS[1:]
    return palette[hashlib.sha256(name.casefold().encode()).digest()[0] % len(palette)]


class SelectOption(Model):
    """One option of a select, multi_select or status property. `id` is set on live options.
    `default_color` (desired only): the spec gave no colour, so `color` is `stable_color(name)`,
    used when the option is created and never a reason to plan a recolour."""

    name: str
    color: str = "default"
    description: str | None = None
    id: str | None = None
    default_color: bool = False


class Relation(Model):
    """A relation's related database and shape.

    `database` is the logical name (spec file stem) of the related database; the live reader maps
    the related data source id back to that name (or `"data_source:<id>"` when it is undeclared).
    `two_way` is Notion's `dual_property`; `synced_property` names the property Notion creates on
    the other side (Notion's default name is `Related to <title> (<property>)`).
    """

    database: str
    two_way: bool = False
    synced_property: str | None = None


class Rollup(Model):
    """A rollup: `function` over `rollup_property` of the pages linked through `relation_property`."""

    relation_property: str
    rollup_property: str
    function: str


class Property(Model):
    """One property of a database's data source.

    `id` is Notion's stable property id (URL-encoded as the API returns it; `"title"` for the title)
    once known. Only the config field of the property's `type` is meaningful: `number_format`,
    `options` (+ `options_mode`), `relation`, `rollup`, `formula` (expression text as last applied),
    `unique_id_prefix`. Desired-only fields: `renamed_from` (former names, newest first),
    `vocabulary` (shared vocabulary name the options came from) and `synced_from` (the address of
    the two-way relation on another database that creates this property). `sensitive`: its values
    are personal data (declared, or by default for the types of
    `property_types.SENSITIVE_TYPES`): plans, ledgers and reports hold a keyed digest of them
    (`model.sensitive`); Notion never hears of it, so the diff does not compare it.
    """

    name: str
    type: str
    id: str | None = None
    description: str | None = None
    number_format: str | None = None
    options: tuple[SelectOption, ...] = ()
    options_mode: OptionsMode = "exact"
    relation: Relation | None = None
    rollup: Rollup | None = None
    formula: str | None = None
    unique_id_prefix: str | None = None
    renamed_from: tuple[str, ...] = ()
    vocabulary: str | None = None
    synced_from: str | None = None
    sensitive: bool = False

    def config(self) -> dict:
        """The type-specific settings that the diff compares, as plain JSON data."""
        data = self.model_dump(
            mode="json",
            include={"type", "description", "number_format", "relation", "rollup", "formula",
                     "unique_id_prefix"},
            exclude_none=True,
        )
        if self.type in ("select", "multi_select", "status"):
            data["options"] = [{"name": o.name, "color": o.color} for o in self.options]
        return data


class Database(Model):
    """A Notion database and its (first) data source.

    `name` is the logical name (the spec file's stem, e.g. `tasks`; Terraform's resource name),
    used in addresses (`notion.tasks`) and in relations; `title` is Notion's. `id` / `data_source_id` are set once the database exists.
    """

    name: str
    title: str
    description: str = ""
    parent_page_id: str | None = None
    properties: tuple[Property, ...] = Field(default=())
    id: str | None = None
    data_source_id: str | None = None

    @property
    def address(self) -> str:
        return f"notion.{self.name}"

    @property
    def title_property(self) -> Property | None:
        return next((p for p in self.properties if p.type == "title"), None)

    def property(self, name: str) -> Property | None:
        return next((p for p in self.properties if p.name == name), None)

    def properties_by_name(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties}


class Vocabulary(Model):
    """A shared, named list of select options (`schemas/vocab/<name>.yaml`).

    `mode`: `closed` (only these options; extra live options are planned for removal), `additive`
    (options are only ever added) or `open` (options are not managed).
    """

    name: str
    options: tuple[SelectOption, ...]
    mode: Literal["closed", "additive", "open"] = "closed"


class NotionDatabases(Model):
    """All declared (or all live) Notion databases, by logical name."""

    databases: tuple[Database, ...] = ()

    def database(self, name: str) -> Database | None:
        return next((d for d in self.databases if d.name == name), None)
