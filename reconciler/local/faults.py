"""Fault injection for the local Notion: a WSGI middleware that makes it behave like a remote,
busy Notion (DESIGN.md "The local Notion"; error shapes from NOTION-API.md §4.1 and §4.4).

Faults, each drawn per request from one seeded RNG (reproducible with `seed`):

- `latency`: added delay in milliseconds, fixed (`50ms`) or uniform in a range (`50-200ms`).
- `rate_429`: 429 `rate_limited` with `Retry-After: <retry_after>` (header and
  `additional_data.retry_after`).
- `rate_blocked`: 429 with `additional_data.rate_limit_reason = "public_api_request_blocked"`
  (must never be retried).
- `rate_5xx`: 500 `internal_server_error` / 502 `bad_gateway` / 503 `service_unavailable` /
  504 `gateway_timeout`, one of the four at random. Nothing is performed.
- `rate_529`: 529 `service_overload` with `Retry-After`.
- `rate_409`: 409 `conflict_error`. Nothing is performed.
- `drop`: the request is performed, then the connection is dropped without a response (in process:
  `DroppedConnection`, an `httpx.RemoteProtocolError`; over HTTP: the socket is shut down).
- `commit_503`: writes only (POST other than search/query, PATCH, DELETE): the write is performed,
  then 503 `service_unavailable` is answered with `additional_data.committed_resource_id`.
- `search_lag`: seconds during which a newly created page or data source is not found by
  `POST /v1/search` (Notion's search is eventually consistent, NOTION-API.md §1.5). Applied by the
  app itself (`LocalNotion(search_lag=…)`), not by this middleware; it alone does not make `active`.

The rates are probabilities in [0, 1]; their sum must not exceed 1.

Switches: the environment variable `RECONCILER_FAULTS` (read by `open_notion` for the in-process
local Notion and by `reconciler local serve`), e.g.
``RECONCILER_FAULTS="latency=50-200ms,429=0.3,5xx=0.05,529=0.02,drop=0.01,commit503=0.02,retry_after=1,seed=7"``
(keys: `latency`, `429`, `blocked`, `5xx`, `529`, `409`, `drop`, `commit503`, `retry_after` in
seconds, `search_lag` in seconds, `seed`), or the options of `reconciler local serve`.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

__all__ = ["Faults", "FaultMiddleware", "DroppedConnection", "parse_faults", "faults_from_env", "FAULTS_ENV"]

FAULTS_ENV = "RECONCILER_FAULTS"

_READ_ONLY_POST = re.compile(r"^/v1/(search|data_sources/[^/]+/query|databases/[^/]+/query)/?$")
_FIVE_XX = {500: ("internal_server_error", "Unexpected error occurred."),
            502: ("bad_gateway", "Bad gateway."),
            503: ("service_unavailable", "Notion is unavailable, please try again later."),
            504: ("gateway_timeout", "Notion timed out, please try again later.")}


class DroppedConnection(httpx.RemoteProtocolError):
    """The in-process local Notion dropped the connection before answering (fault `drop`)."""


@dataclass(frozen=True)
class Faults:
    """Which faults to inject (see the module docstring). Rates are probabilities per request;
    `latency_ms` is `(low, high)` milliseconds (equal for a fixed delay); `retry_after` is the
    seconds sent in `Retry-After` on 429/529; `search_lag` the seconds a new object stays out of
    search results; `seed` makes the draws reproducible."""

    latency_ms: tuple[float, float] = (0.0, 0.0)
    rate_429: float = 0.0
    rate_blocked: float = 0.0
    rate_5xx: float = 0.0
    rate_529: float = 0.0
    rate_409: float = 0.0
    drop: float = 0.0
    commit_503: float = 0.0
    retry_after: float = 1.0
    search_lag: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        rates = [self.rate_429, self.rate_blocked, self.rate_5xx, self.rate_529, self.rate_409,
                 self.drop, self.commit_503]
        if any(not 0.0 <= r <= 1.0 for r in rates):
            raise ValueError("fault rates must be between 0 and 1")
        if sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must add up to at most 1")
        low, high = self.latency_ms
        if low < 0 or high < low:
            raise ValueError("latency must be a non-negative ms value or range low-high")
        if self.retry_after < 0:
            raise ValueError("retry_after must be ≥ 0 seconds")
        if self.search_lag < 0:
            raise ValueError("search_lag must be ≥ 0 seconds")

    @property
    def active(self) -> bool:
        """True when any fault the middleware injects (latency included) is switched on; the search
        lag is not one of them."""
        rates = (self.rate_429, self.rate_blocked, self.rate_5xx, self.rate_529, self.rate_409, self.drop,
                 self.commit_503)
        return self.latency_ms[1] > 0 or any(r > 0 for r in rates)


_KEYS = {"429": "rate_429", "rate_429": "rate_429", "blocked": "rate_blocked", "5xx": "rate_5xx",
         "rate_5xx": "rate_5xx", "529": "rate_529", "rate_529": "rate_529", "409": "rate_409",
         "drop": "drop", "commit503": "commit_503", "commit_503": "commit_503",
         "retry_after": "retry_after", "seed": "seed", "latency": "latency_ms", "search_lag": "search_lag"}


def parse_latency(text: str) -> tuple[float, float]:
    """`"50"`, `"50ms"`, `"50-200ms"`, `"0.05s"` → (low, high) milliseconds."""
    raw = text.strip().lower()
    scale = 1.0
    if raw.endswith("ms"):
        raw = raw[:-2]
    elif raw.endswith("s"):
        raw, scale = raw[:-1], 1000.0
    low, _, high = raw.partition("-")
    lo = float(low) * scale
    hi = float(high.rstrip("ms")) * scale if high else lo
    return (lo, hi)


def parse_faults(spec: str, base: Faults | None = None) -> Faults:
    """Parse `"latency=50-200ms,429=0.3,5xx=0.05,529=0.02,drop=0.01,commit503=0.02,retry_after=1,seed=7"`
    (comma-separated `key=value`; see the module docstring for keys). Raises ValueError."""
    values: dict[str, Any] = {}
    for item in (p.strip() for p in spec.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        name = _KEYS.get(key.strip().lower())
        if not sep or name is None:
            raise ValueError(f"unknown fault setting {item!r} (keys: {', '.join(sorted(set(_KEYS)))})")
        value = value.strip()
        if name == "latency_ms":
            values[name] = parse_latency(value)
        elif name == "seed":
            values[name] = int(value)
        else:
            values[name] = float(value.rstrip("s")) if name in ("retry_after", "search_lag") else float(value)
    return replace(base or Faults(), **values)


def faults_from_env(env: Mapping[str, str]) -> Faults | None:
    """The faults `RECONCILER_FAULTS` asks for, or None when it is unset or empty."""
    spec = env.get(FAULTS_ENV, "").strip()
    return parse_faults(spec) if spec else None


def _error(status: int, code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "error", "status": status, "code": code, "message": message,
                            "request_id": str(uuid.uuid4())}
    if extra:
        body["additional_data"] = extra
    return body


class FaultMiddleware:
    """WSGI middleware injecting `faults` in front of `app` (normally `LocalNotion`).

    `sleep` (seconds) is injectable so tests can skip real latency; `injected` counts what was
    injected, by kind ("429", "blocked", "500", …, "529", "409", "drop", "commit503").
    """

    def close(self) -> None:
        """Close the app behind the middleware."""
        getattr(self.app, "close", lambda: None)()

    def __init__(self, app: Callable[..., Any], faults: Faults, *, sleep: Callable[[float], None] = time.sleep):
        self.app = app
        self.faults = faults
        self._sleep = sleep
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] = self.injected.get(kind, 0) + 1

    def _draw(self) -> tuple[float, float, int]:
        with self._lock:
            low, high = self.faults.latency_ms
            latency = self._rng.uniform(low, high) if high > low else low
            return latency, self._rng.random(), self._rng.choice(sorted(_FIVE_XX))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        f = self.faults
        latency, u, five = self._draw()
        if latency > 0:
            self._sleep(latency / 1000.0)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")
        is_write = method in ("PATCH", "DELETE") or (method == "POST" and not _READ_ONLY_POST.match(path))
        after = f.retry_after
        after_text = str(int(after)) if float(after).is_integer() else str(after)

        edge = 0.0
        for kind, rate in (("429", f.rate_429), ("blocked", f.rate_blocked), ("5xx", f.rate_5xx),
                           ("529", f.rate_529), ("409", f.rate_409), ("drop", f.drop),
                           ("commit503", f.commit_503)):
            edge += rate
            if u >= edge:
                continue
            if kind == "429":
                self._count(kind)
                return self._answer(start_response, 429, _error(
                    429, "rate_limited", "You have been rate limited. Please try again in a few minutes.",
                    {"rate_limit_reason": "public_api_request_rate_limit", "retry_after": after_text}),
                    {"Retry-After": after_text})
            if kind == "blocked":
                self._count(kind)
                return self._answer(start_response, 429, _error(
                    429, "rate_limited", "Requests from this integration are blocked. Contact support.",
                    {"rate_limit_reason": "public_api_request_blocked"}))
            if kind == "5xx":
                self._count(str(five))
                code, message = _FIVE_XX[five]
                return self._answer(start_response, five, _error(five, code, message))
            if kind == "529":
                self._count(kind)
                return self._answer(start_response, 529, _error(
                    529, "service_overload", "Notion is overloaded, please try again later.",
                    {"retry_after": after_text}), {"Retry-After": after_text})
            if kind == "409":
                self._count(kind)
                return self._answer(start_response, 409, _error(
                    409, "conflict_error", "Conflict occurred while saving. Please try again."))
            if kind == "drop":
                self._count(kind)
                self._run(environ)  # performed, but the answer is lost
                sock = environ.get("werkzeug.socket")
                if sock is not None:  # a real HTTP server: close the socket under the client
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    raise ConnectionResetError("fault injection: connection dropped")
                raise DroppedConnection("Server disconnected without sending a response.")
            if kind == "commit503" and is_write:
                status, body = self._run(environ)
                if 200 <= status < 300:
                    self._count(kind)
                    extra = {"retry_guidance": "check_before_retry"}
                    if isinstance(body, dict) and isinstance(body.get("id"), str):
                        extra["committed_resource_id"] = body["id"]
                    return self._answer(start_response, 503, _error(
                        503, "service_unavailable", "Notion is unavailable, please try again later.", extra))
            break
        return self.app(environ, start_response)

    def _run(self, environ: dict[str, Any]) -> tuple[int, Any]:
        """Call the wrapped app, consume its answer; (status, parsed JSON body or None)."""
        seen: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            seen["status"] = int(status.split()[0])
            return lambda data: None

        result = self.app(environ, start)
        try:
            raw = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        try:
            return seen.get("status", 500), json.loads(raw)
        except ValueError:
            return seen.get("status", 500), None

    @staticmethod
    def _answer(start_response: Callable[..., Any], status: int, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> list[bytes]:
        data = json.dumps(body).encode()
        reason = {409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                  503: "Service Unavailable", 504: "Gateway Timeout", 529: "Site Overloaded"}.get(status, "Error")
        start_response(f"{status} {reason}", [("Content-Type", "application/json; charset=utf-8"),
                                              ("Content-Length", str(len(data))),
                                              ("x-notion-request-id", body["request_id"]),
                                              *(headers or {}).items()])
        return [data]
