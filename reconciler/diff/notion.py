"""The pure diff of Notion databases: desired model vs live model → typed changes.

No I/O, no printing. What the API cannot do becomes a `manual` change that says exactly what
to do in the Notion UI (NOTION-API.md §3.2-3.5): title retype, conversion to/from place, button
and verification properties, option rename/recolour, status options and groups, moving a database.
"""

from __future__ import annotations

from typing import Any

from reconciler.notion_docs import UPDATE_PROPERTIES
from reconciler import addresses
from reconciler.diff.match import match
from reconciler.model.changes import (AddOption, AddProperty, ChangeBase, CreateDatabase,
                                      DatabaseAttrs, DropOption, DropProperty, ManualChange,
                                      ModifyProperty, NewDatabase, Phase, PropertyRef,
                                      RenameProperty, UpdateDatabase)
from reconciler.model.notion import (Database, NotionDatabases, Property, Relation, SelectOption,
                                     bare_id)
from reconciler.model.property_types import LOSSLESS_RETYPES, UI_ONLY_TYPES, property_type




def planned(prop: Property) -> Property:
    """`prop` as a change carries it: without the spec's bookkeeping (`renamed_from`,
    `options_mode`), which says how to diff, not what to write."""
    return prop.model_copy(update={"renamed_from": (), "options_mode": "exact"})


def settings(prop: Property) -> Property:
    """The settings of `prop` a settings change compares and shows: type, description and the
    type's own config, without options (compared one by one), the vocabulary they came from, or
    the synced property's name (compared on the other database, as its own rename), nor whether
    it is `sensitive` (how the reconciler shows its values; Notion does not know it)."""
    relation = prop.relation and Relation(database=prop.relation.database,
                                          two_way=prop.relation.two_way)
    return planned(prop).model_copy(update={"options": (), "vocabulary": None,
                                            "synced_from": None, "relation": relation,
                                            "sensitive": False})


def _as_data(model: Any) -> dict[str, Any]:
    """A model as display data for a manual change (`ManualChange.before/after`)."""
    data = model.model_dump(mode="json", exclude_none=True,
                            exclude={"renamed_from", "options_mode", "default_color"})
    if not data.get("options", True):
        data.pop("options")
    for option in data.get("options", ()):
        option.pop("default_color", None)
    return data


def property_phase(prop: Property) -> Phase:
    """Where a new or changed property goes in apply order."""
    if prop.synced_from:
        return Phase.SYNCED
    if prop.type == "relation":
        return Phase.RELATION
    if prop.type in ("rollup", "formula"):
        return Phase.DERIVED
    return Phase.PROPERTY


def diff_notion(desired: NotionDatabases, live: NotionDatabases) -> list[ChangeBase]:
    """Every change that takes `live` to `desired`, sorted by (phase, address).

    `live` holds the databases found for the desired logical names (absent ones are missing);
    live databases that are not declared are not touched (the reconciler manages what it declares).
    """
    changes: list[ChangeBase] = []
    for want in desired.databases:
        have = live.database(want.name)
        changes += create_database(want) if have is None else compare_database(want, have)
    return sorted(changes, key=lambda c: c.sort_key)


def create_database(db: Database) -> list[ChangeBase]:
    """A new database: one `create_database` (with its title property) and one change per property."""
    title = db.title_property or Property(name="Name", type="title")
    after = NewDatabase(title=db.title, description=db.description,
                        parent_page_id=db.parent_page_id, title_property=planned(title))
    changes: list[ChangeBase] = [CreateDatabase(address=db.address, phase=Phase.DATABASE,
                                                database=db.name, after=after)]
    for prop in db.properties:
        if prop.type != "title":
            changes += add_property(db, prop)
    return changes


def add_property(db: Database, prop: Property) -> list[ChangeBase]:
    address = addresses.notion_property(db.name, prop.name)
    if prop.type in UI_ONLY_TYPES:
        return [_manual(address, None, _as_data(prop),
                        f"Add the {prop.type} property {prop.name!r} to database {db.title!r} in "
                        f"the Notion UI: the API cannot create {prop.type} properties.")]
    note = None
    if prop.synced_from:
        note = f"created by the two-way relation {prop.synced_from}"
    return [AddProperty(address=address, phase=property_phase(prop), database=db.name,
                        after=planned(prop), note=note)]


def compare_database(want: Database, have: Database) -> list[ChangeBase]:
    """Changes to an existing database: its title/description, parent, and its properties."""
    changes: list[ChangeBase] = []
    before = DatabaseAttrs(title=have.title, description=have.description)
    after = DatabaseAttrs(title=want.title, description=want.description)
    if before != after:
        changes.append(UpdateDatabase(address=want.address, phase=Phase.DATABASE,
                                      database=want.name, before=before, after=after))
    if want.parent_page_id and have.parent_page_id and \
            bare_id(want.parent_page_id) != bare_id(have.parent_page_id):
        changes.append(_manual(
            want.address, {"parent_page_id": have.parent_page_id},
            {"parent_page_id": want.parent_page_id},
            f"Move database {want.title!r} to page {want.parent_page_id} in the Notion UI "
            "(\u2026 menu \u2192 Move to); the reconciler does not move databases."))
    return changes + compare_properties(want, have)


def compare_properties(want: Database, have: Database) -> list[ChangeBase]:
    """Match properties (id, title, two-way peer, name, `renamed_from`) and compare each pair."""
    m = match(
        want.properties, have.properties,
        name=lambda p: p.name, former_names=lambda p: p.renamed_from, ident=lambda p: p.id,
        special=lambda d, l: (d.type == "title" and l.type == "title") or _same_two_way(d, l),
    )
    changes: list[ChangeBase] = []
    for prop in m.added:
        changes += add_property(want, prop)
    for d, l in m.pairs:
        changes += compare_property(want, d, l)
    for prop in m.removed:
        changes.append(DropProperty(
            address=addresses.notion_property(want.name, prop.name), phase=property_phase(prop),
            database=want.name, before=planned(prop), destructive=True,
            note="deletes the property and its value on every page"))
    return changes


def _same_two_way(d: Property, l: Property) -> bool:
    """A synced property matches the live one that points back at the same relation."""
    return bool(d.synced_from and d.relation and l.relation and l.relation.two_way
                and d.relation.database == l.relation.database
                and d.relation.synced_property == l.relation.synced_property)


def compare_property(db: Database, want: Property, have: Property) -> list[ChangeBase]:
    """Rename, retype, settings and option changes for one matched property."""
    address = addresses.notion_property(db.name, want.name)
    changes: list[ChangeBase] = []
    if want.name != have.name:
        changes.append(RenameProperty(
            address=address, phase=Phase.PROPERTY, database=db.name,
            before=PropertyRef(name=have.name, id=have.id), after=PropertyRef(name=want.name),
            note="the property keeps its id and every page keeps its value"))
    if want.type != have.type:
        return changes + [retype(db, address, want, have)]
    if want.type == "status":
        return changes + _compare_status(db, address, want, have)
    before, after = settings(have), settings(want).model_copy(update={"id": None})
    if want.description is None:
        before = before.model_copy(update={"description": None})
    if before.model_copy(update={"name": "", "id": None}) != after.model_copy(update={"name": ""}):
        destructive = _related_database_changed(want, have)
        changes.append(ModifyProperty(
            address=address, phase=property_phase(want), database=db.name,
            before=before, after=after, destructive=destructive,
            note="related pages are unlinked on every page" if destructive else None))
    if want.type in ("select", "multi_select") and want.options_mode != "open":
        changes += compare_options(db, want, have)
    return changes


def _related_database_changed(want: Property, have: Property) -> bool:
    return bool(want.relation and have.relation and want.relation.database != have.relation.database)


def retype(db: Database, address: str, want: Property, have: Property) -> ChangeBase:
    """A type change: manual where the API refuses it, else a (maybe destructive) update."""
    if "title" in (want.type, have.type):
        return _manual(address, _as_data(have), _as_data(want),
                       f"The title property of {db.title!r} cannot change type, and no other "
                       f"property can become the title ({UPDATE_PROPERTIES}). Keep the title's type "
                       "in the spec, or rebuild the database in the Notion UI.")
    if not all(_retypable(t) for t in (want.type, have.type)) or want.type in UI_ONLY_TYPES:
        return _manual(address, _as_data(have), _as_data(want),
                       f"Notion cannot convert {have.type} to {want.type} through the API: in the "
                       f"Notion UI, create a new {want.type} property, copy the values, then delete "
                       f"{have.name!r}.")
    lossless = (have.type, want.type) in LOSSLESS_RETYPES
    return ModifyProperty(
        address=address, phase=property_phase(want), database=db.name, before=planned(have),
        after=planned(want), destructive=not lossless,
        note=f"retype {have.type} \u2192 {want.type}: "
             + ("every value is kept" if lossless else "values Notion cannot convert are lost"))


def _retypable(name: str) -> bool:
    row = property_type(name)
    return row is None or row.retypable


def compare_options(db: Database, want: Property, have: Property) -> list[ChangeBase]:
    """Options to add, recolour (manual) or drop (destructive, only for `exact` options)."""
    live = {o.name.casefold(): o for o in have.options}
    declared = {o.name.casefold() for o in want.options}
    owner = PropertyRef(name=have.name, id=have.id)
    changes: list[ChangeBase] = []
    for opt in want.options:
        address = addresses.notion_option(db.name, want.name, opt.name)
        found = live.get(opt.name.casefold())
        if found is None:
            changes.append(AddOption(address=address, phase=Phase.OPTION, database=db.name,
                                     property=owner, after=opt,
                                     note=f"from vocabulary {want.vocabulary!r}"
                                     if want.vocabulary else None))
        elif (found.color != opt.color and not opt.default_color) or found.name != opt.name:
            changes.append(_manual(
                address, _as_data(found), _as_data(opt),
                f"In the Notion UI, open {db.title!r} \u2192 {want.name!r} and edit option "
                f"{found.name!r} to name {opt.name!r}, colour {opt.color!r}: the API cannot rename "
                f"or recolour options ({UPDATE_PROPERTIES})."))
    if want.options_mode == "exact":
        for opt in have.options:
            if opt.name.casefold() not in declared:
                changes.append(DropOption(
                    address=addresses.notion_option(db.name, want.name, opt.name),
                    phase=Phase.OPTION, database=db.name, property=owner, before=opt,
                    destructive=True, note=f"pages lose the value {opt.name!r}"))
    return changes


def _compare_status(db: Database, address: str, want: Property, have: Property
                    ) -> list[ChangeBase]:
    if not want.options or _same_options(want.options, have.options):
        return []
    return [_manual(address, {"options": [_as_data(o) for o in have.options]},
                    {"options": [_as_data(o) for o in want.options]},
                    f"Edit the status options of {want.name!r} in {db.title!r} in the Notion UI: "
                    "status options and groups are not reliably writable through the API "
                    f"({UPDATE_PROPERTIES}).")]


def _same_options(want: tuple[SelectOption, ...], have: tuple[SelectOption, ...]) -> bool:
    """Same names in the same order, and the declared colours (a default colour is not a
    difference)."""
    return [o.name for o in want] == [o.name for o in have] and all(
        w.default_color or w.color == h.color for w, h in zip(want, have))


def _manual(address: str, before: dict | None, after: dict | None, what: str) -> ManualChange:
    return ManualChange(address=address, phase=Phase.MANUAL, before=before, after=after,
                        manual=what)
