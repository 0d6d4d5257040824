"""The local Notion: a Notion-compatible workspace (API 2025-09-03) persisted under a directory.

Used as the product's embedded default (no account) and as the Notion the tests run against.
The real ``notion-client`` talks to it unchanged, in process (``local_client``) or over HTTP (``serve`` / ``make_server``).

Public API:

* ``LocalNotion(root: Path)`` — the WSGI app (``app.py``).
* ``local_client(root, *, logger=None, retry=None, faults=None, wrap=None, search_lag=None) -> notion_client.Client``
  — in-process client.
* ``local_app(root, faults=None, search_lag=None)`` — the WSGI app, wrapped in ``faults.FaultMiddleware`` when
  faults are given.
* ``root_page_id(client) -> str`` — id of the workspace-level page "Reconciler workspace".
* ``serve(root, host="127.0.0.1", port=8765, faults=None) -> None`` — blocking HTTP server.
* ``make_server(root, host="127.0.0.1", port=0, faults=None)`` — server object with ``serve_forever()``/``shutdown()``
  and ``server_port``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import notion_client
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server as _werkzeug_server

from .app import LocalNotion
from .faults import FaultMiddleware, Faults
from .common import ROOT_PAGE_TITLE

# Silent unless logging is configured, as the rest of the reconciler (`reconciler.logs`; the
# local Notion imports nothing of the rest).
logging.getLogger("reconciler.local").addHandler(logging.NullHandler())

__all__ = ["LocalNotion", "local_app", "local_client", "root_page_id", "serve", "make_server", "ROOT_PAGE_TITLE"]

LOCAL_BASE_URL = "http://local.notion"


def local_app(root: Path, faults: Faults | None = None, search_lag: float | None = None,
              token: str | None = None) -> Callable[..., Any]:
    """``LocalNotion(root, search_lag, token)``, wrapped in ``FaultMiddleware`` when ``faults``
    switch any fault on.

    ``search_lag`` (seconds a new page or data source stays out of search, NOTION-API.md §1.5)
    defaults to ``faults.search_lag`` (``RECONCILER_FAULTS="search_lag=5"``), else 0."""
    lag = search_lag if search_lag is not None else (faults.search_lag if faults is not None else 0.0)
    app = LocalNotion(Path(root), search_lag=lag, token=token)
    return FaultMiddleware(app, faults) if faults is not None and faults.active else app


class _LocalTransport(httpx.WSGITransport):
    """The WSGI transport to the local Notion; closing it closes the local Notion's store, so
    closing the client (``client.close()``) leaves nothing open."""

    def close(self) -> None:
        super().close()
        getattr(self.app, "close", lambda: None)()


def local_client(root: Path, *, logger: logging.Logger | None = None,
                 retry: notion_client.client.RetryOptions | bool | None = None,
                 faults: Faults | None = None,
                 wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None,
                 search_lag: float | None = None) -> notion_client.Client:
    """The real ``notion-client`` wired in process to ``LocalNotion(root)`` through ``httpx.WSGITransport``.

    Never use it as a context manager: ``with Client(...)`` swaps the injected httpx client for a real
    network one (NOTION-API.md §5 pitfalls); call ``.close()`` instead (it closes the local store). A logger is always passed so that
    notion-client does not add a handler per client (§5 "Logging gotcha"). ``retry=None`` keeps
    notion-client's default retry options; ``False`` disables retries. ``faults`` injects faults
    (``faults.Faults``); ``wrap`` wraps the WSGI transport (e.g. in a retrying transport); ``search_lag``
    (seconds) overrides ``faults.search_lag``.
    """
    transport: httpx.BaseTransport = _LocalTransport(app=local_app(root, faults, search_lag))
    if wrap is not None:
        transport = wrap(transport)
    kwargs: dict[str, Any] = {"auth": "local", "base_url": LOCAL_BASE_URL,
                              "client": httpx.Client(transport=transport),
                              "logger": logger or logging.getLogger("reconciler.local.notion")}
    if retry is not None:
        kwargs["retry"] = retry
    return notion_client.Client(**kwargs)


def root_page_id(client: notion_client.Client) -> str:
    """Id of the workspace-level root page, found by ``search`` (raises LookupError if it is missing)."""
    res = client.search(query=ROOT_PAGE_TITLE, filter={"property": "object", "value": "page"})
    for page in res["results"]:
        if page["parent"].get("type") == "workspace":
            return page["id"]
    raise LookupError(f"no workspace-level page titled {ROOT_PAGE_TITLE!r}")


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8765,
                faults: Faults | None = None, token: str | None = None) -> BaseWSGIServer:
    """A threaded HTTP server for ``LocalNotion(root)`` (with ``faults`` injected, if any, and their
    ``search_lag``; ``token``: the only token accepted); ``port=0`` picks a free port
    (``.server_port``)."""
    return _werkzeug_server(host, port, local_app(root, faults, token=token), threaded=True)


def serve(root: Path, host: str = "127.0.0.1", port: int = 8765, faults: Faults | None = None,
          token: str | None = None) -> None:
    """Serve the local Notion over HTTP until interrupted (``reconciler local serve --port N``)."""
    server = make_server(root, host, port, faults, token)
    logging.getLogger("reconciler.local").info("local Notion on http://%s:%s (root %s)", host, server.server_port, root)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
