"""Pacing of Notion requests: a thread-safe token bucket and the configured rate.

* `TokenBucket` — request *starts* at a sustained `rate` (requests per second) with a small
  burst; a 429 pauses it for every thread (NOTION-API.md §4.1).
* `rate_limit_from` — the rate from `NOTION_RATE_LIMIT`, `reconciler.yaml` or the default.

Used by `resilience.ResilientTransport`, which takes a token per attempt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from reconciler.errors import ConfigError

__all__ = ["DEFAULT_RATE_LIMIT", "TokenBucket", "rate_limit_from"]

#: Notion's average limit: three requests per second per integration (NOTION-API.md §4.1).
DEFAULT_RATE_LIMIT = 3.0

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """Thread-safe pacing of request starts: sustained `rate` requests per second, bursts of up to
    `burst` requests after idle time (NOTION-API.md §4.1: "an average of three requests per second.
    Some bursts beyond the average rate are allowed").

    The bucket starts with one token, so a cold start is paced from its first request: N requests
    take at least (N − 1)/rate seconds. It spaces *starts*: several requests may be in flight at
    once (callers may use threads); `acquire()` reserves a start slot under a lock and sleeps
    outside it. `pause(seconds)` (on a 429) holds every thread until the pause ends, after which
    requests resume one at a time at `rate`.

    `clock` (monotonic seconds) and `sleep` are injectable for tests.
    """

    def __init__(self, rate: float, burst: int = 3, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep):
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self.interval = 1.0 / self.rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # GCRA: `_tat` is the theoretical arrival time; a start is allowed at tat − (burst−1)·interval.
        self._slack = (self.burst - 1) * self.interval
        self._tat = clock() + self._slack
        self._paused_until = float("-inf")

    def _reserve(self, now: float) -> float:
        start = max(now, self._tat - self._slack, self._paused_until)
        self._tat = max(self._tat, start) + self.interval
        return start

    def acquire(self) -> float:
        """Wait for a start slot; returns the slot's time (clock seconds)."""
        with self._lock:
            slot = self._reserve(self._clock())
        while True:
            wait = slot - self._clock()
            if wait > 0:
                self._sleep(wait)
            with self._lock:
                if self._paused_until <= slot:
                    return slot
                # a 429 paused the bucket while we waited: take a new slot after the pause
                slot = self._reserve(max(self._clock(), slot))

    def pause(self, seconds: float) -> None:
        """Hold every thread for `seconds` from now (a 429's Retry-After)."""
        if seconds <= 0:
            return
        with self._lock:
            until = self._clock() + seconds
            if until > self._paused_until:
                self._paused_until = until
            self._tat = max(self._tat, until + self._slack)


def rate_limit_from(env: Mapping[str, str], configured: float | None = None) -> float:
    """Requests per second: `NOTION_RATE_LIMIT` from the environment, else `configured`
    (`reconciler.yaml` `notion.rate_limit`), else `DEFAULT_RATE_LIMIT` (3). Raises ConfigError on
    a value that is not a positive number."""
    raw = env.get("NOTION_RATE_LIMIT")
    if raw is None or not raw.strip():
        return float(configured) if configured else DEFAULT_RATE_LIMIT
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"NOTION_RATE_LIMIT must be a number of requests per second, not {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"NOTION_RATE_LIMIT must be > 0 requests per second, not {raw!r}")
    return value
