"""``LocalNotion``: a WSGI app speaking the Notion HTTP API 2025-09-03 over the local ``Store``.

Endpoints (NOTION-API.md §1.2): users/me, users list/retrieve; databases create/retrieve/update; data_sources
create/retrieve/update/query; pages create/retrieve/update/move and property items; search; block children
list; ``DELETE``/``PATCH /v1/blocks/{id}``. Every response body carries ``request_id`` (also header
``x-notion-request-id``). Errors (§4.4): 401 ``unauthorized`` without a Bearer token, 400
``missing_version`` without ``Notion-Version``, 400 ``invalid_request_url`` for unknown routes, 400
``invalid_json``, 404 ``object_not_found`` (naming the integration, with ``additional_data.integration_id``),
400 ``validation_error``. The token is never logged or stored.

Each request runs in one store transaction (a write transaction for writes): a failed write changes
nothing. Fault injection (latency, 429, 5xx, dropped connections) wraps this app as WSGI middleware
(``faults``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import blocks, databases, pages
from .common import BOT_NAME, new_uuid, parse_uuid
from .context import Context
from .errors import NotionError, invalid_request_url, not_found, validation
from .paging import page_size, paginate
from .store import Store

Body = dict[str, Any]

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
    Rule("/v1/pages/<page_id>/move", endpoint="move_page", methods=["POST"]),
    Rule("/v1/search", endpoint="search", methods=["POST"]),
    Rule("/v1/blocks/<block_id>/children", endpoint="list_children", methods=["GET"]),
    Rule("/v1/blocks/<block_id>", endpoint="delete_block", methods=["DELETE"]),
    Rule("/v1/blocks/<block_id>", endpoint="update_block", methods=["PATCH"]),
], strict_slashes=False)
READ_ONLY = {"users_me", "list_users", "get_user", "get_database", "get_data_source", "query", "get_page",
             "property_item", "search", "list_children"}


def users_me(ctx: Context, request: Request, body: Body) -> Body:
    """``GET /v1/users/me`` → the bot user (REC:RA/test_users_me.yaml)."""
    return dict(ctx.store.bot)


def list_users(ctx: Context, request: Request, body: Body) -> Body:
    """``GET /v1/users?start_cursor&page_size``: every user (people, then the bot), paginated:
    ``{"object":"list","results":[user…],"next_cursor","has_more","type":"user","user":{}}``.
    People are ``{"object":"user","id","name","avatar_url","type":"person","person":{"email"}}``."""
    size = page_size(request.args.get("page_size"), "query.page_size")
    users = sorted(ctx.store.users(), key=lambda u: (u["type"] != "person", u["name"] or "", u["id"]))
    chunk, nxt = paginate(users, request.args.get("start_cursor"), size, lambda u: u["id"])
    return {"object": "list", "results": [dict(u) for u in chunk], "next_cursor": nxt,
            "has_more": nxt is not None, "type": "user", "user": {}}


def get_user(ctx: Context, request: Request, body: Body, user_id: str) -> Body:
    """``GET /v1/users/{id}`` → the user; 404 ``object_not_found`` for an unknown id."""
    ident = parse_uuid(user_id, "path.user_id")
    user = ctx.store.user(ident)
    if user is None:
        raise not_found("user", ident)
    return dict(user)


HANDLERS: dict[str, Callable[..., Body]] = {
    "users_me": users_me, "list_users": list_users, "get_user": get_user,
    **databases.HANDLERS, **pages.HANDLERS, **blocks.HANDLERS}


class LocalNotion:
    """WSGI app over a workspace persisted under ``root`` (see ``store.Store``).

    ``search_lag``: seconds during which a newly created page or data source is not found by search
    (NOTION-API.md §1.5); 0 finds everything at once. ``token``: the one Bearer token accepted
    (any other is answered 401 ``unauthorized`` as Notion answers a wrong token); None accepts
    any non-empty token.
    """

    def __init__(self, root: Path, search_lag: float = 0.0, token: str | None = None):
        if search_lag < 0:
            raise ValueError("search_lag must be ≥ 0 seconds")
        self.store = Store(Path(root))
        self.context = Context(self.store, search_lag)
        self.token = token

    def close(self) -> None:
        """Close the store (its SQLite connection; the write-ahead log is checkpointed)."""
        self.store.close()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        request_id = new_uuid()
        try:
            status, body = self._dispatch(request)
        except NotionError as err:
            status, body = err.status, err.body((BOT_NAME, self.store.bot_id))
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
        if not auth.startswith("Bearer ") or not auth[7:].strip() or \
                (self.token is not None and auth[7:].strip() != self.token):
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
        with self.store.transaction(write=endpoint not in READ_ONLY):
            return 200, HANDLERS[endpoint](self.context, request, body, **args)
