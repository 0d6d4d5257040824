"""Notion changes → requests as data (`steps.NotionStep`). Pure: no I/O.

One request per database and phase for schema changes (NOTION-API.md §3: a data source PATCH
takes any number of property writes; keys are names or ids, `null` deletes, `name` renames), so
a new database with ten properties costs one `POST /v1/databases` and a few PATCHes. Option
changes re-send the property's full option list with ids (replace-all, §3.4) and its
description (a select's description is cleared when its options change without it: NOTION-API.md
§3.4). Pages: one request each; relation values naming pages created in the same apply go in a
second pass (`RelateStep`, one per page, with its final content hash) once every page exists.
Manual changes compile to nothing.

The plan builder compiles at plan time (so the plan shows each request) and apply compiles the
same changes against the same live state (the stale check guarantees it), so apply sends exactly
what was reviewed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler import addresses
from reconciler.backends.notion.convert import rich_text_to_api, value_to_api
from reconciler.backends.notion.schema import property_to_api
from reconciler.backends.notion.steps import (CreateDatabaseStep, NotionStep, PageStep,
                                              PatchPropertiesStep, Ref, RelateStep,
                                              UpdateDatabaseStep)
from reconciler.errors import PlanError
from reconciler.model.changes import (AddOption, AddProperty, ArchivePage, ChangeBase,
                                      CreateDatabase, CreatePage, DropOption, DropProperty,
                                      ModifyProperty, Phase, RenameProperty, UpdateDatabase,
                                      UpdatePage)
from reconciler.model.content import ContentSet
from reconciler.model.notion import Database, NotionDatabases, Property, SelectOption


@dataclass(frozen=True)
class CompileContext:
    """What compiling needs besides the changes: the desired databases (property types, with
    the connection's defaults), the live ones read for the plan (ids, live options) and the
    content sets by database name (key and hash properties)."""

    desired: NotionDatabases
    live: NotionDatabases
    content: Mapping[str, ContentSet] = field(default_factory=dict)

    def data_source_id(self, database: str) -> Any:
        """The live data source id of `database`, else a `Ref` filled once it is created."""
        found = self.live.database(database)
        if found is not None and found.data_source_id:
            return found.data_source_id
        return Ref(f"notion.{database}", "data_source_id", database=database)


def compile_changes(changes: Sequence[ChangeBase], ctx: CompileContext) -> list[NotionStep]:
    """The requests that carry out `changes` (in plan order), in the order they are sent.

    Raises `PlanError` naming the change when a value cannot be written (e.g. a relation
    property without a related database)."""
    steps: list[NotionStep] = []
    schema = [c for c in changes if c.phase is not Phase.CONTENT]
    for (phase, database), group in itertools.groupby(
            schema, key=lambda c: (c.phase, getattr(c, "database", None))):
        batch = list(group)
        try:
            if phase is Phase.DATABASE:
                steps += [_database_step(c, ctx) for c in batch]
            elif phase is not Phase.MANUAL and database is not None:
                steps += _properties_step(database, batch, ctx)
        except ValueError as exc:
            raise PlanError(f"{batch[0].address}: {exc}") from None
    pages = [c for c in changes if c.phase is Phase.CONTENT]
    later: list[RelateStep] = []
    for change in pages:
        try:
            step, relate = _page_step(change, ctx)
        except ValueError as exc:
            raise PlanError(f"{change.address}: {exc}") from None
        steps.append(step)
        later += relate
    return steps + later


# --- databases ---------------------------------------------------------------------------------


def _database_step(change: ChangeBase, ctx: CompileContext) -> NotionStep:
    if isinstance(change, CreateDatabase):
        after = change.after
        title = after.title_property
        name, config = property_to_api(title, data_source_id_for=ctx.data_source_id,
                                       key=title.name)
        body: dict[str, Any] = {
            "parent": {"type": "page_id", "page_id": after.parent_page_id},
            "title": rich_text_to_api(after.title),
            "initial_data_source": {"properties": {name: config}},
        }
        if after.description:
            body["description"] = rich_text_to_api(after.description)
        return CreateDatabaseStep(
            method="POST", path="databases", body=body, changes=(change.address,),
            keys={change.address: (title.name,)}, database=change.database, title=after.title,
            parent_page_id=after.parent_page_id or "")
    if isinstance(change, UpdateDatabase):
        live = ctx.live.database(change.database)
        if live is None or not live.id:
            raise ValueError("the database to update does not exist live")
        title = rich_text_to_api(change.after.title)
        return UpdateDatabaseStep(
            method="PATCH", path="databases/{}", path_args=(live.id,),
            body={"title": title, "description": rich_text_to_api(change.after.description)},
            changes=(change.address,), keys={change.address: ("title", "description")},
            database=change.database, data_source_id=live.data_source_id or "", title=title)
    raise ValueError(f"no Notion request for a {change.kind} change")  # type: ignore[attr-defined]


# --- properties --------------------------------------------------------------------------------


def _properties_step(database: str, batch: list[ChangeBase], ctx: CompileContext
                     ) -> list[NotionStep]:
    """One `PATCH /v1/data_sources/{id}` for every property change of `database` in a phase."""
    live = ctx.live.database(database)
    body: dict[Any, Any] = {}
    keys: dict[str, tuple[str, ...]] = {}
    formulas: dict[str, str] = {}

    def put(change: ChangeBase, key: Any, value: Any, shown_as: str) -> None:
        if isinstance(body.get(key), dict) and isinstance(value, dict):
            value = body[key] | value  # a rename and a settings change of one property
        body[key] = value
        keys[change.address] = (*keys.get(change.address, ()), shown_as)

    options = [c for c in batch if isinstance(c, (AddOption, DropOption))]
    silent: list[str] = []
    for change in batch:
        if isinstance(change, (AddOption, DropOption)):
            continue
        if _named_by_notion(change, live, ctx):
            silent.append(change.address)
            continue
        key, value = _property_entry(change, live, ctx)
        put(change, key, value, getattr(change, "after", change).name
            if not isinstance(change, DropProperty) else change.before.name)
        formula = getattr(getattr(change, "after", None), "formula", None)
        if formula is not None and isinstance(getattr(change, "after", None), Property):
            formulas[change.after.name] = formula  # type: ignore[attr-defined]
    for key, value, owned in _option_entries(database, options, live, ctx):
        for change in owned:
            put(change, key, value, change.property.name)
    if not body and not silent:
        return []
    return [PatchPropertiesStep(
        method="PATCH", path="data_sources/{}", path_args=(ctx.data_source_id(database),),
        body={"properties": body}, changes=tuple(c.address for c in batch), keys=keys,
        database=database, formulas=formulas, silent=tuple(silent))]


def _named_by_notion(change: ChangeBase, live: Database | None, ctx: CompileContext) -> bool:
    """Whether `change` adds the synced property of a two-way relation under the name Notion
    gives it itself, `Related to <source database title> (<relation name>)` (NOTION-API.md
    §3.3), with no other property of the database by that name: the relation's creation makes
    it, and no request is needed (a taken name gets a number from Notion, and is renamed)."""
    if not (isinstance(change, AddProperty) and change.phase is Phase.SYNCED
            and change.after.relation is not None):
        return False
    source = ctx.desired.database(change.after.relation.database)
    if source is None or not change.after.relation.synced_property:
        return False
    default = f"Related to {source.title} ({change.after.relation.synced_property})"
    desired = ctx.desired.database(getattr(change, "database", ""))
    declared = [p for p in desired.properties if p.name == default] if desired else []
    taken = [p for p in live.properties if p.name == default] if live else []
    return change.after.name == default and len(declared) <= 1 and not taken


def _live_property(live: Database | None, name: str, ident: str | None) -> Property | None:
    if live is None:
        return None
    return next((p for p in live.properties if ident and p.id == ident), None) or \
        live.property(name)


def _property_entry(change: ChangeBase, live: Database | None, ctx: CompileContext
                    ) -> tuple[Any, Any]:
    if isinstance(change, AddProperty):
        prop = change.after
        if change.phase is Phase.SYNCED and prop.relation is not None:
            origin = (prop.relation.database, prop.relation.synced_property or "")
            return Ref(change.address, "property_key", origin, database=change.database,
                       property=prop.name), {"name": prop.name}
        return prop.name, property_to_api(prop, data_source_id_for=ctx.data_source_id)[1]
    if isinstance(change, RenameProperty):
        return change.before.id or change.before.name, {"name": change.after.name}
    if isinstance(change, DropProperty):
        return change.before.id or change.before.name, None
    if isinstance(change, ModifyProperty):
        current = _live_property(live, change.before.name, change.before.id)
        prop = change.after
        if current is not None and current.type == prop.type and \
                prop.type in ("select", "multi_select"):
            prop = prop.model_copy(update={"options": current.options})  # options: own changes
        key = (current.id if current else None) or change.before.id or change.before.name
        return key, property_to_api(prop, data_source_id_for=ctx.data_source_id)[1]
    raise ValueError(f"no Notion request for a {change.kind} change")  # type: ignore[attr-defined]


def _option_entries(database: str, changes: list[ChangeBase], live: Database | None,
                    ctx: CompileContext) -> list[tuple[Any, Any, list[Any]]]:
    """Per property with option changes: its full option list (live options with ids, plus the
    added, minus the dropped) and its declared description."""
    out = []
    by_property: dict[tuple[str, str | None], list[Any]] = {}
    for change in changes:
        by_property.setdefault((change.property.name, change.property.id), []).append(change)
    wanted = ctx.desired.database(database)
    for (name, ident), owned in by_property.items():
        current = _live_property(live, name, ident)
        if current is None:
            raise ValueError(f"the property {name!r} holding these options does not exist live")
        options: list[SelectOption] = list(current.options)
        for change in owned:
            if isinstance(change, AddOption):
                options.append(change.after)
            else:
                gone = change.before.name.casefold()
                options = [o for o in options if o.name.casefold() != gone]
        declared = next((p for p in wanted.properties if p.id == current.id or p.name == name),
                        None) if wanted else None
        updated = current.model_copy(update={
            "options": tuple(options),
            "description": declared.description if declared else current.description})
        key, config = property_to_api(updated, data_source_id_for=ctx.data_source_id)
        out.append((current.id or current.name, config, owned))
    return out


# --- pages -------------------------------------------------------------------------------------


def page_ref(address: str) -> Ref:
    """The id of the page at `address` (`notion.db.page["key"]`), once it exists."""
    return Ref(address, "page_id")


def _value(change: ChangeBase, wanted: Any, name: str, kind: str, value: Any) -> Any:
    """`value_to_api(kind, value)` of property `name`; a value Notion would refuse raises
    `ValueError` naming the property and, for a synced row, the side it comes from (a
    sensitive property's value is never quoted)."""
    try:
        return value_to_api(kind, value)
    except ValueError as exc:
        prop = next((p for p in wanted.properties if p.name == name), None) if wanted else None
        after = getattr(change, "after", None)
        personal = (prop is not None and prop.sensitive) or \
            name in (getattr(after, "sensitive", None) or ())  # a sensitive content set or field
        why = str(exc) if not personal or "holds at most" in str(exc) \
            else f"a {kind} value of the wrong shape (personal data: not shown)"
        sync = getattr(change, "sync", None)
        side = f" (synced to Notion from {sync.source})" if sync is not None else ""
        raise ValueError(f"property {name!r}{side}: {why}; shorten or fix it at its "
                         "source") from None


def _page_step(change: ChangeBase, ctx: CompileContext) -> tuple[PageStep, list[RelateStep]]:
    database = change.database  # type: ignore[attr-defined]
    content = ctx.content.get(database)
    key_property = content.key if content else ""
    hash_property = content.hash_field if content else None
    if isinstance(change, ArchivePage):
        page = change.before.id
        return PageStep(method="PATCH", path="pages/{}", path_args=(page,),
                        body={"in_trash": True}, changes=(change.address,), database=database,
                        key=change.before.key or "", archive=True), []
    wanted = ctx.desired.database(database)
    types = {p.name: p.type for p in wanted.properties} if wanted else {}
    after = change.after  # type: ignore[attr-defined]
    properties: dict[str, Any] = {}
    waiting: dict[str, tuple] = {}
    page: Any = change.before.id if isinstance(change, UpdatePage) else page_ref(change.address)
    for name, value in after.values.items():
        kind = types.get(name)
        if kind is None:
            raise ValueError(f"property {name!r} is not declared on notion.{database}")
        if kind == "relation" and value and any(isinstance(v, dict) for v in value):
            related = _relation_database(wanted, name) or database
            waiting[name] = tuple(
                page_ref(addresses.child(f"notion.{related}", "page", str(v["key"])))
                if isinstance(v, dict) else v for v in value)
            continue
        properties[name] = _value(change, wanted, name, kind, value)
    sent = (*waiting, hash_property) if hash_property in types else tuple(waiting)
    relate = [RelateStep(method="PATCH", path="pages/{}", path_args=(page,),
                         body={"properties": waiting}, changes=(change.address,),
                         keys={change.address: sent}, database=database,
                         fields=tuple(waiting), hash_property=hash_property,
                         desired_hash=after.hash)] if waiting else []
    if hash_property and hash_property in types:
        properties[hash_property] = value_to_api("rich_text", after.hash)
    values = dict(after.values)
    shown = tuple(properties)
    if isinstance(change, CreatePage):
        body = {"parent": {"type": "data_source_id",
                           "data_source_id": ctx.data_source_id(database)},
                "properties": properties}
        step = PageStep(method="POST", path="pages", body=body, changes=(change.address,),
                        keys={change.address: shown}, database=database, key=after.key or "",
                        key_property=key_property, values=values, hash_property=hash_property,
                        desired_hash=after.hash, relates=bool(relate))
    else:
        step = PageStep(method="PATCH", path="pages/{}", path_args=(page,),
                        body={"properties": properties}, changes=(change.address,),
                        keys={change.address: shown}, database=database, key=after.key or "",
                        key_property=key_property, values=values, hash_property=hash_property,
                        desired_hash=after.hash, stored_hash=change.before.hash,
                        relates=bool(relate))
    return step, relate


def _relation_database(db: Database | None, name: str) -> str | None:
    prop = db.property(name) if db else None
    return prop.relation.database if prop and prop.relation else None
