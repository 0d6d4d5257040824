"""Appending JSON lines to a file through one open handle (the ledger's and the journal's).

Opening and appending the file for every line cost a system call or three per row (issue 15
point 3: 10,000 rows, 20,000 opens). `JsonLines` keeps the file open and lets Python buffer the
lines; they reach the file when `flush()` or `close()` is called, and at least every
`FLUSH_SECONDS` while lines keep coming, so a process killed mid-apply loses at most that much
of its most recent lines (the journal's resume reads the live state anyway: nothing is repeated).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any

#: Longest time a written line waits in the buffer while more lines come, in seconds.
FLUSH_SECONDS = 0.2


class JsonLines:
    """Appends one JSON object per line to `path` (created with its folder on the first line).
    Not thread-safe: callers that write from several threads hold a lock."""

    def __init__(self, path: Path):
        self.path = path
        self._out: IO[str] | None = None
        self._flushed = time.monotonic()

    def write(self, line: dict[str, Any], *, flush: bool = False) -> None:
        """Append `line`; `flush`: make it reach the file now."""
        if self._out is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = self.path.open("a", encoding="utf-8")
        self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        now = time.monotonic()
        if flush or now - self._flushed >= FLUSH_SECONDS:
            self._out.flush()
            self._flushed = now

    def flush(self) -> None:
        if self._out is not None:
            self._out.flush()
            self._flushed = time.monotonic()

    def close(self) -> None:
        """Flush and close (a later `write` opens the file again)."""
        if self._out is not None:
            self._out.close()
            self._out = None
