"""The Notion connection: the real `notion-client`, pointed at Notion, at any Notion-compatible
server (`NOTION_BASE_URL`), or at the embedded local Notion under `.reconciler/notion`.

Every connection sends its requests through `resilience.ResilientTransport` (our retries, with
notion-client's own switched off by `retry=False`: NOTION-API.md §5), paced by a
`resilience.TokenBucket` at the rate limit for the real API and `NOTION_BASE_URL`. See
docs/resilience.md.

Tokens come from `NOTION_TOKEN` or `NOTION_API_KEY` and go only into the client's
Authorization header: never into a message, a log line, the plan or the state.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import ssl
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import notion_client

from reconciler.errors import ConfigError, ReadError

from .resilience import (DEFAULT_RATE_LIMIT, MaybeCommittedError, ResilientTransport, RetryPolicy,
                         RetryStats, TokenBucket, rate_limit_from)
from reconciler.logs import logger

__all__ = ["LOCAL_DIR", "NotionConnection", "open_notion", "token_from", "integration_identity",
           "MaybeCommittedError", "RetryStats", "RetryPolicy", "TokenBucket"]

LOCAL_DIR = Path(".reconciler") / "notion"
_LOG = logger("reconciler.notion")
_HTTP_LOG = logger("reconciler.http")
_STARTED = "reconciler.started"


def _log_request(request: httpx.Request) -> None:
    if _HTTP_LOG.isEnabledFor(logging.DEBUG):
        request.extensions[_STARTED] = time.perf_counter()


def _log_response(response: httpx.Response) -> None:
    started = response.request.extensions.get(_STARTED)
    if started is not None and _HTTP_LOG.isEnabledFor(logging.DEBUG):
        _HTTP_LOG.debug("HTTP %s %s -> %s (%.1f ms)", response.request.method,
                        response.request.url.path, response.status_code,
                        (time.perf_counter() - started) * 1000)


def log_http(http: httpx.Client) -> None:
    """Log every request `http` sends on `reconciler.http` at DEBUG (`--debug`): method, URL
    path, status and milliseconds from the request to its response headers, retries and pacing
    included. Through httpx's event hooks (httpx docs, "Event Hooks"), so nothing is logged,
    and nearly nothing spent, while DEBUG is off; headers (the token) are never logged."""
    hooks = http.event_hooks
    http.event_hooks = {"request": [*hooks.get("request", []), _log_request],
                        "response": [*hooks.get("response", []), _log_response]}


@dataclass
class NotionConnection:
    """An open Notion connection.

    - `client`: a `notion_client.Client` (sync), built with `retry=False` over a
      `ResilientTransport`.
    - `description`: where it points, safe to print and to save in a plan (no token).
    - `state_key`: the key of this connection's entry in `.reconciler/state.json`.
    - `local`: True for the embedded local Notion.
    - `stats`: the transport's `RetryStats` (attempts, retries by status, seconds waited).
    - `bucket`: the `TokenBucket` pacing it (`bucket.rate` requests per second), or None when
      unpaced (the in-process local Notion without faults).
    """

    client: notion_client.Client
    description: str
    state_key: str
    local: bool
    stats: RetryStats = field(default_factory=RetryStats)
    bucket: TokenBucket | None = None


def token_from(env: Mapping[str, str]) -> str | None:
    """`NOTION_TOKEN`, else `NOTION_API_KEY`, else None (→ the local Notion)."""
    return env.get("NOTION_TOKEN") or env.get("NOTION_API_KEY") or None


def _proxy_for(base_url: str, env: Mapping[str, str]) -> str | None:
    """The proxy `env` asks for (`HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`, honouring `NO_PROXY`):
    an explicit httpx transport does not read them itself."""
    parts = urlsplit(base_url)
    lower = {k.lower(): v for k, v in env.items() if k.lower().endswith("_proxy") and v}
    proxy = lower.get(f"{parts.scheme}_proxy") or lower.get("all_proxy")
    if not proxy:
        return None
    if "no_proxy" in lower and urllib.request.proxy_bypass_environment(
            parts.hostname or "", {"no": lower["no_proxy"]}):
        return None
    return proxy


def open_notion(root: Path, env: Mapping[str, str], rate_limit: float | None = DEFAULT_RATE_LIMIT, *,
                policy: RetryPolicy | None = None, clock=time.monotonic, sleep=time.sleep,
                rng: random.Random | None = None) -> NotionConnection:
    """Open the Notion connection the environment asks for.

    With no token and no `NOTION_BASE_URL`: the local Notion stored in `<root>/.reconciler/notion`
    (in process, through an httpx WSGI transport), with retries and no pacing, unless
    `RECONCILER_FAULTS` injects faults (local/faults.py): then it is paced like a remote server.
    Otherwise `NOTION_BASE_URL` (default https://api.notion.com) with the token, paced and retried.

    `rate_limit`: requests per second (`reconciler.yaml` `notion.rate_limit`); the environment's
    `NOTION_RATE_LIMIT` overrides it; default 3 (NOTION-API.md §4.1). `policy`, `clock`
    (monotonic seconds), `sleep` and `rng` tune and test the retries and the pacing.
    """
    rate = rate_limit_from(env, rate_limit)
    stats = RetryStats()

    def resilient(inner: httpx.BaseTransport, bucket: TokenBucket | None) -> ResilientTransport:
        return ResilientTransport(inner, policy=policy, bucket=bucket, stats=stats, clock=clock,
                                  sleep=sleep, rng=rng)

    token = token_from(env)
    base_url = env.get("NOTION_BASE_URL")
    if token is None and not base_url:
        from reconciler.digest_key import refuse_embedded_in_ci

        refuse_embedded_in_ci(env, "NOTION_TOKEN", "local Notion")
        from reconciler.local import local_client
        from reconciler.local.faults import faults_from_env

        try:
            faults = faults_from_env(env)
        except ValueError as err:
            raise ConfigError(f"RECONCILER_FAULTS: {err}") from None
        bucket = TokenBucket(rate, clock=clock, sleep=sleep) if faults is not None and faults.active else None
        client = local_client(root / LOCAL_DIR, logger=_LOG, retry=False, faults=faults,
                              wrap=lambda inner: resilient(inner, bucket))
        where = f"local Notion ({LOCAL_DIR})" + (" with injected faults" if bucket else "")
        log_http(client.client)
        return NotionConnection(client, where, "local", True, stats, bucket)
    base_url = (base_url or "https://api.notion.com").rstrip("/")
    bucket = TokenBucket(rate, clock=clock, sleep=sleep)
    inner = httpx.HTTPTransport(proxy=_proxy_for(base_url, env),
                                verify=_tls(os.environ.get("SSL_CERT_FILE"),
                                            os.environ.get("SSL_CERT_DIR")))
    http = httpx.Client(transport=resilient(inner, bucket))
    log_http(http)
    client = notion_client.Client(auth=token or "local", base_url=base_url, client=http,
                                  logger=_LOG, retry=False)
    parts = urlsplit(base_url)
    where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return NotionConnection(client, f"Notion API at {where}", where, False, stats, bucket)


@functools.lru_cache(maxsize=4)
def _tls(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's own default TLS context (certifi's CA bundle, or the `SSL_CERT_FILE` /
    `SSL_CERT_DIR` it names), made once per process and per those two variables: each one reads
    and parses the whole bundle (about 50 ms here), which every `open_notion` paid again."""
    return httpx.create_ssl_context()


#: What to do about a refusal, by Notion's error code (NOTION-API.md §5, "Errors").
_ADVICE = {
    "unauthorized": "check NOTION_TOKEN: `reconciler doctor` says what the token can reach",
    "restricted_resource": "the integration lacks a capability or access: share the page or "
                           "database with it (… → Connections) and check its capabilities",
    "object_not_found": "check the id, and that the page or database is shared with the "
                        "integration (… → Connections)",
}


def notion_refusal(exc: Exception) -> str:
    """`<code>: <Notion's message>` of a notion-client `APIResponseError` (the code as Notion
    spells it, e.g. `unauthorized`, not notion-client's `APIErrorCode.Unauthorized`), with what
    to do for the codes a user can fix (`_ADVICE`)."""
    code = getattr(exc, "code", "")
    code = getattr(code, "value", code) or "error"
    advice = _ADVICE.get(str(code))
    return f"{code}: {exc}" + (f" ({advice})" if advice else "")


def integration_identity(client: notion_client.Client) -> dict[str, str]:
    """Who the token is: `{"workspace": <workspace id>, "bot": <bot user id>}`, from one
    `GET /v1/users/me` (the bot user; its `bot.workspace_id` names the workspace: recording
    ramnes__notion-sdk-py/tests/cassettes/test_users_me.yaml). Raises `ReadError` when Notion
    answers with an error."""
    try:
        me = client.users.me()
    except notion_client.APIResponseError as exc:
        raise ReadError(f"GET /v1/users/me failed: {notion_refusal(exc)}") from None
    bot = me.get("bot") if isinstance(me.get("bot"), dict) else {}
    return {"workspace": str(bot.get("workspace_id") or ""), "bot": str(me.get("id") or "")}
