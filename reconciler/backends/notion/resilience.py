"""Pacing and retries for every Notion request, at the httpx layer.

notion-client's own retry is switched off (`retry=False`, NOTION-API.md §5): it retries only 429
and GET/DELETE 500/503, caps `Retry-After` at 60 s and ignores `additional_data.retry_after`. Ours
sits under notion-client as an `httpx.BaseTransport` wrapper, so every client call benefits:

* `pacing.TokenBucket` — thread-safe pacing of request *starts* at a sustained `rate`
  (requests per second) with a small burst; a 429 pauses it for every thread (NOTION-API.md
  §4.1). Re-exported here with `rate_limit_from` and `DEFAULT_RATE_LIMIT`.
* `ResilientTransport` — retries 429 `rate_limited`, 529 `service_overload`, 500/502/503/504,
  409 `conflict_error`, timeouts and dropped connections, with exponential backoff and full
  jitter (each retry logged at INFO on `reconciler.notion.retry` as `rate limited, retry 2/7 in
  3 s (GET /v1/…)`, which the CLI shows on a terminal); a refused connection or a host name that
  does not resolve fails at once (nothing there will answer soon, so waiting only hides it); honouring `Retry-After` in full (up to `RetryPolicy.retry_after_cap`, default 300 s),
  within `max_attempts` and a total time `budget`. Never retries 429
  `public_api_request_blocked`. Creates (`POST /v1/pages`, `/v1/databases`, …) that fail in a
  way that may have committed raise `MaybeCommittedError` instead of being retried blindly.
* `RetryStats` — counters (attempts, retries by status, seconds waited) for benchmarks/tests.

Nothing here logs a header: the Authorization header (the token) never reaches a log line or an
exception message; only the method and the URL path are named.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from reconciler.errors import ReconcilerError

from .pacing import DEFAULT_RATE_LIMIT, TokenBucket, rate_limit_from
from reconciler.logs import logger

__all__ = [
    "DEFAULT_RATE_LIMIT", "MaybeCommittedError", "RetryPolicy", "RetryStats", "TokenBucket",
    "ResilientTransport", "rate_limit_from", "retry_after_seconds", "is_idempotent",
]

_LOG = logger("reconciler.notion.retry")

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class MaybeCommittedError(ReconcilerError):
    """A non-idempotent write (a create) failed in a way that may have committed it: a 5xx, a
    timeout after the request was sent, or a dropped connection (NOTION-API.md §4.1: "a write
    answered 503 may have been committed").

    The caller must look the object up by its key before retrying. Attributes: `method`
    ("POST"), `path` (URL path, e.g. "/v1/pages"), `status` (HTTP status, or None when no response
    arrived), `committed_id` (Notion's `additional_data.committed_resource_id` when the 503 body
    names it, else None), `reason` (a short description). Never carries a header or a token.
    """

    def __init__(self, method: str, path: str, status: int | None, committed_id: str | None = None,
                 reason: str = ""):
        self.method = method
        self.path = path
        self.status = status
        self.committed_id = committed_id
        self.reason = reason
        what = f"HTTP {status}" if status is not None else (reason or "no response")
        msg = f"{method} {path} failed ({what}) and may have been committed; check by key before retrying"
        if committed_id:
            msg += f" (Notion reports committed resource {committed_id})"
        super().__init__(msg)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry one request. Units: seconds.

    - `max_attempts`: attempts per request, the first included (≥ 1).
    - `budget`: total time per request, waits and attempts included; no retry starts whose wait
      would end past it.
    - `base_delay`, `max_delay`: exponential backoff with full jitter when no `Retry-After` is
      given: wait = uniform(0, min(max_delay, base_delay · 2^retry)).
    - `retry_after_cap`: the longest `Retry-After` honoured (Notion's per-workspace limit can ask
      for more than 60 s, NOTION-API.md §4.1); a longer one is waited for `retry_after_cap`.
    """

    max_attempts: int = 8
    budget: float = 900.0
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_after_cap: float = 300.0


class RetryStats:
    """Counters shared by every request of one connection (thread-safe).

    - `requests`: logical requests (one per notion-client call).
    - `attempts`: HTTP attempts sent (requests + retries).
    - `retries`: retries by cause: an HTTP status (int: 429, 529, 503, …) or "timeout" /
      "connection".
    - `wait_seconds`: total seconds slept before retries (pacing not included).
    - `maybe_committed`: `MaybeCommittedError`s raised.
    - `gave_up`: requests that still failed after the last allowed attempt.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.attempts = 0
        self.retries: dict[int | str, int] = {}
        self.wait_seconds = 0.0
        self.maybe_committed = 0
        self.gave_up = 0

    def _add(self, name: str, n: float = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def _retry(self, cause: int | str, wait: float) -> None:
        with self._lock:
            self.retries[cause] = self.retries.get(cause, 0) + 1
            self.wait_seconds += wait

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy: `{"requests", "attempts", "retries": {"429": n, …}, "wait_seconds",
        "maybe_committed", "gave_up"}`."""
        with self._lock:
            return {"requests": self.requests, "attempts": self.attempts,
                    "retries": {str(k): v for k, v in self.retries.items()},
                    "wait_seconds": round(self.wait_seconds, 3),
                    "maybe_committed": self.maybe_committed, "gave_up": self.gave_up}

    def __repr__(self) -> str:
        return f"RetryStats({self.snapshot()})"


# -- classification -----------------------------------------------------------------------------

_READ_ONLY_POST = re.compile(r"^/v1/(search|data_sources/[^/]+/query|databases/[^/]+/query)/?$")
_APPEND_CHILDREN = re.compile(r"^/v1/blocks/[^/]+/children/?$")
_RETRY_STATUS = {409, 429, 500, 502, 503, 504, 529}
_NOTHING_DONE = {409, 429, 529}  # the request was refused: retrying cannot duplicate it


def is_idempotent(method: str, path: str) -> bool:
    """True when sending the request twice has the effect of sending it once: GET, HEAD, DELETE,
    PATCH (property writes set values) except appending block children, and the read-only POSTs
    `/v1/search` and `/v1/data_sources/{id}/query`. Creates (`POST /v1/pages`, `/v1/databases`,
    `/v1/data_sources`, …) are not."""
    method = method.upper()
    if method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return True
    if method == "PATCH":
        return not _APPEND_CHILDREN.match(path)
    if method == "POST":
        return bool(_READ_ONLY_POST.match(path))
    return False


def _body_json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: Any, now: float | None = None) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
        return seconds if seconds >= 0 and seconds != float("inf") else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    wall = now if now is not None else datetime.now(timezone.utc).timestamp()
    return max(0.0, when.timestamp() - wall)


def retry_after_seconds(headers: Mapping[str, str] | httpx.Headers, body: Mapping[str, Any] | None = None,
                        *, now: float | None = None) -> float | None:
    """Seconds to wait from the `Retry-After` header (delta-seconds or HTTP-date, relative to the
    wall-clock `now`, default the current time) and/or the body's `additional_data.retry_after`
    (string seconds, NOTION-API.md §4.1); the larger when both are given; None when neither is."""
    header = _seconds(headers.get("retry-after") or headers.get("Retry-After"), now)
    extra = (body or {}).get("additional_data")
    in_body = _seconds(extra.get("retry_after"), now) if isinstance(extra, Mapping) else None
    values = [v for v in (header, in_body) if v is not None]
    return max(values) if values else None


# -- the transport ------------------------------------------------------------------------------

class ResilientTransport(httpx.BaseTransport):
    """An httpx transport that paces and retries the requests of an inner transport
    (`httpx.HTTPTransport` for the real API, `httpx.WSGITransport` for the local Notion).

    - `policy`: `RetryPolicy` (attempts, budget, backoff, Retry-After cap; seconds).
    - `bucket`: a `TokenBucket`, or None for no pacing; each attempt takes a token.
    - `stats`: `RetryStats` to count into (a new one by default; read it as `.stats`).
    - `clock`/`sleep`/`rng`: injectable (monotonic seconds, a sleep function, `random.Random`).

    Give-up behaviour: after the last allowed attempt an HTTP error response is returned as is, so
    notion-client raises its usual `APIResponseError`/`UnknownHTTPResponseError`; a transport error
    is re-raised. A create that may have committed raises `MaybeCommittedError` at once.
    """

    def __init__(self, inner: httpx.BaseTransport, *, policy: RetryPolicy | None = None,
                 bucket: TokenBucket | None = None, stats: RetryStats | None = None,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
                 rng: random.Random | None = None):
        self.inner = inner
        self.policy = policy or RetryPolicy()
        self.bucket = bucket
        self.stats = stats if stats is not None else RetryStats()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()

    def close(self) -> None:
        self.inner.close()

    def _backoff(self, retry: int) -> float:
        ceiling = min(self.policy.max_delay, self.policy.base_delay * (2 ** retry))
        with self._rng_lock:
            return self._rng.uniform(0.0, ceiling)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method.upper(), request.url.path
        idempotent = is_idempotent(method, path)
        policy = self.policy
        started = self._clock()
        self.stats._add("requests")
        attempt = 0
        while True:
            attempt += 1
            if self.bucket is not None:
                self.bucket.acquire()
            self.stats._add("attempts")
            try:
                response = self.inner.handle_request(request)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
                if is_unreachable(error):
                    self.stats._add("gave_up")
                    raise
                # Connect errors and pool/connect timeouts: the request never left, a retry is safe.
                unsent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                cause = "timeout" if isinstance(error, httpx.TimeoutException) else "connection"
                if not idempotent and not unsent:
                    self.stats._add("maybe_committed")
                    raise MaybeCommittedError(method, path, None, reason=f"{cause}: {type(error).__name__}") from error
                wait = self._backoff(attempt - 1)
                if not self._may_retry(attempt, started, wait):
                    self.stats._add("gave_up")
                    raise
                self._wait(method, path, cause, attempt, wait)
                continue

            status = response.status_code
            if status not in _RETRY_STATUS:
                return response
            response.read()
            body = _body_json(response)
            extra = body.get("additional_data") if isinstance(body.get("additional_data"), dict) else {}
            if status == 429 and (extra.get("rate_limit_reason") == "public_api_request_blocked"
                                  or body.get("code") == "public_api_request_blocked"):
                return response  # NOTION-API.md §4.1: do not retry; contact support
            if status == 409 and body.get("code") not in (None, "conflict_error"):
                return response
            if not idempotent and status not in _NOTHING_DONE:
                response.close()
                self.stats._add("maybe_committed")
                committed = extra.get("committed_resource_id")
                raise MaybeCommittedError(method, path, status,
                                          committed if isinstance(committed, str) else None,
                                          reason=str(body.get("code") or status))
            after = retry_after_seconds(response.headers, body)
            if after is not None:
                wait = min(after, policy.retry_after_cap)
            else:
                wait = self._backoff(attempt - 1)
            if status == 429 and self.bucket is not None:
                self.bucket.pause(wait)
            if not self._may_retry(attempt, started, wait):
                self.stats._add("gave_up")
                return response
            response.close()
            self._wait(method, path, status, attempt, wait)

    def _may_retry(self, attempt: int, started: float, wait: float) -> bool:
        if attempt >= self.policy.max_attempts:
            return False
        return self._clock() + wait - started <= self.policy.budget

    def _wait(self, method: str, path: str, cause: int | str, attempt: int, wait: float) -> None:
        _LOG.info("%s, retry %d/%d in %s s (%s %s)", _CAUSES.get(cause, f"HTTP {cause}"), attempt,
                  self.policy.max_attempts - 1, f"{wait:.1f}" if wait < 10 else f"{wait:.0f}",
                  method, path)
        self.stats._retry(cause, wait)
        if wait > 0:
            self._sleep(wait)


#: How a retry's cause reads on screen.
_CAUSES: dict[int | str, str] = {
    429: "rate limited", 529: "Notion is overloaded (529)", 409: "conflict (409)",
    500: "server error 500", 502: "bad gateway (502)", 503: "service unavailable (503)",
    504: "gateway timeout (504)", "timeout": "timed out", "connection": "connection lost"}


def is_unreachable(error: BaseException) -> bool:
    """True when `error` (an httpx transport error) comes from a refused connection or a host
    name that does not resolve: the OS error httpcore raised it from (its `__cause__` chain) is
    `ConnectionRefusedError` or `socket.gaierror`. Retrying those only delays the message."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, (ConnectionRefusedError, socket.gaierror)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def create_exactly_once(create: Callable[[], dict], find: Callable[[], dict | None], *,
                        attempts: int = 5) -> dict:
    """Run `create` (a `POST` that is not safe to repeat blindly) until it answers, looking the
    object up with `find` after every `MaybeCommittedError`, so it is created exactly once.

    Returns the created (or found) object. Raises the last `MaybeCommittedError` after
    `attempts` tries that neither answered nor left a findable object.
    """
    for attempt in range(attempts):
        try:
            return create()
        except MaybeCommittedError:
            found = find()
            if found is not None:
                return found
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
