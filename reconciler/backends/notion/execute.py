"""Sending compiled Notion steps, in order, and keeping the local state current.

Schema steps run one after the other; every response refreshes the cached schema of its
database and the state's ids (`.reconciler/state.json`, saved after every request, so an
interrupted apply leaves correct ids behind). Page steps run several at a time (as many in
flight as the rate and the measured latency call for, `inflight.InFlight`; the pacing layer
spaces their starts, NOTION-API.md §4.1) in two passes: writes, then
the relations that name pages created in the same run. A create that may have committed (a 5xx
or a dropped connection on `POST /v1/pages` or `POST /v1/databases`) is looked up before it is
sent again (`resilience.create_exactly_once`), so a retry never duplicates.

Schema lag (DESIGN.md "Schema lag, explicitly"): a page write leaves out the properties the
live schema does not have at that moment and reports them `deferred`; the content hash written
is then the hash of what was written, so the next plan fills them in. Every page's ledger line
carries `hash` (what the page holds after the apply) and `desired_hash` (the source row's); a
page whose relations wait for pass two gets its line, and the desired hash, there. A property
change the integration may not make (403 `restricted_resource`) is deferred too, and the
content that needs it is still written without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from notion_client import APIResponseError

from reconciler.backends.base import Known
from reconciler.backends.notion.client import notion_refusal
from reconciler.backends.notion.convert import value_to_api
from reconciler.backends.notion.discover import find_database
from reconciler.backends.notion.inflight import CEILING, InFlight
from reconciler.backends.notion.resilience import create_exactly_once
from reconciler.backends.notion.schema import database_from_api
from reconciler.backends.notion.steps import (CreateDatabaseStep, NotionStep, PageStep,
                                              PatchPropertiesStep, Ref, RelateStep,
                                              UpdateDatabaseStep)
from reconciler.errors import ApplyError
from reconciler.model.content import content_hash
from reconciler.model.notion import Database, NotionDatabases
from reconciler.state import DatabaseState, NotionState, PropertyState

#: `(address, status, detail)`; status is applied / deferred / manual-pending.
Report = Callable[..., None]


def key_filter(prop_type: str, prop_name: str, key: str) -> dict[str, Any]:
    """The query filter for the page whose key property `prop_name` (of `prop_type`, one of the
    content key types) equals `key`: each type is filtered under its own name (`status` under
    `status`, `phone_number` under `phone_number`; Notion refuses a filter of another type,
    e.g. `rich_text` on a title: NOTION-API.md §3 "Filters", JS:common.ts `PropertyFilter`),
    and a number key is compared as a number."""
    value: Any = float(key) if prop_type == "number" else key
    return {"property": prop_name, prop_type: {"equals": value}}


class NotionExecutor:
    """Sends steps for one apply. `live` is the read the apply starts from; `state` is the
    connection's part of `.reconciler/state.json` and `save_state()` writes it."""

    def __init__(self, client, live: NotionDatabases, state: NotionState,
                 save_state: Callable[[], None], known: Known | None = None, *,
                 rate: float | None = None):
        self.client = client
        self.in_flight = InFlight(rate)
        self.state = state
        self.save_state = save_state
        self.schemas: dict[str, Database] = {d.name: d for d in live.databases}
        self.known = known or Known()
        self.pages: dict[str, str] = self.known.pages  # shared: Postgres steps read them too
        #: page address → (hash written, fields deferred) by pass one, for its pass-two step
        self.written: dict[str, tuple[str | None, list[str]]] = {}
        self.applied = 0
        self._lock = threading.Lock()

    # --- schema ----------------------------------------------------------------------------
    def run_schema(self, steps: Sequence[NotionStep], report: Report) -> None:
        """Send schema steps in order. Raises `ApplyError` at the first refusal, except a 403
        on a property change, which defers the step's changes."""
        for step in steps:
            try:
                self._schema_step(step)
            except APIResponseError as exc:
                if exc.status == 403 and isinstance(step, PatchPropertiesStep):
                    for address in step.changes:
                        report(address, "deferred", reason=f"Notion refused: {notion_refusal(exc)}")
                    continue
                raise ApplyError(f"Notion refused the change: {notion_refusal(exc)}",
                                 applied=self.applied, address=step.changes[0]) from None
            for address in step.changes:
                self.applied += 1
                report(address, "applied")

    def _schema_step(self, step: NotionStep) -> None:
        if isinstance(step, CreateDatabaseStep):
            database = create_exactly_once(
                lambda: self._send(step),
                lambda: find_database(self.client, step.parent_page_id, step.title))
            data_source = self.client.data_sources.retrieve(database["data_sources"][0]["id"])
            self.state.databases[step.database] = DatabaseState(
                database_id=database["id"], data_source_id=data_source["id"])
            self._remember(step.database, database, data_source, {})
        elif isinstance(step, UpdateDatabaseStep):
            database = self._send(step)
            data_source = self.client.data_sources.update(database["data_sources"][0]["id"],
                                                          title=step.title)
            self._remember(step.database, database, data_source, {})
        elif isinstance(step, PatchPropertiesStep):
            body = self.resolve(step.body)
            body["properties"] = {k: v for k, v in body["properties"].items() if k is not None}
            if body["properties"]:
                data_source = self._send(step, body)
                self._remember(step.database, None, data_source, step.formulas)
        else:
            raise ApplyError(f"no way to send a {type(step).__name__}", applied=self.applied,
                             address=step.changes[0])

    def _send(self, step: NotionStep, body: dict | None = None) -> dict:
        path = step.path.format(*(self.resolve(a) for a in step.path_args))
        return self.client.request(path=path, method=step.method,
                                   body=self.resolve(step.body) if body is None else body)

    # --- references ------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """`value` with every `Ref` replaced by what it names now (None when still unknown)."""
        if isinstance(value, Ref):
            return self._ref(value)
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.resolve(v) for v in value]
        return value

    def _ref(self, ref: Ref) -> Any:
        if ref.what == "page_id":
            return self.pages.get(ref.address)
        if ref.what == "data_source_id":
            known = self.state.databases.get(ref.database)
            return known.data_source_id if known else None
        return self._synced_key(ref.database, ref)

    def _synced_key(self, name: str, ref: Ref) -> str | None:
        """The live key of the property a two-way relation created on `name`, when it still
        needs the name the spec gives it (`ref.property`; None: nothing to rename)."""
        wanted = ref.property
        source_name, relation_name = ref.origin or ("", "")
        source = self.schemas.get(source_name)
        origin = source.property(relation_name) if source else None
        schema = self.schemas.get(name)
        live = None
        if schema is not None and origin is not None:
            live = next((p for p in schema.properties if p.relation and p.relation.two_way
                         and p.relation.synced_property == origin.name), None)
        if live is None:
            raise ApplyError("the two-way relation that creates this property does not exist",
                             applied=self.applied, address=ref.address)
        return None if live.name == wanted else (live.id or live.name)

    # --- state -----------------------------------------------------------------------------
    def _remember(self, name: str, database: dict | None, data_source: dict,
                  formulas: Mapping[str, str]) -> None:
        """Refresh the cached schema (and those a two-way relation touched) and the state's ids."""
        previous = self.schemas.get(name)
        db = database_from_api(name, database, data_source,
                               database_name_for=self.state.database_name_for)
        if database is None and previous is not None:
            db = db.model_copy(update={"title": previous.title,
                                       "description": previous.description, "id": previous.id})
        self.schemas[name] = db
        known = self.state.databases[name]
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
        """A two-way relation added on `db` created a property on its related database: read
        that one."""
        for prop in db.properties:
            if not (prop.relation and prop.relation.two_way):
                continue
            related = self.schemas.get(prop.relation.database)
            known = self.state.databases.get(prop.relation.database)
            if known is None or related is None or related.name == db.name:
                continue
            if any(p.relation and p.relation.synced_property == prop.name
                   for p in related.properties):
                continue
            self._remember(related.name, None,
                           self.client.data_sources.retrieve(known.data_source_id), {})

    # --- pages -----------------------------------------------------------------------------
    def run_pages(self, steps: Sequence[NotionStep], report: Report) -> None:
        """Page writes (as many in flight as the rate and the measured latency call for:
        `inflight`), then the relations that waited for new pages."""
        first = [s for s in steps if isinstance(s, PageStep)]
        second = [s for s in steps if isinstance(s, RelateStep)]
        for batch, run in ((first, self._page), (second, self._relate)):
            with ThreadPoolExecutor(max_workers=CEILING) as pool:
                for _ in pool.map(lambda s: self._gated(run, s, report), batch):
                    pass

    def _gated(self, run: Callable[..., None], step: NotionStep, report: Report) -> None:
        with self.in_flight:
            run(step, report)

    def _page(self, step: PageStep, report: Report) -> None:
        address = step.changes[0]
        try:
            if step.archive:
                self._send(step)
                report(address, "applied", page_id=step.path_args[0])
                return
            properties, deferred, written = self._writable(step)
            hashes = {"hash": written, "desired_hash": step.desired_hash}
            page_id = self.resolve(step.path_args[0]) if step.path_args else None
            if page_id is not None and not properties and not step.relates:
                report(address, "deferred", page_id=page_id, deferred=sorted(deferred), **hashes)
                return  # nothing writable yet: the row is left as it is, no request spent
            body = dict(self.resolve(step.body), properties=properties)
            if step.method == "POST":
                page = create_exactly_once(lambda: self._send(step, body),
                                           lambda: self._find_page(step))
                page_id = page["id"]
                with self.known.lock:
                    self.pages[address] = page_id
            elif properties:
                self._send(step, body)
            if step.relates:  # pass two writes the relations, the final hash and the line
                with self._lock:
                    self.written[address] = (written, sorted(deferred))
                return
            report(address, "deferred" if deferred else "applied", page_id=page_id,
                   deferred=sorted(deferred), **hashes)
        except APIResponseError as exc:
            raise ApplyError(f"Notion refused the write: {notion_refusal(exc)}", applied=0,
                             address=address) from None

    def _writable(self, step: PageStep) -> tuple[dict[str, Any], list[str], str | None]:
        """The step's properties the live schema has now, the ones it lacks (deferred), and the
        content hash the page holds once they are written: the desired one, the hash of what is
        written when some are deferred or relations wait for pass two, or the stored one when
        the hash property itself is missing."""
        schema = self.schemas[step.database].properties_by_name()
        properties = dict(step.body.get("properties", {}))
        deferred = [n for n in properties if n not in schema and n != step.hash_property]
        for name in deferred:
            del properties[name]
        written = step.stored_hash
        if step.hash_property:
            if step.hash_property not in schema:
                properties.pop(step.hash_property, None)
            elif deferred or step.relates:
                written = content_hash({k: v for k, v in step.values.items()
                                        if k not in deferred})
                properties[step.hash_property] = value_to_api("rich_text", written)
            else:
                written = step.desired_hash
        return self.resolve(properties), deferred, written

    def _find_page(self, step: PageStep) -> dict | None:
        """The page whose key property holds `step.key`, if a create did commit after all; a
        page without a key (created by a sync) is the one created in the last minutes that holds
        its values."""
        prop = self.schemas[step.database].properties_by_name().get(step.key_property)
        if prop is None:
            return self._find_by_values(step)
        found = self.client.data_sources.query(
            self.resolve(step.body["parent"]["data_source_id"]),
            filter=key_filter(prop.type, step.key_property, step.key), page_size=2)
        results = found.get("results", [])
        return {"id": results[0]["id"]} if results else None

    def _find_by_values(self, step: PageStep) -> dict | None:
        from reconciler.backends.notion.sync_read import find_created_page
        from reconciler.diff.content import comparable

        if not step.values:
            return None
        types = self.schemas[step.database].properties_by_name()

        def same(name: str, live: Any, wanted: Any) -> bool:
            kind = types[name].type if name in types else ""
            return comparable(kind, live) == comparable(kind, wanted)

        return find_created_page(self.client, self.resolve(step.body["parent"]["data_source_id"]),
                                 {k: v for k, v in step.values.items()
                                  if not _names_pages_of_this_run(v)}, same)

    def _relate(self, step: RelateStep, report: Report) -> None:
        """One page's waiting relations in one request, with the desired hash when the page is
        then complete; reports the page's line (pass one left it to this step)."""
        address = step.changes[0]
        page_id = self.resolve(step.path_args[0])
        written, deferred = self.written.pop(address, (None, []))
        hashes = {"hash": written, "desired_hash": step.desired_hash}
        if page_id is None:
            report(address, "deferred", deferred=sorted({*deferred, *step.fields}),
                   reason="the page was not written", **hashes)
            return
        properties, waiting = {}, []
        for name in step.fields:
            items = list(self.resolve(step.body["properties"][name]))
            ids = [i for i in items if i]
            properties[name] = value_to_api("relation", ids)
            waiting += [name] if len(ids) < len(items) else []
        schema = self.schemas[step.database].properties_by_name()
        if not waiting and not deferred and step.hash_property in schema:
            hashes["hash"] = step.desired_hash
            properties[step.hash_property] = value_to_api("rich_text", step.desired_hash)
        try:
            self.client.request(path=f"pages/{page_id}", method="PATCH",
                                body={"properties": properties})
        except APIResponseError as exc:
            raise ApplyError(f"Notion refused the write: {notion_refusal(exc)}", applied=0,
                             address=address) from None
        deferred = sorted({*deferred, *waiting})
        report(address, "deferred" if deferred else "applied", page_id=page_id,
               deferred=deferred, **hashes,
               **({"reason": "a related row does not exist"} if waiting else {}))


def _names_pages_of_this_run(value: Any) -> bool:
    """A relation value naming pages by key (`{"key": k}`), written in pass two."""
    return isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value)
