"""Documents → desired model (pure: no I/O, no validation messages).

`resolve_notion` turns validated `DatabaseDoc`s into a `NotionDatabases`: properties in declared
order, options coloured with `stable_color` when no colour is declared, shared vocabularies
expanded, and the property Notion creates on the other side of every two-way relation added to
the related database (NOTION-API.md §3.3: "creates the synced property on the target named
`Related to <source database title> (<property name>)`"). The loader validates first; these
functions assume references resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

from reconciler import addresses
from reconciler.model.notion import (
    Database, NotionDatabases, Property, Relation, Rollup, SelectOption, Vocabulary, stable_color,
)
from reconciler.model.property_types import SENSITIVE_TYPES
from reconciler.project.documents import (
    DatabaseDoc, FormulaDoc, NumberDoc, OptionDoc, OptionsBase, PropertyBase, RelationDoc,
    RollupDoc, UniqueIdDoc, VocabularyDoc,
)

#: Vocabulary mode → `Property.options_mode`.
_MODE = {"closed": "exact", "additive": "additive", "open": "open"}


def default_synced_name(title: str, prop: str) -> str:
    """Notion's name for the other side of a two-way relation (NOTION-API.md §3.3)."""
    return f"Related to {title} ({prop})"


@dataclass(frozen=True)
class BackReference:
    """The other side of the two-way relation `source`.`source_property`: property `name` on the
    related database `related`."""

    source: str
    source_property: str
    related: str
    name: str

    @property
    def address(self) -> str:
        """Address of the relation that creates the back property (`Property.synced_from`)."""
        return addresses.notion_property(self.source, self.source_property)


def back_references(docs: Mapping[str, DatabaseDoc]) -> list[BackReference]:
    """The back property of every two-way relation whose related database is declared, in
    declaration order.

    When both sides are declared as matching two-way relations, only the first (in `docs` order)
    is returned: the other side is its back property, not a second relation.
    """
    refs: list[BackReference] = []
    claimed: set[tuple[str, str]] = set()
    for key, db in docs.items():
        for name, prop in db.properties.items():
            if not _is_two_way(prop) or prop.database not in docs or (key, name) in claimed:
                continue
            ref = BackReference(key, name, prop.database,
                                prop.synced_property or default_synced_name(db.title, name))
            refs.append(ref)
            if is_matching_back(docs[ref.related].properties.get(ref.name), ref):
                claimed.add((ref.related, ref.name))
    return refs


def is_matching_back(prop: PropertyBase | None, ref: BackReference) -> bool:
    """True when `prop` is declared as the two-way relation pointing back along `ref`."""
    return (isinstance(prop, RelationDoc) and prop.two_way and prop.database == ref.source
            and prop.synced_property == ref.source_property
            and (ref.related, ref.name) != (ref.source, ref.source_property))


def _is_two_way(prop: PropertyBase) -> bool:
    return isinstance(prop, RelationDoc) and prop.two_way


def to_option(doc: OptionDoc) -> SelectOption:
    """An option with its declared colour, else `stable_color(name)` (DESIGN.md "Vocabulary")."""
    return SelectOption(name=doc.name, color=doc.color or stable_color(doc.name),
                        description=doc.description, default_color=doc.color is None)


def resolve_vocabulary(name: str, doc: VocabularyDoc) -> Vocabulary:
    """`schemas/vocab/<name>.yaml` → `Vocabulary`."""
    return Vocabulary(name=name, mode=doc.mode, options=tuple(to_option(o) for o in doc.options))


def resolve_notion(docs: Mapping[str, DatabaseDoc], vocabularies: Mapping[str, Vocabulary],
                   default_parent: str | None) -> NotionDatabases:
    """Every database, keyed by file stem, with synced back properties added.

    `default_parent`: `notion.parent_page_id` of the config (None = the planner decides).
    """
    refs = back_references(docs)
    databases = []
    for key, db in docs.items():
        props = [to_property(name, prop, db.title, vocabularies) for name, prop in db.properties.items()]
        databases.append(Database(
            name=key, title=db.title, description=db.description or "",
            parent_page_id=(db.parent or "").strip() or default_parent,
            properties=tuple(_with_back_properties(key, props, refs)),
        ))
    return NotionDatabases(databases=tuple(databases))


def _with_back_properties(key: str, props: list[Property], refs: list[BackReference]
                          ) -> list[Property]:
    by_name = {p.name: i for i, p in enumerate(props)}
    for ref in (r for r in refs if r.related == key):
        relation = Relation(database=ref.source, two_way=True, synced_property=ref.source_property)
        if ref.name in by_name:  # declared explicitly as the matching relation back
            i = by_name[ref.name]
            props[i] = props[i].model_copy(update={"synced_from": ref.address, "relation": relation})
        else:
            by_name[ref.name] = len(props)
            props.append(Property(name=ref.name, type="relation", relation=relation,
                                  synced_from=ref.address))
    return props


@dataclass(frozen=True)
class _Context:
    """What a property's settings may depend on besides its own document."""

    database_title: str
    name: str
    vocabularies: Mapping[str, Vocabulary]


def to_property(name: str, doc: PropertyBase, database_title: str,
                vocabularies: Mapping[str, Vocabulary]) -> Property:
    """One declared property of the database titled `database_title` → `Property`; it is
    `sensitive` as declared, else as its type is by default (`SENSITIVE_TYPES`)."""
    sensitive = doc.sensitive if doc.sensitive is not None else \
        doc.type in SENSITIVE_TYPES  # type: ignore[attr-defined]
    return Property(name=name, type=doc.type,  # type: ignore[attr-defined]
                    description=doc.description, renamed_from=tuple(doc.renamed_from),
                    sensitive=sensitive,
                    **_settings(doc, _Context(database_title, name, vocabularies)))


@singledispatch
def _settings(doc: PropertyBase, ctx: _Context) -> dict[str, Any]:
    """Type-specific `Property` fields; plain types have none."""
    return {}


@_settings.register
def _(doc: NumberDoc, ctx: _Context) -> dict[str, Any]:
    return {"number_format": doc.format}


@_settings.register
def _(doc: OptionsBase, ctx: _Context) -> dict[str, Any]:
    if doc.vocabulary:
        vocab = ctx.vocabularies[doc.vocabulary]
        return {"options": vocab.options, "options_mode": _MODE[vocab.mode],
                "vocabulary": vocab.name}
    if doc.options is None:  # nothing declared: the options are not managed
        return {"options_mode": "open"}
    return {"options": tuple(to_option(o) for o in doc.options), "options_mode": "exact"}


@_settings.register
def _(doc: RelationDoc, ctx: _Context) -> dict[str, Any]:
    synced = None
    if doc.two_way:
        synced = doc.synced_property or default_synced_name(ctx.database_title, ctx.name)
    return {"relation": Relation(database=doc.database, two_way=doc.two_way, synced_property=synced)}


@_settings.register
def _(doc: RollupDoc, ctx: _Context) -> dict[str, Any]:
    return {"rollup": Rollup(relation_property=doc.relation, rollup_property=doc.property,
                             function=doc.function)}


@_settings.register
def _(doc: FormulaDoc, ctx: _Context) -> dict[str, Any]:
    return {"formula": doc.expression}


@_settings.register
def _(doc: UniqueIdDoc, ctx: _Context) -> dict[str, Any]:
    return {"unique_id_prefix": doc.prefix}
