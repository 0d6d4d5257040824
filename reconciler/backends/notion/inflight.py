"""How many page writes to keep in flight: enough that latency never wastes the rate budget.

The token bucket spaces request *starts* at `rate` per second (NOTION-API.md §4.1); a write
that takes `latency` seconds holds its slot that long, so keeping the budget busy needs about
`rate × latency` requests in flight (Little's law), plus one so a slot is ready when the next
start is due. The latency is measured as the writes run (the median of the last `WINDOW`), so a
slow or distant server gets more in flight and a near one fewer. Without pacing (the in-process
local Notion) a fixed `FLOOR` is used.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import deque

#: In flight at least (and without pacing), and at most (Notion answers 429 long before).
FLOOR, CEILING = 4, 32
#: Latencies remembered for the estimate.
WINDOW = 50


def needed(rate: float | None, latency: float | None) -> int:
    """Requests to keep in flight for `rate` (requests per second, None: unpaced) at `latency`
    (seconds per request, None: not measured yet): `ceil(rate × latency) + 1`, within
    [`FLOOR`, `CEILING`]."""
    if rate is None or latency is None:
        return FLOOR
    return max(FLOOR, min(CEILING, math.ceil(rate * latency) + 1))


class InFlight:
    """A gate around each write: `with gate:` waits while `limit` writes are running, and times
    the write to refine `limit`. Thread-safe."""

    def __init__(self, rate: float | None, clock=time.monotonic):
        self.rate = rate
        self._clock = clock
        self._running = 0
        self._latencies: deque[float] = deque(maxlen=WINDOW)
        self._changed = threading.Condition()
        self._started = threading.local()

    @property
    def limit(self) -> int:
        latency = statistics.median(self._latencies) if self._latencies else None
        return needed(self.rate, latency)

    def __enter__(self) -> "InFlight":
        with self._changed:
            while self._running >= self.limit:
                self._changed.wait()
            self._running += 1
        self._started.at = self._clock()
        return self

    def __exit__(self, *exc: object) -> None:
        took = self._clock() - self._started.at
        with self._changed:
            self._running -= 1
            self._latencies.append(took)
            self._changed.notify_all()
