"""``LocalNotion``: a WSGI app speaking the Notion HTTP API 2025-09-03 over the local ``Store``.

Endpoints (NOTION-API.md §1.2): users/me, users list/retrieve; databases create/retrieve/update; data_sources create/retrieve/
update/query; pages create/retrieve/update and property items; search; ``DELETE /v1/blocks/{id}``.
Every response body carries ``request_id`` (also header ``x-notion-request-id``). Errors (§4.4): 401
``unauthorized`` without a Bearer token, 400 ``missing_version`` without ``Notion-Version``, 400
``invalid_request_url`` for unknown routes, 400 ``invalid_json``, 404 ``object_not_found``, 400
``validation_error``. The token is never logged or stored.

Fault injection (latency, 429, 5xx, dropped connections) is meant to wrap this app as WSGI middleware.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Callable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .errors import NotionError, invalid_request_url, not_found, too_long, validation
from .objects import block_object, data_source_object, database_object, list_object, page_object, page_title
from .query import check_filter, matches, sort_pages
from .schema import find_property, new_data_source, title_property, update_properties
from .store import Store, new_uuid, now_minute, now_ms, parse_uuid, plain
from .values import property_item, rich_text_in, sync_dual, value_in

Body = dict[str, Any]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

URLS = Map([
    Rule("/v1/users/me", endpoint="users_me", methods=["GET"]),
    Rule("/v1/users", endpoint="list_users", methods=["GET"]),
    Rule("/v1/users/<user_id>", endpoint="get_user", methods=["GET"]),
    Rule("/v1/databases", endpoint="create_database", methods=["POST"]),
    Rule("/v1/databases/<db_id>", endpoint="get_database", methods=["GET"]),
    Rule("/v1/databases/<db_id>", endpoint="update_database", methods=["PATCH"]),
    Rule("/v1/data_sources", endpoint="create_data_source", methods=["POST"]),
    Rule("/v1/data_sources/<ds_id>", endpoint="get_data_source", methods=["GET"]),
    Rule("/v1/data_sources/<ds_id>", endpoint="update_data_source", methods=["PATCH"]),
    Rule("/v1/data_sources/<ds_id>/query", endpoint="query", methods=["POST"]),
    Rule("/v1/pages", endpoint="create_page", methods=["POST"]),
    Rule("/v1/pages/<page_id>", endpoint="get_page", methods=["GET"]),
    Rule("/v1/pages/<page_id>", endpoint="update_page", methods=["PATCH"]),
    Rule("/v1/pages/<page_id>/properties/<path:prop_id>", endpoint="property_item", methods=["GET"]),
    Rule("/v1/search", endpoint="search", methods=["POST"]),
    Rule("/v1/blocks/<block_id>", endpoint="delete_block", methods=["DELETE"]),
    Rule("/v1/blocks/<block_id>", endpoint="update_block", methods=["PATCH"]),
], strict_slashes=False)
READ_ONLY = {"users_me", "list_users", "get_user", "get_database", "get_data_source", "query", "get_page", "property_item", "search"}


def _page_size(value: Any, where: str) -> int:
    if value is None:
        return 100
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise validation(f"body failed validation: {where} should be a positive integer, instead was `{value!r}`.")
    if value > 100:
        raise validation(f"body failed validation: {where} should be ≤ `100`, instead was `{value}`.")
    return value


def _paginate(items: list[Any], cursor: Any, size: int, ident: Callable[[Any], str]) -> tuple[list[Any], str | None]:
    start = 0
    if cursor is not None:
        ids = [ident(i) for i in items]
        # our cursors are the next item's id; opaque Notion cursors ("s:<…>:<page id>") end with one
        found = _UUID.findall(cursor) if isinstance(cursor, str) else []
        cursor = found[-1] if found else cursor
        if cursor not in ids:
            raise validation(f"body failed validation: body.start_cursor should be a valid cursor, instead was `\"{cursor}\"`.")
        start = ids.index(cursor)
    chunk = items[start:start + size]
    nxt = ident(items[start + size]) if start + size < len(items) else None
    return chunk, nxt


class LocalNotion:
    """WSGI app over a workspace persisted under ``root`` (see ``store.Store``)."""

    def __init__(self, root: Path):
        self.store = Store(Path(root))

    # -- WSGI --------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        request_id = new_uuid()
        try:
            status, body = self._dispatch(request)
        except NotionError as err:
            status, body = err.status, err.body()
        except Exception:  # a bug here must still answer like Notion's 500, not drop the connection
            logging.getLogger("reconciler.local").exception("local Notion failed on %s %s", request.method, request.path)
            status, body = 500, {"object": "error", "status": 500, "code": "internal_server_error",
                                 "message": "Unexpected error occurred."}
        body["request_id"] = request_id
        response = Response(json.dumps(body, ensure_ascii=False), status=status,
                            content_type="application/json; charset=utf-8",
                            headers={"x-notion-request-id": request_id})
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> tuple[int, Body]:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise NotionError(401, "unauthorized", "API token is invalid.")
        if not request.headers.get("Notion-Version"):
            raise NotionError(400, "missing_version", "Notion-Version header failed validation: Notion-Version "
                                                      "header should be defined, instead was `undefined`.")
        try:
            endpoint, args = URLS.bind_to_environ(request.environ).match()
        except (NotFound, MethodNotAllowed, HTTPException):
            raise invalid_request_url() from None
        body: Body = {}
        if request.method in ("POST", "PATCH"):
            raw = request.get_data()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise NotionError(400, "invalid_json", "Error parsing JSON body.") from None
                if not isinstance(body, dict):
                    raise validation("body failed validation: body should be an object.")
        handler = getattr(self, "h_" + endpoint)
        with self.store.lock:
            if endpoint in READ_ONLY:
                return 200, handler(request, body, **args)
            try:
                result = handler(request, body, **args)
            except NotionError:
                self.store.data = json.loads(self.store.path.read_text(encoding="utf-8"))  # roll back
                raise
            self.store.save()
            return 200, result

    # -- lookups ---------------------------------------------------------------------------------
    def _db(self, raw: str, where: str = "path.database_id") -> Body:
        db = self.store.databases.get(parse_uuid(raw, where))
        if db is None:
            raise not_found("database", parse_uuid(raw, where))
        return db

    def _ds(self, raw: str, where: str = "path.data_source_id") -> Body:
        ident = parse_uuid(raw, where)
        ds = self.store.data_sources.get(ident)
        if ds is None:
            raise not_found("data source", ident)
        return ds

    def _page(self, raw: str, where: str = "path.page_id") -> Body:
        ident = parse_uuid(raw, where)
        page = self.store.pages.get(ident)
        if page is None:
            raise not_found("page", ident)
        return page

    # -- users -----------------------------------------------------------------------------------
    def h_users_me(self, request: Request, body: Body) -> Body:
        """``GET /v1/users/me`` → the bot user (REC:RA/test_users_me.yaml)."""
        return dict(self.store.bot)

    def h_list_users(self, request: Request, body: Body) -> Body:
        """``GET /v1/users?start_cursor&page_size``: every user (people, then the bot), paginated:
        ``{"object":"list","results":[user…],"next_cursor","has_more","type":"user","user":{}}``.
        People are ``{"object":"user","id","name","avatar_url","type":"person","person":{"email"}}``."""
        size = _page_size(request.args.get("page_size"), "query.page_size")
        users = sorted(self.store.users.values(), key=lambda u: (u["type"] != "person", u["name"] or "", u["id"]))
        chunk, nxt = _paginate(users, request.args.get("start_cursor"), size, lambda u: u["id"])
        return {"object": "list", "results": [dict(u) for u in chunk], "next_cursor": nxt,
                "has_more": nxt is not None, "type": "user", "user": {}}

    def h_get_user(self, request: Request, body: Body, user_id: str) -> Body:
        """``GET /v1/users/{id}`` → the user; 404 ``object_not_found`` for an unknown id."""
        ident = parse_uuid(user_id, "path.user_id")
        user = self.store.users.get(ident)
        if user is None:
            raise not_found("user", ident)
        return dict(user)

    # -- databases -------------------------------------------------------------------------------
    def h_create_database(self, request: Request, body: Body) -> Body:
        """``POST /v1/databases`` with a page parent; creates the first data source (§1.2)."""
        parent = body.get("parent")
        if not isinstance(parent, dict) or not parent.get("page_id"):
            raise validation("body failed validation: body.parent.page_id should be defined, instead was `undefined`.")
        parent_page = self._page(parent["page_id"], "body.parent.page_id")
        title = rich_text_in(self.store, body.get("title"), "body.title") if "title" in body else []
        ts = now_ms()
        db = {"id": new_uuid(), "title": title or rich_text_in(self.store, [{"text": {"content": "New database"}}], "t"),
              "description": rich_text_in(self.store, body.get("description"), "body.description"),
              "parent": {"page_id": parent_page["id"]}, "is_inline": bool(body.get("is_inline", False)),
              "in_trash": False, "is_locked": False, "created_time": ts, "last_edited_time": ts,
              "data_sources": [], "icon": body.get("icon"), "cover": body.get("cover")}
        self.store.databases[db["id"]] = db
        initial = body.get("initial_data_source") or {}
        ds = new_data_source(self.store, db["id"], title, initial.get("properties"), body.get("icon"))
        ds["seq"] = self.store.next_seq()
        db["data_sources"].append(ds["id"])
        return database_object(self.store, db)

    def h_get_database(self, request: Request, body: Body, db_id: str) -> Body:
        return database_object(self.store, self._db(db_id))

    def h_update_database(self, request: Request, body: Body, db_id: str) -> Body:
        """``PATCH /v1/databases/{id}``: title, description, icon, cover, in_trash/archived, is_locked, is_inline."""
        db = self._db(db_id)
        if "title" in body:
            db["title"] = rich_text_in(self.store, body["title"], "body.title")
        if "description" in body:
            db["description"] = rich_text_in(self.store, body["description"], "body.description")
        for key in ("icon", "cover"):
            if key in body:
                db[key] = body[key]
        for key in ("is_locked", "is_inline"):
            if key in body:
                db[key] = bool(body[key])
        for key in ("in_trash", "archived"):
            if key in body and body[key] is not None:
                db["in_trash"] = bool(body[key])
        db["last_edited_time"] = now_ms()
        return database_object(self.store, db)

    # -- data sources ----------------------------------------------------------------------------
    def h_create_data_source(self, request: Request, body: Body) -> Body:
        """``POST /v1/data_sources`` adds a data source to an existing database (REC:RA/test_data_sources_create.yaml)."""
        parent = body.get("parent") or {}
        db = self._db(parent.get("database_id"), "body.parent.database_id")
        title = rich_text_in(self.store, body.get("title"), "body.title")
        ds = new_data_source(self.store, db["id"], title, body.get("properties"), body.get("icon"))
        ds["seq"] = self.store.next_seq()
        db["data_sources"].append(ds["id"])
        return data_source_object(self.store, ds)

    def h_get_data_source(self, request: Request, body: Body, ds_id: str) -> Body:
        return data_source_object(self.store, self._ds(ds_id))

    def h_update_data_source(self, request: Request, body: Body, ds_id: str) -> Body:
        """``PATCH /v1/data_sources/{id}``: title, icon, cover, in_trash/archived, properties (see ``schema``)."""
        ds = self._ds(ds_id)
        if "title" in body:
            ds["title"] = rich_text_in(self.store, body["title"], "body.title")
        for key in ("icon", "cover"):
            if key in body:
                ds[key] = body[key]
        for key in ("in_trash", "archived"):
            if key in body and body[key] is not None:
                ds["in_trash"] = bool(body[key])
        if body.get("properties") is not None:
            update_properties(self.store, ds, body["properties"])
        ds["last_edited_time"] = now_minute()
        return data_source_object(self.store, ds)

    def h_query(self, request: Request, body: Body, ds_id: str) -> Body:
        """``POST /v1/data_sources/{id}/query``: filter, sorts, start_cursor, page_size ≤ 100, filter_properties;
        trashed pages excluded unless ``in_trash``/``archived`` is true (§1.3)."""
        ds = self._ds(ds_id)
        size = _page_size(body.get("page_size"), "body.page_size")
        want_trash = bool(body.get("in_trash") or body.get("archived"))
        rows = [p for p in self.store.pages.values()
                if p["parent"].get("data_source_id") == ds["id"] and p["in_trash"] == want_trash]
        flt = body.get("filter")
        if flt:
            check_filter(ds, flt)
            rows = [p for p in rows if matches(self.store, ds, flt, p)]
        rows = sort_pages(self.store, ds, rows, body.get("sorts"))
        chunk, nxt = _paginate(rows, body.get("start_cursor"), size, lambda p: p["id"])
        only = request.args.getlist("filter_properties") or None
        return list_object([page_object(self.store, p, only) for p in chunk], nxt)

    # -- pages -----------------------------------------------------------------------------------
    def _write_values(self, page: Body, ds: Body | None, props: Any) -> None:
        if props is None:
            return
        if not isinstance(props, dict):
            raise validation("body failed validation: body.properties should be an object.")
        if len(props) > 100:
            raise too_long("body.properties", 100, len(props))
        for key, raw in props.items():
            if ds is None:
                if key != "title" and not (isinstance(raw, dict) and "title" in raw):
                    raise validation(f"{key} is not a property that exists.")
                prop = {"id": "title", "name": key, "type": "title", "config": {}}
            else:
                prop = find_property(ds, key)
                if prop is None:
                    raise validation(f"{key} is not a property that exists.")
            value = value_in(self.store, prop, key, raw)
            old = page["values"].get(prop["id"]) or []
            page["values"][prop["id"]] = value
            if ds is not None and prop["type"] == "relation":
                sync_dual(self.store, ds, prop, page["id"], old, value)

    def h_create_page(self, request: Request, body: Body) -> Body:
        """``POST /v1/pages`` under a data source, a single-source database, a page or the workspace."""
        parent = body.get("parent")
        if not isinstance(parent, dict):
            raise validation("body failed validation: body.parent should be defined, instead was `undefined`.")
        ds = None
        if parent.get("data_source_id"):
            ds = self._ds(parent["data_source_id"], "body.parent.data_source_id")
            stored_parent = {"data_source_id": ds["id"]}
        elif parent.get("database_id"):
            db = self._db(parent["database_id"], "body.parent.database_id")
            if len(db["data_sources"]) != 1:
                raise validation("Databases with multiple data sources are not supported as page parents; "
                                 "use a data_source_id parent.")
            ds = self.store.data_sources[db["data_sources"][0]]
            stored_parent = {"data_source_id": ds["id"]}
        elif parent.get("page_id"):
            stored_parent = {"page_id": self._page(parent["page_id"], "body.parent.page_id")["id"]}
        elif parent.get("workspace") is True:
            stored_parent = {"workspace": True}
        else:
            raise validation("body failed validation: body.parent.page_id should be defined, instead was `undefined`.")
        ts = now_minute()
        bot = self.store.data["bot_id"]
        page = {"id": new_uuid(), "parent": stored_parent, "values": {}, "icon": body.get("icon"),
                "cover": body.get("cover"), "in_trash": False, "is_locked": False, "created_time": ts,
                "last_edited_time": ts, "created_by": bot, "last_edited_by": bot, "seq": self.store.next_seq()}
        self._write_values(page, ds, body.get("properties"))
        if ds is not None:
            for prop in ds["properties"]:
                if prop["type"] == "unique_id":
                    counters = ds.setdefault("counters", {})
                    counters[prop["id"]] = counters.get(prop["id"], 0) + 1
                    page["values"][prop["id"]] = counters[prop["id"]]
        self.store.pages[page["id"]] = page
        return page_object(self.store, page)

    def h_get_page(self, request: Request, body: Body, page_id: str) -> Body:
        return page_object(self.store, self._page(page_id), request.args.getlist("filter_properties") or None)

    def h_update_page(self, request: Request, body: Body, page_id: str) -> Body:
        """``PATCH /v1/pages/{id}``: properties (omitted kept, arrays replace), in_trash/archived, icon, cover."""
        page = self._page(page_id)
        trash = next((body[k] for k in ("in_trash", "archived") if body.get(k) is not None), None)
        if page["in_trash"] and trash is not False and body.get("properties"):
            raise validation("Can't edit block that is archived. You must unarchive the block before editing.")
        ds = self.store.data_sources.get(page["parent"].get("data_source_id", ""))
        self._write_values(page, ds, body.get("properties"))
        for key in ("icon", "cover", "is_locked"):
            if key in body:
                page[key] = body[key]
        if trash is not None:
            page["in_trash"] = bool(trash)
        page["last_edited_time"] = now_minute()
        page["last_edited_by"] = self.store.data["bot_id"]
        return page_object(self.store, page)

    def h_property_item(self, request: Request, body: Body, page_id: str, prop_id: str) -> Body:
        """``GET /v1/pages/{id}/properties/{property_id}`` (§4.3)."""
        page = self._page(page_id)
        ds = self.store.data_sources.get(page["parent"].get("data_source_id", ""))
        if ds is None:
            if prop_id != "title":
                raise not_found("property", prop_id)
            prop = {"id": "title", "name": "title", "type": "title", "config": {}}
        else:
            prop = find_property(ds, prop_id)
            if prop is None:
                raise not_found("property", prop_id)
        size = _page_size(request.args.get("page_size"), "query.page_size")
        base = f"{request.host_url.rstrip('/')}/v1/pages/{page['id']}/properties/{prop['id']}"
        return property_item(self.store, ds, prop, page, request.args.get("start_cursor"), size, base)

    # -- search / blocks -------------------------------------------------------------------------
    def h_search(self, request: Request, body: Body) -> Body:
        """``POST /v1/search``: title substring (case-insensitive), ``filter`` page|data_source, ``sort`` by
        last_edited_time, pagination; pages and data sources, never databases; trashed excluded (§1.5)."""
        size = _page_size(body.get("page_size"), "body.page_size")
        flt = body.get("filter") or {}
        kind = flt.get("value") if isinstance(flt, dict) else None
        if kind not in (None, "page", "data_source"):
            raise validation("body failed validation: body.filter.value should be `\"page\"` or `\"data_source\"`.")
        query = (body.get("query") or "").lower()
        hits: list[tuple[Body, str]] = []
        if kind in (None, "page"):
            hits += [(p, "page") for p in self.store.pages.values()
                     if not p["in_trash"] and query in page_title(self.store, p).lower()]
        if kind in (None, "data_source"):
            for ds in self.store.data_sources.values():
                db = self.store.databases[ds["database_id"]]
                name = plain(ds["title"]) or plain(db["title"])
                if not ds["in_trash"] and not db["in_trash"] and query in name.lower():
                    hits.append((ds, "data_source"))
        hits.sort(key=lambda h: h[0].get("seq", 0))
        sort = body.get("sort")
        if isinstance(sort, dict) and sort.get("timestamp") == "last_edited_time":
            hits.sort(key=lambda h: h[0]["last_edited_time"][:16], reverse=sort.get("direction") == "descending")
        chunk, nxt = _paginate(hits, body.get("start_cursor"), size, lambda h: h[0]["id"])
        results = [page_object(self.store, o) if k == "page" else data_source_object(self.store, o) for o, k in chunk]
        return list_object(results, nxt)

    def h_update_block(self, request: Request, body: Body, block_id: str) -> Body:
        """``PATCH /v1/blocks/{id}`` with ``in_trash``/``archived``: restore or trash a page or database block
        (REC:UN/test_database/test_delete_restore_db.yaml #4)."""
        trash = next((body[k] for k in ("in_trash", "archived") if body.get(k) is not None), None)
        return self.h_delete_block(request, body, block_id, trash=True if trash is None else bool(trash))

    def h_delete_block(self, request: Request, body: Body, block_id: str, trash: bool = True) -> Body:
        """``DELETE /v1/blocks/{id}`` trashes a page (``child_page``) or a database (``child_database``)."""
        ident = parse_uuid(block_id, "path.block_id")
        if ident in self.store.pages:
            page = self.store.pages[ident]
            page["in_trash"] = trash
            page["last_edited_time"] = now_minute()
            return block_object(self.store, page, "page")
        if ident in self.store.databases:
            db = self.store.databases[ident]
            db["in_trash"] = trash
            db["last_edited_time"] = now_ms()
            return block_object(self.store, db, "database")
        raise not_found("block", ident)
