"""Reading the live Notion databases that the spec declares.

Cost (NOTION-API.md §1.2): two calls per known database (`GET /v1/databases/{id}` and
`GET /v1/data_sources/{id}`); a database not in the state is looked for by its title among the
child blocks of its parent page (`discover.find_database`, not the search index, which lags), so
losing `.reconciler/` never creates a duplicate database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from notion_client import APIResponseError

from reconciler.backends.notion.client import notion_refusal
from reconciler.backends.notion.discover import find_database
from reconciler.backends.notion.schema import database_from_api
from reconciler.digests import digest
from reconciler.errors import ReadError
from reconciler.model.notion import Database, NotionDatabases, Property, bare_id
from reconciler.progress import report
from reconciler.state import NotionState

ABSENT = "absent"


@dataclass(frozen=True)
class LiveNotion:
    """The live side: databases by logical name, a fingerprint per declared address, and the
    declared databases the state knows that are in Notion's trash (`trashed`: name → database
    id; read as absent)."""

    databases: NotionDatabases
    fingerprints: dict[str, str]
    trashed: dict[str, str] = field(default_factory=dict)


def fingerprint(db: Database | None) -> str:
    """`sha256:` of a live database's normalised model (ids, title, properties, options)."""
    if db is None:
        return ABSENT
    return digest(db.model_dump(mode="json"))


def read_notion(client, desired: NotionDatabases, state: NotionState) -> LiveNotion:
    """Find and read every desired database. Raises `ReadError` on API errors other than 404."""
    raw: dict[str, tuple[dict, dict]] = {}
    trashed: dict[str, str] = {}
    for db in desired.databases:
        found = _locate(client, db, state, trashed)
        if found is not None:
            raw[db.name] = found
        report("Reading notion.%s", db.name, counts={"data sources": int(found is not None)})
    by_source = {bare_id(ds["id"]): key for key, (_, ds) in raw.items()}

    def key_for(data_source_id: str) -> str | None:
        return by_source.get(bare_id(data_source_id)) or state.database_name_for(data_source_id)

    live = []
    for key, (database, data_source) in raw.items():
        db = database_from_api(key, database, data_source, database_name_for=key_for)
        live.append(_with_applied_formulas(db, state))
    live_dbs = NotionDatabases(databases=tuple(live))
    prints = {db.address: fingerprint(live_dbs.database(db.name)) for db in desired.databases}
    return LiveNotion(live_dbs, prints, trashed)


def _locate(client, db: Database, state: NotionState, trashed: dict[str, str]
            ) -> tuple[dict, dict] | None:
    known = state.databases.get(db.name)
    if known is not None:
        database = _get(client.databases.retrieve, known.database_id)
        if database is not None and not database.get("in_trash"):
            return database, _data_source(client, database)
        if database is not None:
            trashed[db.name] = known.database_id
    found = _discover(client, db)
    if found is not None:
        trashed.pop(db.name, None)  # another database of that title took its place
    return found


def _discover(client, db: Database) -> tuple[dict, dict] | None:
    """The database titled like `db` among the child blocks of its parent page (not the search
    index, which lags: `discover.find_database`); None when there is none."""
    try:
        database = find_database(client, db.parent_page_id, db.title)
    except ReadError as exc:
        raise ReadError(f"notion.{db.name}: {exc}") from None
    return (database, _data_source(client, database)) if database else None


def _data_source(client, database: dict) -> dict:
    sources = database.get("data_sources") or []
    if not sources:
        raise ReadError(f"database {database['id']} has no data source")
    found = _get(client.data_sources.retrieve, sources[0]["id"])
    if found is None:
        raise ReadError(f"data source {sources[0]['id']} of database {database['id']} is not shared "
                        "with the integration")
    return found


def _get(method, object_id: str) -> dict | None:
    try:
        return method(object_id)
    except APIResponseError as exc:
        if exc.status == 404:
            return None
        raise ReadError(f"reading {object_id} failed: {notion_refusal(exc)}") from None


_REFERENCE = re.compile(r"\{\{notion:block_property:([^:}]+):([0-9a-f-]+):[^}]*\}\}")


def _with_applied_formulas(db: Database, state: NotionState) -> Database:
    """Formulas as the spec writes them, not as Notion rewrites them (NOTION-API.md §2).

    The text last applied is used when Notion still holds what it returned then; otherwise
    (state lost, or edited in Notion) each `{{notion:block_property:<id>:<data source>:…}}`
    reference to this data source becomes `prop("<name>")`.
    """
    known = state.databases.get(db.name)
    applied = {p.id: p for p in known.properties.values() if p.formula_applied is not None} \
        if known else {}
    names = {p.id: p.name for p in db.properties if p.id}
    here = bare_id(db.data_source_id or "")

    def canonical(match: re.Match) -> str:
        prop_id, source = match.group(1), match.group(2)
        name = names.get(prop_id) or names.get(unquote(prop_id))
        if name is None or bare_id(source) != here:
            return match.group(0)
        return "prop(" + json.dumps(name, ensure_ascii=False) + ")"

    props: list[Property] = []
    for prop in db.properties:
        if prop.type == "formula" and prop.formula:
            rec = applied.get(prop.id)
            text = rec.formula_applied if rec is not None and rec.formula_live == prop.formula \
                else _REFERENCE.sub(canonical, prop.formula)
            prop = prop.model_copy(update={"formula": text})
        props.append(prop)
    return db.model_copy(update={"properties": tuple(props)})
