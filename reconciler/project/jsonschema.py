"""JSON Schemas of the spec files, generated from the document models, for editor autocompletion.

Point editors at them with a first-line comment such as
`# yaml-language-server: $schema=../.schema/notion-database.schema.json` (`reconciler schema`
writes them to `schemas/.schema/` by default).
The enums (property types, colours, number formats, rollup functions) come from
`reconciler.model.notion`, i.e. from the Notion API (NOTION-API.md §2).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from reconciler.project.config import Config
from reconciler.project.documents import DOC_BY_TYPE, DatabaseDoc, VocabularyDoc

DRAFT = "https://json-schema.org/draft/2020-12/schema"

#: File name → schema function, as written by `write_schemas`.
SCHEMA_FILES = {
    "notion-database.schema.json": "notion_database_schema",
    "vocabulary.schema.json": "vocabulary_schema",
    "reconciler.schema.json": "config_schema",
    "supabase-table.schema.json": "supabase_table_schema",
    "supabase-object.schema.json": "supabase_object_schema",
}


def _schema(model: type[BaseModel], title: str, description: str) -> dict:
    schema = model.model_json_schema()
    return {"$schema": DRAFT, **schema, "title": title, "description": description}


def notion_database_schema() -> dict:
    """Schema of `schemas/notion/<db>.yaml`: one branch per property type, chosen by `type`.

    Each property also carries a plain `type` enum of every creatable type (NOTION-API.md §2,
    column C), so editors offer the types before a branch is chosen; branches are titled
    "<type> property".
    """
    schema = _schema(DatabaseDoc, "Notion database",
                     "One Notion database of a reconciler project (file stem = logical name).")
    item = schema["properties"]["properties"]["additionalProperties"]
    item["properties"] = {"type": {
        "enum": sorted(DOC_BY_TYPE), "title": "Property type",
        "description": "A property type the Notion API can create (button and verification "
                       "need the Notion UI)."}}
    item["required"] = ["type"]
    for type_name, model in DOC_BY_TYPE.items():
        schema["$defs"][model.__name__]["title"] = f"{type_name} property"
    return schema


def vocabulary_schema() -> dict:
    """Schema of `schemas/vocab/<name>.yaml`."""
    return _schema(VocabularyDoc, "Vocabulary",
                   "A shared list of select / multi_select options (file stem = vocabulary name).")


def config_schema() -> dict:
    """Schema of `reconciler.yaml` (the `supabase:` section is open for now)."""
    return _schema(Config, "reconciler.yaml",
                   "Connections and defaults of a reconciler project. No secrets: use ${VAR}.")


def supabase_table_schema() -> dict:
    """Schema of `schemas/supabase/<table>.yaml`."""
    from reconciler.project.supabase_docs import TableDoc

    schema = TableDoc.model_json_schema(by_alias=True)
    return {"$schema": DRAFT, **schema, "title": "Supabase table",
            "description": "One PostgreSQL table: columns, keys, indexes, RLS, grants; or mirror:"}


def supabase_object_schema() -> dict:
    """Schema of `schemas/supabase/<name>.yaml` files that declare an object beside tables,
    chosen by `kind:` (enum, extension, sequence, view, function, default_privileges)."""
    from typing import Annotated, Union

    from pydantic import Field, TypeAdapter

    from reconciler.project.supabase_docs import DOC_KINDS

    kinds = tuple(model for kind, model in DOC_KINDS.items() if kind != "table")
    union = Annotated[Union[kinds], Field(discriminator="kind")]  # type: ignore[valid-type]
    schema = TypeAdapter(union).json_schema(by_alias=True)
    return {"$schema": DRAFT, **schema, "title": "Supabase object",
            "description": "One enum type, extension, sequence, view, function (RPC) or set of "
                           "default privileges, chosen by `kind:`."}


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema file (`SCHEMA_FILES`) into `directory` (created if needed); returns their paths.

    Output is deterministic (sorted keys, 2-space indent, trailing newline).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, func in SCHEMA_FILES.items():
        path = directory / name
        text = json.dumps(globals()[func](), indent=2, sort_keys=True, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written
