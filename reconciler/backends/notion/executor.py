"""Making a plan's Notion changes: one request per database and phase.

Property changes of one database in one phase go into a single
`PATCH /v1/data_sources/{id}` (NOTION-API.md §3: keys are names or ids, `null` deletes, `name`
renames, unmentioned properties are untouched), so a new database with ten properties costs one
`POST /v1/databases` and a few PATCHes. Option changes re-send the property's full option list
with ids, plus its description, because the list is replace-all (§3.4). Manual changes are not
made: they are reported as pending.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from notion_client import APIResponseError

from reconciler.addresses import parse
from reconciler.backends.notion.convert import rich_text_to_api
from reconciler.backends.notion.resilience import create_exactly_once
from reconciler.backends.notion.schema import database_from_api, property_to_api
from reconciler.errors import ApplyError
from reconciler.model.notion import Database, NotionDatabases, Property, SelectOption, bare_id
from reconciler.plan.changes import Change, Phase
from reconciler.state import DatabaseState, NotionState, PropertyState

OnApplied = Callable[..., None]  # (change, status, **detail)


def database_key(change: Change) -> str:
    """`tasks` for `notion.tasks…`."""
    head, _ = parse(change.address)
    return head[1]


def _property_name(change: Change) -> str:
    return next(name for kind, name in parse(change.address)[1] if kind == "property")


class NotionExecutor:
    """Applies Notion changes in plan order, keeping `state` (ids, applied formulas) current.

    `live` is the live Notion read just before (the stale check's read); `save_state()` is called
    after every request so an interrupted apply leaves correct ids behind.
    """

    def __init__(self, client, live: NotionDatabases, state: NotionState,
                 save_state: Callable[[], None]):
        self.client = client
        self.state = state
        self.save_state = save_state
        self.schemas: dict[str, Database] = {d.name: d for d in live.databases}
        self.applied = 0

    def apply(self, changes: Sequence[Change], on_applied: OnApplied) -> None:
        """Make `changes` (already in plan order). Raises `ApplyError` at the first failure,
        except that property changes the integration has no right to make (403
        `restricted_resource`) are deferred: the content that needs them is then written
        without those fields (DESIGN.md "Schema lag, explicitly")."""
        groups = itertools.groupby(changes, key=lambda c: (c.phase, database_key(c)))
        for (phase, key), group in groups:
            batch = list(group)
            try:
                self._apply_group(phase, key, batch, on_applied)
            except APIResponseError as exc:
                if exc.status == 403 and phase is not Phase.DATABASE:
                    for change in batch:
                        on_applied(change, "deferred", reason=f"Notion refused: {exc.code}: {exc}")
                    continue
                raise ApplyError(f"Notion refused the change: {exc.code}: {exc}",
                                 applied=self.applied, address=batch[0].address) from None

    def _apply_group(self, phase: Phase, key: str, batch: list[Change],
                     on_applied: OnApplied) -> None:
        if phase is Phase.MANUAL:
            for change in batch:
                on_applied(change, "manual-pending")
            return
        if phase is Phase.DATABASE:
            for change in batch:
                (self._create if change.kind == "create_database" else self._update)(key, change)
                self._done(change, on_applied)
            return
        body: dict[str, dict | None] = {}
        for change in batch:
            body.update(self._property_body(key, change))
        if body:
            self._patch(key, body, batch)
        for change in batch:
            self._done(change, on_applied)

    def _done(self, change: Change, on_applied: OnApplied) -> None:
        self.applied += 1
        on_applied(change, "applied")

    # databases ---------------------------------------------------------------------------
    def _create(self, key: str, change: Change) -> None:
        after = change.after or {}
        title = Property.model_validate(_property_fields(after["title_property"], "Name"))
        name, config = property_to_api(title, data_source_id_for=self._data_source_id, key=title.name)
        body = {
            "parent": {"type": "page_id", "page_id": after["parent_page_id"]},
            "title": rich_text_to_api(after["title"]),
            "initial_data_source": {"properties": {name: config}},
        }
        if after.get("description"):
            body["description"] = rich_text_to_api(after["description"])
        database = create_exactly_once(lambda: self.client.databases.create(**body),
                                       lambda: self._created_after_all(after))
        data_source = self.client.data_sources.retrieve(database["data_sources"][0]["id"])
        self.state.databases[key] = DatabaseState(
            database_id=database["id"], data_source_id=data_source["id"])
        self._remember(key, database, data_source, ())

    def _created_after_all(self, after: dict) -> dict | None:
        """The database a create that may have committed did create: same title, same parent
        (found among the parent page's child blocks, not the lagging search index)."""
        from reconciler.backends.notion.discover import find_database

        return find_database(self.client, after["parent_page_id"], after["title"])

    def _update(self, key: str, change: Change) -> None:
        after = change.after or {}
        known = self.state.databases[key] if key in self.state.databases else None
        database_id = (change.before or {}).get("id") or (known.database_id if known else None)
        database = self.client.databases.update(
            database_id, title=rich_text_to_api(after["title"]), description=rich_text_to_api(after.get("description")))
        data_source = self.client.data_sources.update(
            database["data_sources"][0]["id"], title=rich_text_to_api(after["title"]))
        self._remember(key, database, data_source, ())

    # properties ------------------------------------------------------------------------
    def _property_body(self, key: str, change: Change) -> dict[str, dict | None]:
        name = _property_name(change)
        current = self._current(key, change)
        ref = (current.id if current and current.id else None) or \
            (change.before or {}).get("id") or (change.before or {}).get("name") or name
        kind = change.kind
        if kind == "add_property" and change.phase is Phase.SYNCED:
            return self._synced_body(key, change)
        if kind in ("add_property", "modify_property"):
            prop = Property.model_validate(_property_fields(change.after or {}, name))
            if kind == "modify_property" and current is not None and \
                    prop.type == current.type and prop.type in ("select", "multi_select"):
                prop = prop.model_copy(update={"options": current.options})
            _, config = property_to_api(prop, data_source_id_for=self._data_source_id)
            return {name if kind == "add_property" else ref: config}
        if kind == "rename_property":
            return {ref: {"name": (change.after or {})["name"]}}
        if kind == "drop_property":
            return {ref: None}
        if kind in ("add_option", "drop_option"):
            return self._options_body(key, change, current)
        raise ApplyError(f"no Notion executor for change kind {kind!r}",
                         applied=self.applied, address=change.address)

    def _current(self, key: str, change: Change) -> Property | None:
        schema = self.schemas.get(key)
        if schema is None:
            return None
        name = _property_name(change)
        wanted_id = (change.before or {}).get("id")
        return next((p for p in schema.properties if wanted_id and p.id == wanted_id), None) or \
            schema.property(name) or \
            next((p for p in schema.properties if p.name == (change.before or {}).get("name")), None)

    def _options_body(self, key: str, change: Change, current: Property | None) -> dict:
        if current is None:
            raise ApplyError("the property holding this option does not exist live",
                             applied=self.applied, address=change.address)
        options = list(current.options)
        if change.kind == "add_option":
            options.append(SelectOption.model_validate(change.after))
        else:
            gone = (change.before or {}).get("name", "").casefold()
            options = [o for o in options if o.name.casefold() != gone]
        updated = current.model_copy(update={"options": tuple(options)})
        self.schemas[key] = self.schemas[key].model_copy(update={"properties": tuple(
            updated if p is current else p for p in self.schemas[key].properties)})
        ref, config = property_to_api(updated, data_source_id_for=self._data_source_id)
        return {current.id or current.name: config}

    def _synced_body(self, key: str, change: Change) -> dict:
        """The synced side exists once its two-way relation does; rename it if declared so."""
        after = change.after or {}
        relation = after.get("relation") or {}
        source = self.schemas.get(relation.get("database", ""))
        origin = source.property(relation.get("synced_property", "")) if source else None
        schema = self.schemas.get(key)
        live = None
        if schema is not None and origin is not None:
            live = next((p for p in schema.properties if p.relation and p.relation.two_way
                         and p.relation.synced_property == origin.name), None)
        if live is None:
            raise ApplyError("the two-way relation that creates this property does not exist",
                             applied=self.applied, address=change.address)
        return {} if live.name == after["name"] else {live.id or live.name: {"name": after["name"]}}

    def _patch(self, key: str, body: dict, batch: list[Change]) -> None:
        data_source_id = self._data_source_id(key)
        data_source = self.client.data_sources.update(data_source_id, properties=body)
        self._remember(key, None, data_source, batch)

    # state -----------------------------------------------------------------------------
    def _data_source_id(self, key: str) -> str:
        known = self.state.databases.get(key)
        if known is None:
            raise ApplyError(f"database {key!r} does not exist yet", applied=self.applied,
                             address=f"notion.{key}")
        return known.data_source_id

    def _remember(self, key: str, database: dict | None, data_source: dict,
                  batch: Sequence[Change]) -> None:
        """Refresh the cached schema (and those a two-way relation touched) and the state's ids."""
        previous = self.schemas.get(key)
        db = database_from_api(key, database, data_source, database_name_for=self.state.database_name_for)
        if database is None and previous is not None:
            db = db.model_copy(update={"title": previous.title, "description": previous.description,
                                       "id": previous.id})
        self.schemas[key] = db
        known = self.state.databases[key]
        formulas = {_property_name(c): (c.after or {}).get("formula") for c in batch
                    if (c.after or {}).get("formula") is not None}
        for prop in db.properties:
            if not prop.id:
                continue
            old = known.properties.get(prop.name)
            record = PropertyState(id=prop.id)
            if prop.name in formulas:
                record = PropertyState(id=prop.id, formula_applied=formulas[prop.name],
                                       formula_live=prop.formula)
            elif old is not None and old.id == prop.id:
                record = old
            known.properties[prop.name] = record
        for stale in [n for n in known.properties if db.property(n) is None]:
            del known.properties[stale]
        self._refresh_related(db)
        self.save_state()

    def _refresh_related(self, db: Database) -> None:
        """A two-way relation added on `db` created a property on its target: read that one."""
        for prop in db.properties:
            if not (prop.relation and prop.relation.two_way):
                continue
            target = self.schemas.get(prop.relation.database)
            known = self.state.databases.get(prop.relation.database)
            if known is None or target is None or target.name == db.name:
                continue
            if any(p.relation and p.relation.synced_property == prop.name for p in target.properties):
                continue
            self._remember(target.name, None, self.client.data_sources.retrieve(known.data_source_id), ())


def _property_fields(after: dict, name: str) -> dict:
    allowed = set(Property.model_fields)
    fields = {k: v for k, v in after.items() if k in allowed}
    fields["name"] = after.get("name", name)
    return fields
