"""The apply journal: what a run set out to do and what it had done, for after an interruption.

`.reconciler/journal.ndjson` holds one `begin` line per run (run id, plan digest, number of
changes, start time), one `done` line per change made, and one `end` line. A run with a `begin`
and no `end` was interrupted; the next apply reads what it had done and finishes the job from a
fresh read of the live state (identity comes from each row's key in the live Notion database or table, so
nothing is created twice).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.apply.lines import JsonLines
from reconciler.plan import planfile
from reconciler.plan.model import Plan


def plan_digest(plan: Plan) -> str:
    """`sha256:` of the plan document without its creation time (and so without the file's
    `digest`, which covers it): the same plan of the same state, the same digest."""
    return planfile.content_digest(plan)


@dataclass(frozen=True)
class InterruptedRun:
    """A run that began and never ended: its id, plan digest, start time and the changes it made."""

    run_id: str
    plan_digest: str
    started_at: str
    total: int
    done: tuple[str, ...] = ()


@dataclass
class Journal:
    """Appends journal lines to `path` (thread-safe). `begin` and `end` reach the file at once;
    `done` lines are buffered (`apply.lines`: at most `FLUSH_SECONDS` behind); `end` closes."""

    path: Path
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _lines: JsonLines | None = None

    def _write(self, line: dict[str, Any], flush: bool = False) -> None:
        line = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                "run": self.run_id, **line}
        with self._lock:
            if self._lines is None:
                self._lines = JsonLines(self.path)
            self._lines.write(line, flush=flush)

    def begin(self, plan: Plan) -> None:
        self._write({"event": "begin", "plan": plan_digest(plan), "total": len(plan.changes)},
                    flush=True)

    def done(self, address: str, status: str) -> None:
        self._write({"event": "done", "address": address, "status": status})

    def end(self, status: str) -> None:
        self._write({"event": "end", "status": status}, flush=True)
        self.close()

    def close(self) -> None:
        """Write what is buffered and close the file (a run that stops without `end`)."""
        with self._lock:
            if self._lines is not None:
                self._lines.close()


def _lines(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    except (OSError, ValueError):
        return []


@dataclass(frozen=True)
class CompletedRun:
    """A run of a plan that ended: its id and when it ended (ISO 8601 UTC)."""

    run_id: str
    ended_at: str


def completed_run(path: Path, digest_: str) -> CompletedRun | None:
    """The last run of the plan with `plan_digest` `digest_` that ended `complete`, or None."""
    lines = _lines(path)
    runs = {line["run"] for line in lines
            if line.get("event") == "begin" and line.get("plan") == digest_}
    ends = [line for line in lines if line.get("event") == "end"
            and line.get("status") == "complete" and line.get("run") in runs]
    return CompletedRun(ends[-1]["run"], ends[-1]["time"]) if ends else None


def interrupted_run(path: Path) -> InterruptedRun | None:
    """The last run in the journal if it did not complete (interrupted, or failed part way: both
    are finished by the next apply), else None."""
    lines = _lines(path)
    begins = [line for line in lines if line.get("event") == "begin"]
    if not begins:
        return None
    last = begins[-1]
    mine = [line for line in lines if line.get("run") == last["run"]]
    if any(line.get("event") == "end" and line.get("status") == "complete" for line in mine):
        return None
    done = tuple(line["address"] for line in mine if line.get("event") == "done")
    return InterruptedRun(last["run"], last.get("plan", ""), last["time"], last.get("total", 0),
                          done)
