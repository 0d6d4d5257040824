"""Notion data source schema JSON <-> the resource model (`reconciler.model.notion`). Pure, no I/O.

Shapes are Notion API 2025-09-03 as recorded in `shared/notion-recordings/` and summarised in
shared/NOTION-API.md: the database and data source objects (§1.1, Appendix A.1), property schema
configs per type (§2, table "Schema config (response)" / "Create/update config request") and schema
write semantics (§3). Reading and writing dispatch per property type through the `_READERS` and
`_WRITERS` registries; a type missing from a registry is kept as a bare type with no config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reconciler.model.notion import Database, Property, Relation, Rollup, SelectOption

#: Prefix of a related data source that is not one of the declared databases'.
UNDECLARED_PREFIX = "data_source:"

__all__ = [
    "UNDECLARED_PREFIX",
    "database_from_api",
    "plain_text",
    "properties_to_api",
    "property_from_api",
    "property_to_api",
]


# --------------------------------------------------------------------------------------------
# rich text


def plain_text(rich_text: Iterable[Mapping[str, Any]] | None) -> str:
    """Concatenate a rich text array into plain text.

    `rich_text` is a list of rich text objects as the API returns them (each with `plain_text`,
    NOTION-API.md Appendix A) or as requests send them (`{"type":"text","text":{"content":…}}`);
    `None` and `[]` give `""`. Objects without either (e.g. an unknown mention) contribute nothing.
    """
    parts: list[str] = []
    for item in rich_text or ():
        text = item.get("plain_text")
        if text is None:
            text = (item.get("text") or {}).get("content")
        parts.append(text or "")
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# reading: data source property schema -> Property fields

DatabaseNameFor = Callable[[str], "str | None"]
ConfigReader = Callable[[dict, DatabaseNameFor], dict[str, Any]]


def _read_number(config: dict, _: DatabaseNameFor) -> dict[str, Any]:
    return {"number_format": config.get("format")}


def _read_options(config: dict, _: DatabaseNameFor) -> dict[str, Any]:
    # Status `groups` are UI-managed (§3.4) and not part of the model.
    return {"options": tuple(
        SelectOption(name=o["name"], color=o.get("color") or "default",
                     description=o.get("description"), id=o.get("id"))
        for o in config.get("options") or ())}


def _read_relation(config: dict, database_name_for: DatabaseNameFor) -> dict[str, Any]:
    related = config.get("data_source_id") or ""
    key = database_name_for(related) if related else None
    two_way = config.get("type") == "dual_property"
    synced = (config.get("dual_property") or {}).get("synced_property_name") if two_way else None
    return {"relation": Relation(database=key or f"{UNDECLARED_PREFIX}{related}",
                                 two_way=two_way, synced_property=synced)}


def _read_rollup(config: dict, _: DatabaseNameFor) -> dict[str, Any]:
    return {"rollup": Rollup(relation_property=config.get("relation_property_name") or "",
                             rollup_property=config.get("rollup_property_name") or "",
                             function=config.get("function") or "")}


def _read_formula(config: dict, _: DatabaseNameFor) -> dict[str, Any]:
    # Kept verbatim: Notion returns `{{notion:block_property:…}}` references, not the text sent
    # (NOTION-API.md §2 "Formula expressions are not round-trippable").
    return {"formula": config.get("expression")}


def _read_unique_id(config: dict, _: DatabaseNameFor) -> dict[str, Any]:
    return {"unique_id_prefix": config.get("prefix")}


_READERS: dict[str, ConfigReader] = {
    "number": _read_number,
    "select": _read_options,
    "multi_select": _read_options,
    "status": _read_options,
    "relation": _read_relation,
    "rollup": _read_rollup,
    "formula": _read_formula,
    "unique_id": _read_unique_id,
}


def property_from_api(name: str, schema: Mapping[str, Any], *,
                      database_name_for: DatabaseNameFor) -> Property:
    """One entry of a data source's `properties` (`{"id","name","description","type",<type>:{…}}`).

    `name` is the key in `properties` (used when the entry has no `name`). The id is kept exactly as
    returned (URL-encoded, `"title"` for the title property; §2). A type without a reader (button,
    place, a type newer than this code) is kept with no config. Raises `KeyError` only when the entry
    has no `type`.
    """
    kind = schema["type"]
    fields: dict[str, Any] = {
        "name": schema.get("name") or name,
        "type": kind,
        "id": schema.get("id"),
        "description": schema.get("description") or None,
    }
    reader = _READERS.get(kind)
    if reader is not None:
        fields.update(reader(schema.get(kind) or {}, database_name_for))
    return Property(**fields)


def _parent_page_id(*parents: Mapping[str, Any] | None) -> str | None:
    for parent in parents:
        if parent and parent.get("type") == "page_id":
            return parent.get("page_id")
    return None


def database_from_api(name: str, database: Mapping[str, Any] | None, data_source: Mapping[str, Any],
                      *, database_name_for: DatabaseNameFor) -> Database:
    """A data source object (GET /v1/data_sources/{id}) and optionally its database object
    (GET /v1/databases/{id}) as a `Database` named `name` (its logical name).

    * `title`: the database title as plain text, else the data source title (§1.1: the database
      holds `title`, `description`, `parent`; the data source holds `title`, `description`,
      `properties`, `parent{database_id}`, `database_parent{page_id}`).
    * `description`: plain text of the database description, else of the data source's.
    * `parent_page_id`: the database's `parent.page_id`, else the data source's
      `database_parent.page_id`; `None` for other parent types (workspace, block).
    * `id`: the database id (from `database`, else the data source's `parent.database_id`);
      `data_source_id`: the data source id.
    * `properties`: in the data source's order; related data sources through
      `database_name_for(data_source_id)`, `"data_source:<id>"` when it returns `None`.

    Raises `KeyError` when `data_source` has no `id`.
    """
    database = database or {}
    ds_parent = data_source.get("parent") or {}
    title_source = database.get("title") if database.get("title") is not None else data_source.get("title")
    description_source = database.get("description")
    if description_source is None:
        description_source = data_source.get("description")
    properties = tuple(
        property_from_api(name, schema, database_name_for=database_name_for)
        for name, schema in (data_source.get("properties") or {}).items())
    return Database(
        name=name,
        title=plain_text(title_source),
        description=plain_text(description_source),
        parent_page_id=_parent_page_id(database.get("parent"), data_source.get("database_parent")),
        properties=properties,
        id=database.get("id") or ds_parent.get("database_id"),
        data_source_id=data_source["id"],
    )


# --------------------------------------------------------------------------------------------
# writing: Property -> schema write config

DataSourceIdFor = Callable[[str], str]
ConfigWriter = Callable[[Property, DataSourceIdFor], dict[str, Any]]


def _option_to_api(option: SelectOption) -> dict[str, Any]:
    # Existing options are sent with their id so Notion keeps them; the options array is
    # replace-all (NOTION-API.md §3.4). Name and colour of an existing option cannot change.
    body: dict[str, Any] = {"name": option.name, "color": option.color}
    if option.description is not None:
        body["description"] = option.description
    if option.id is not None:
        body["id"] = option.id
    return body


def _write_options(prop: Property, _: DataSourceIdFor) -> dict[str, Any]:
    return {"options": [_option_to_api(o) for o in prop.options]}


def _write_number(prop: Property, _: DataSourceIdFor) -> dict[str, Any]:
    return {"format": prop.number_format} if prop.number_format else {}


def _related_data_source(database: str, data_source_id_for: DataSourceIdFor) -> str:
    if database.startswith(UNDECLARED_PREFIX):
        return database[len(UNDECLARED_PREFIX):]
    return data_source_id_for(database)


def _write_relation(prop: Property, data_source_id_for: DataSourceIdFor) -> dict[str, Any]:
    if prop.relation is None:
        raise ValueError(f"relation property {prop.name!r} has no related database")
    kind = "dual_property" if prop.relation.two_way else "single_property"
    # The synced property's name cannot be chosen at creation (`dual_property: {}`, recorded
    # test_all_createable_props_schema.yaml #25); it is renamed afterwards.
    return {"type": kind,
            "data_source_id": _related_data_source(prop.relation.database, data_source_id_for),
            kind: {}}


def _write_rollup(prop: Property, _: DataSourceIdFor) -> dict[str, Any]:
    if prop.rollup is None:
        raise ValueError(f"rollup property {prop.name!r} has no rollup settings")
    return {"function": prop.rollup.function,
            "relation_property_name": prop.rollup.relation_property,
            "rollup_property_name": prop.rollup.rollup_property}


def _write_formula(prop: Property, _: DataSourceIdFor) -> dict[str, Any]:
    if prop.formula is None:
        raise ValueError(f"formula property {prop.name!r} has no expression")
    return {"expression": prop.formula}


def _write_unique_id(prop: Property, _: DataSourceIdFor) -> dict[str, Any]:
    # `{}` keeps the current prefix (§3.3); clearing with `{"prefix": null}` is unverified.
    return {"prefix": prop.unique_id_prefix} if prop.unique_id_prefix is not None else {}


_WRITERS: dict[str, ConfigWriter] = {
    "number": _write_number,
    "select": _write_options,
    "multi_select": _write_options,
    "status": _write_options,
    "relation": _write_relation,
    "rollup": _write_rollup,
    "formula": _write_formula,
    "unique_id": _write_unique_id,
}


def property_to_api(prop: Property, *, data_source_id_for: DataSourceIdFor,
                    key: str | None = None) -> tuple[str, dict[str, Any]]:
    """One property as a schema-write entry: `(key, {"type": t, t: config, "description"?: …})`.

    `key` defaults to the property id when known, else its name (both are accepted as keys of
    `properties`, NOTION-API.md §3.1). Config per type (§2 "Create/update config request", recorded
    create body test_all_createable_props_schema.yaml #25): number `{"format"}` (`{}` keeps the
    format), select/multi_select/status `{"options":[{"name","color","description"?,"id"?}]}`,
    relation `{"type":"single_property"|"dual_property","data_source_id",<type>:{}}` (the related
    data source via `data_source_id_for(database key)`, or the id itself for
    `"data_source:<id>"`), rollup `{"function","relation_property_name","rollup_property_name"}`,
    formula `{"expression"}`, unique_id `{"prefix"}` (`{}` when no prefix); every other type
    `{}`. `description` is sent only when set. The entry carries no `name`: renames are
    separate writes.

    Raises `ValueError` for a relation / rollup / formula property missing its settings; whatever
    `data_source_id_for` raises for an unknown database key propagates.
    """
    writer = _WRITERS.get(prop.type)
    config = writer(prop, data_source_id_for) if writer is not None else {}
    body: dict[str, Any] = {"type": prop.type, prop.type: config}
    if prop.description is not None:
        body["description"] = prop.description
    return (key if key is not None else (prop.id or prop.name)), body


def properties_to_api(properties: Iterable[Property], *,
                      data_source_id_for: DataSourceIdFor) -> dict[str, dict[str, Any]]:
    """Properties as the `properties` object of a schema write (POST /v1/databases
    `initial_data_source.properties`, PATCH /v1/data_sources/{id} `properties`, §1.2 / §3):
    `{id_or_name: property_to_api(...)[1]}` in the given order. Raises as `property_to_api`, and
    `ValueError` when two properties map to the same key.
    """
    body: dict[str, dict[str, Any]] = {}
    for prop in properties:
        key, config = property_to_api(prop, data_source_id_for=data_source_id_for)
        if key in body:
            raise ValueError(f"two properties are written under the same key {key!r}")
        body[key] = config
    return body
