"""Live Notion databases → the documents of `schemas/notion/*.yaml` and `schemas/vocab/*.yaml`.

Pure. The documents are plain data in the key order a person writes them (title, description,
parent, properties in the data source's order), such that `project.resolve` turns them back into
the live model the diff compares with (`diff.notion`), so a plan right after the import is
empty:

- options keep their colours (a colour equal to `model.notion.stable_color(name)` is left out:
  it is the colour the loader gives an option without one) and their descriptions;
- select and multi_select option sets that repeat (same names and colours, in order, in two or
  more properties) become one shared vocabulary, `schemas/vocab/<property name>.yaml`;
- relations name the related database by its logical name; two-way relations are written on both
  sides, each naming the other side's property (`synced_property`);
- formulas are written with `prop("Name")` where Notion returns
  `{{notion:block_property:<property id>:<data source id>:<workspace id>}}` references
  (NOTION-API.md §2 "Formula expressions are not round-trippable"), for every data source
  imported together;
- rollups by relation and property name; number formats, unique id prefixes, descriptions.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from reconciler.model.notion import Database, Property, SelectOption, bare_id, stable_color
from reconciler.project.documents import DOC_BY_TYPE
from reconciler.importer.names import slug, unique_name

#: A property reference inside a formula as Notion returns it (NOTION-API.md §2).
REFERENCE = re.compile(r"\{\{notion:block_property:([^:}]+):([0-9a-fA-F-]+):[^}]*\}\}")
#: Property types whose options a vocabulary can hold (`project.documents.OptionsBase`).
VOCABULARY_TYPES = ("select", "multi_select")


@dataclass(frozen=True)
class Finding:
    """Something the import could not write as it is live: `address` and what to do."""

    address: str
    message: str


@dataclass
class NotionImport:
    """The documents of one import: `databases` by logical name, `vocabularies` by name, the
    formula text written next to the text Notion returned (`formulas[(db, property)] =
    (written, live)`), and `findings`."""

    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
    vocabularies: dict[str, dict[str, Any]] = field(default_factory=dict)
    formulas: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def formula_text(expression: str, names: Mapping[tuple[str, str], str]) -> str:
    """`expression` with each `{{notion:block_property:<id>:<data source>:…}}` whose (bare data
    source id, unquoted property id) is in `names` written `prop("<name>")`; other references
    are kept."""

    def canonical(match: re.Match) -> str:
        key = (bare_id(match.group(2)), unquote(match.group(1)))
        name = names.get(key)
        return match.group(0) if name is None else "prop(" + json.dumps(name, ensure_ascii=False) + ")"

    return REFERENCE.sub(canonical, expression)


def property_names(databases: Sequence[Database]) -> dict[tuple[str, str], str]:
    """`(bare data source id, unquoted property id) → property name` of every property."""
    return {(bare_id(db.data_source_id or ""), unquote(p.id)): p.name
            for db in databases for p in db.properties if p.id}


def _option(option: SelectOption) -> Any:
    """`Done`, or `{name, color, description}` when the colour is not the loader's default."""
    data: dict[str, Any] = {"name": option.name}
    if option.color != stable_color(option.name):
        data["color"] = option.color
    if option.description:
        data["description"] = option.description
    return option.name if len(data) == 1 else data


def _option_key(prop: Property) -> tuple:
    return tuple((o.name, o.color, o.description or None) for o in prop.options)


def shared_vocabularies(databases: Sequence[Database]) -> dict[tuple, str]:
    """Option sets used by two or more select / multi_select properties → a vocabulary name
    (the slug of the first property's name; `_2`… when taken)."""
    counts = Counter(_option_key(p) for db in databases for p in db.properties
                     if p.type in VOCABULARY_TYPES and p.options)
    names: dict[tuple, str] = {}
    for db in databases:
        for prop in db.properties:
            key = _option_key(prop)
            if prop.type in VOCABULARY_TYPES and prop.options and counts[key] > 1 \
                    and key not in names:
                names[key] = unique_name(slug(prop.name, fallback="options"), names.values())
    return names


def vocabulary_document(options: Sequence[SelectOption]) -> dict[str, Any]:
    """`schemas/vocab/<name>.yaml`: a closed vocabulary of these options, in order."""
    return {"mode": "closed", "options": [_option(o) for o in options]}


def _settings(prop: Property, vocabulary: str | None) -> dict[str, Any]:
    """The type-specific keys of one property document (`project.documents`)."""
    kind = prop.type
    if kind == "number":
        return {"format": prop.number_format} if prop.number_format not in (None, "number") else {}
    if kind in ("select", "multi_select", "status"):
        if vocabulary is not None:
            return {"vocabulary": vocabulary}
        return {"options": [_option(o) for o in prop.options]}
    if kind == "relation" and prop.relation is not None:
        out: dict[str, Any] = {"database": prop.relation.database}
        if prop.relation.two_way:
            out["two_way"] = True
            if prop.relation.synced_property:
                out["synced_property"] = prop.relation.synced_property
        return out
    if kind == "rollup" and prop.rollup is not None:
        return {"relation": prop.rollup.relation_property,
                "property": prop.rollup.rollup_property, "function": prop.rollup.function}
    if kind == "formula":
        return {"expression": prop.formula or ""}
    if kind == "unique_id":
        return {"prefix": prop.unique_id_prefix} if prop.unique_id_prefix else {}
    return {}


def property_document(prop: Property, vocabulary: str | None = None) -> dict[str, Any]:
    """One property as its document: `{type, description?, <settings>}`."""
    data: dict[str, Any] = {"type": prop.type}
    if prop.description:
        data["description"] = prop.description
    data.update(_settings(prop, vocabulary))
    return data


def database_document(db: Database, *, vocabularies: Mapping[tuple, str],
                      default_parent: str | None) -> tuple[dict[str, Any], list[Finding]]:
    """`schemas/notion/<name>.yaml` for the live `db` (relations already by logical name,
    formulas already canonical). `parent` is written when the database's parent page is not
    `default_parent`. Properties of a type no document declares are left out, with a finding."""
    data: dict[str, Any] = {"title": db.title}
    if db.description:
        data["description"] = db.description
    if db.parent_page_id and (default_parent is None
                              or bare_id(db.parent_page_id) != bare_id(default_parent)):
        data["parent"] = db.parent_page_id
    findings: list[Finding] = []
    props: dict[str, Any] = {}
    for prop in sorted(db.properties, key=lambda p: p.type != "title"):  # the title first
        address = f'notion.{db.name}.property["{prop.name}"]'
        if prop.type not in DOC_BY_TYPE:
            findings.append(Finding(address, f"a {prop.type} property cannot be declared yet; "
                                    "it is left out, so a plan proposes deleting it"))
            continue
        if prop.type == "relation" and prop.relation and prop.relation.database.startswith("data_source:"):
            findings.append(Finding(address, "relates to a data source the integration cannot "
                                    "read: it is left out, so a plan proposes deleting it; share "
                                    "that database with the integration and import again"))
            continue
        key = _option_key(prop)
        props[prop.name] = property_document(prop, vocabularies.get(key)
                                             if prop.type in VOCABULARY_TYPES and prop.options
                                             else None)
    data["properties"] = props
    return data, findings


def notion_documents(databases: Sequence[Database], default_parent: str | None) -> NotionImport:
    """Every database's document and the shared vocabularies. `databases` are live models named
    by their logical names, relations by logical name (`backends.notion.schema.database_from_api`
    with a `database_name_for` over the imported data sources), formulas as Notion returns them."""
    out = NotionImport()
    names = property_names(databases)
    canonical = []
    for db in databases:
        props = []
        for prop in db.properties:
            if prop.type == "formula" and prop.formula:
                text = formula_text(prop.formula, names)
                out.formulas[(db.name, prop.name)] = (text, prop.formula)
                prop = prop.model_copy(update={"formula": text})
            props.append(prop)
        canonical.append(db.model_copy(update={"properties": tuple(props)}))
    vocabularies = shared_vocabularies(canonical)
    for db in canonical:
        for prop in db.properties:
            name = vocabularies.get(_option_key(prop)) if prop.type in VOCABULARY_TYPES else None
            if name is not None and name not in out.vocabularies:
                out.vocabularies[name] = vocabulary_document(prop.options)
        out.databases[db.name], findings = database_document(
            db, vocabularies=vocabularies, default_parent=default_parent)
        out.findings += findings
    return out
