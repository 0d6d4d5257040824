"""The pure diff of Notion databases: desired model vs live model → list of `Change`.

No I/O, no printing. What the API cannot do becomes a `manual` change that says exactly what
to do in the Notion UI (NOTION-API.md §3.2-3.5): title retype, conversion to/from place, button
and verification properties, option rename/recolour, status options and groups, moving a database.
"""

from __future__ import annotations

from typing import Any

from reconciler import addresses
from reconciler.diff.match import match
from reconciler.model.notion import (Database, NotionDatabases, Property, SelectOption,
                                     bare_id)
from reconciler.plan.changes import Change, Phase

#: Retypes that keep every value (NOTION-API.md §3.3, measured by notion-seed).
LOSSLESS_RETYPES: frozenset[tuple[str, str]] = frozenset(
    {(t, "rich_text") for t in ("number", "url", "select", "multi_select", "date", "checkbox",
                                "people")}
    | {(t, "url") for t in ("rich_text", "number", "select", "multi_select", "checkbox")}
    | {("select", "multi_select")}
)

_DISPLAY_EXCLUDE = {"renamed_from", "options_mode"}


def property_data(prop: Property) -> dict[str, Any]:
    """A property as plan data: its settings without empty or desired-only bookkeeping."""
    data = prop.model_dump(mode="json", exclude_none=True, exclude=_DISPLAY_EXCLUDE)
    if not prop.options:
        data.pop("options", None)
    return data


def database_data(db: Database) -> dict[str, Any]:
    """A database's own settings (not its properties) as plan data."""
    return db.model_dump(mode="json", exclude_none=True, exclude={"properties", "name"})


def property_phase(prop: Property) -> Phase:
    """Where a new or changed property goes in apply order."""
    if prop.synced_from:
        return Phase.SYNCED
    if prop.type == "relation":
        return Phase.RELATION
    if prop.type in ("rollup", "formula"):
        return Phase.DERIVED
    return Phase.PROPERTY


def diff_notion(desired: NotionDatabases, live: NotionDatabases) -> list[Change]:
    """Every change that takes `live` to `desired`, sorted by (phase, address).

    `live` holds the databases found for the desired logical names (absent ones are missing);
    live databases that are not declared are not touched (the reconciler manages what it declares).
    """
    changes: list[Change] = []
    for want in desired.databases:
        have = live.database(want.name)
        changes += create_database(want) if have is None else compare_database(want, have)
    return sorted(changes, key=lambda c: c.sort_key)


def create_database(db: Database) -> list[Change]:
    """A new database: one `create_database` (with its title property) and one change per property."""
    title = db.title_property or Property(name="Name", type="title")
    after = database_data(db) | {"title_property": property_data(title)}
    changes = [Change.make("create_database", db.address, Phase.DATABASE, after=after)]
    for prop in db.properties:
        if prop.type != "title":
            changes += add_property(db, prop)
    return changes


def add_property(db: Database, prop: Property) -> list[Change]:
    address = addresses.notion_property(db.name, prop.name)
    if prop.type in ("button", "verification"):
        return [_manual(address, None, property_data(prop),
                        f"Add the {prop.type} property {prop.name!r} to database {db.title!r} in "
                        f"the Notion UI: the API cannot create {prop.type} properties.")]
    note = None
    if prop.synced_from:
        note = f"created by the two-way relation {prop.synced_from}"
    return [Change.make("add_property", address, property_phase(prop),
                        after=property_data(prop), note=note)]


def compare_database(want: Database, have: Database) -> list[Change]:
    """Changes to an existing database: its title/description, parent, and its properties."""
    changes: list[Change] = []
    before = {"title": have.title, "description": have.description}
    after = {"title": want.title, "description": want.description}
    if before != after:
        changes.append(Change.make(
            "update_database", want.address, Phase.DATABASE,
            before=before | {"id": have.id, "data_source_id": have.data_source_id}, after=after))
    if want.parent_page_id and have.parent_page_id and \
            bare_id(want.parent_page_id) != bare_id(have.parent_page_id):
        changes.append(_manual(
            want.address, {"parent_page_id": have.parent_page_id},
            {"parent_page_id": want.parent_page_id},
            f"Move database {want.title!r} to page {want.parent_page_id} in the Notion UI "
            "(\u2026 menu \u2192 Move to); the reconciler does not move databases."))
    return changes + compare_properties(want, have)


def compare_properties(want: Database, have: Database) -> list[Change]:
    """Match properties (id, title, two-way peer, name, `renamed_from`) and compare each pair."""
    m = match(
        want.properties, have.properties,
        name=lambda p: p.name, former_names=lambda p: p.renamed_from, ident=lambda p: p.id,
        special=lambda d, l: (d.type == "title" and l.type == "title") or _same_two_way(d, l),
    )
    changes: list[Change] = []
    for prop in m.added:
        changes += add_property(want, prop)
    for d, l in m.pairs:
        changes += compare_property(want, d, l)
    for prop in m.removed:
        changes.append(Change.make(
            "drop_property", addresses.notion_property(want.name, prop.name), property_phase(prop),
            before=property_data(prop), destructive=True,
            note="deletes the property and its value on every page"))
    return changes


def _same_two_way(d: Property, l: Property) -> bool:
    """A synced property matches the live one that points back at the same relation."""
    return bool(d.synced_from and d.relation and l.relation and l.relation.two_way
                and d.relation.database == l.relation.database
                and d.relation.synced_property == l.relation.synced_property)


def compare_property(db: Database, want: Property, have: Property) -> list[Change]:
    """Rename, retype, config and option changes for one matched property."""
    address = addresses.notion_property(db.name, want.name)
    changes: list[Change] = []
    ident = {"id": have.id} if have.id else {}
    if want.name != have.name:
        changes.append(Change.make(
            "rename_property", address, Phase.PROPERTY,
            before={"name": have.name} | ident, after={"name": want.name},
            note="the property keeps its id and every page keeps its value"))
    if want.type != have.type:
        return changes + [retype(db, address, want, have)]
    if want.type == "status":
        return changes + _compare_status(db, address, want, have)
    before, after = _config(have), _config(want)
    if before != after:
        destructive = _relation_retargeted(want, have)
        changes.append(Change.make(
            "modify_property", address, property_phase(want),
            before=before | {"name": have.name} | ident, after=after | {"name": want.name},
            destructive=destructive,
            note="related pages are unlinked on every page" if destructive else None))
    if want.type in ("select", "multi_select") and want.options_mode != "open":
        changes += compare_options(db, want, have)
    return changes


def _config(prop: Property) -> dict[str, Any]:
    data = prop.config()
    data.pop("options", None)
    if prop.relation:
        # the synced property's name is compared on the other side (its own rename)
        data["relation"] = {"database": prop.relation.database, "two_way": prop.relation.two_way}
    if prop.description is None:
        data.pop("description", None)
    return data


def _relation_retargeted(want: Property, have: Property) -> bool:
    return bool(want.relation and have.relation and want.relation.database != have.relation.database)


def retype(db: Database, address: str, want: Property, have: Property) -> Change:
    """A type change: manual where the API refuses it, else a (maybe destructive) update."""
    before = property_data(have)
    after = property_data(want)
    if "title" in (want.type, have.type):
        return _manual(address, before, after,
                       f"The title property of {db.title!r} cannot change type, and no other "
                       "property can become the title (NOTION-API.md §3.2). Keep the title's type "
                       "in the spec, or rebuild the database in the Notion UI.")
    if "place" in (want.type, have.type) or want.type in ("button", "verification"):
        return _manual(address, before, after,
                       f"Notion cannot convert {have.type} to {want.type} through the API: in the "
                       f"Notion UI, create a new {want.type} property, copy the values, then delete "
                       f"{have.name!r}.")
    lossless = (have.type, want.type) in LOSSLESS_RETYPES
    return Change.make(
        "modify_property", address, property_phase(want), before=before, after=after,
        destructive=not lossless,
        note=f"retype {have.type} \u2192 {want.type}: "
             + ("every value is kept" if lossless else "values Notion cannot convert are lost"))


def compare_options(db: Database, want: Property, have: Property) -> list[Change]:
    """Options to add, recolour (manual) or drop (destructive, only for `exact` options)."""
    live = {o.name.casefold(): o for o in have.options}
    declared = {o.name.casefold() for o in want.options}
    changes: list[Change] = []
    for opt in want.options:
        address = addresses.notion_option(db.name, want.name, opt.name)
        found = live.get(opt.name.casefold())
        if found is None:
            changes.append(Change.make("add_option", address, Phase.OPTION,
                                       after=_option_data(opt),
                                       note=f"from vocabulary {want.vocabulary!r}"
                                       if want.vocabulary else None))
        elif found.color != opt.color or found.name != opt.name:
            changes.append(_manual(
                address, _option_data(found), _option_data(opt),
                f"In the Notion UI, open {db.title!r} \u2192 {want.name!r} and edit option "
                f"{found.name!r} to name {opt.name!r}, colour {opt.color!r}: the API cannot rename "
                "or recolour options (NOTION-API.md §3.4)."))
    if want.options_mode == "exact":
        for opt in have.options:
            if opt.name.casefold() not in declared:
                changes.append(Change.make(
                    "drop_option", addresses.notion_option(db.name, want.name, opt.name),
                    Phase.OPTION, before=_option_data(opt), destructive=True,
                    note=f"pages lose the value {opt.name!r}"))
    return changes


def _compare_status(db: Database, address: str, want: Property, have: Property) -> list[Change]:
    names = lambda ps: [(o.name, o.color) for o in ps.options]  # noqa: E731
    if not want.options or names(want) == names(have):
        return []
    return [_manual(address, {"options": [_option_data(o) for o in have.options]},
                    {"options": [_option_data(o) for o in want.options]},
                    f"Edit the status options of {want.name!r} in {db.title!r} in the Notion UI: "
                    "status options and groups are not reliably writable through the API "
                    "(NOTION-API.md §3.4).")]


def _option_data(opt: SelectOption) -> dict[str, Any]:
    return opt.model_dump(mode="json", exclude_none=True)


def _manual(address: str, before: dict | None, after: dict | None, what: str) -> Change:
    return Change.make("manual", address, Phase.MANUAL, before=before, after=after, manual=what)

