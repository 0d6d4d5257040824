"""The backend seam: what every backend (Notion, Postgres, later others) provides.

Like an Atlas driver (inspector + differ + plan applier), a backend is found by the root of the
addresses it owns (`notion`, `supabase`) and provides:

- `read(project, since=None, check=False) -> Live`: the live side of what the project declares
  (schema and content rows) and a fingerprint per resource read (I/O). `check=True` is apply's
  stale check: the backend may read only what changed since its last full read (the
  fingerprints must equal a full read's when nothing changed);
- `diff(project, live, prune=False) -> Diff`: typed changes from live to desired and the
  summary of each content set (pure);
- `assess(changes, live) -> changes`: facts only the live system can tell about the changes, such
  as the rows a destructive change would lose (I/O, read-only);
- `compile(changes, project, live) -> steps`: what carries the changes out, as data: SQL
  statements or Notion requests (method, path, body). Pure; each step names the changes it
  carries out and gives the previews the plan shows (`previews()`);
- `executor(live, known) -> Executor` whose `run(steps, report)` sends them (I/O); `known` is
  the apply's shared table of what earlier steps learnt (`Known`: ids of pages created, each
  change's outcome), so one backend's steps can use another's results (a page created in Notion
  has its id written to a Postgres row in the same apply).

A backend that needs another's read first (the Notion side of a two-way sync reads from the
watermark the Postgres side keeps) names it in `reads_after`; `read` then gets the reads made so
far as `earlier`.

The plan builder (`plan.build`) and the apply runner (`apply.runner`) only talk to this seam.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.model.changes import ChangeBase
from reconciler.model.content import ContentSummary, LiveRow

#: `report(address, status, **detail)`: status applied / deferred / skipped / waiting /
#: manual-pending / stale (`apply.runner`).
Report = Callable[..., None]


class Step(Protocol):
    """A compiled step: the addresses of the changes it carries out and, per address, the fields
    the plan shows for it (`{"sql": (...)}`, `{"requests": (...)}`)."""

    @property
    def changes(self) -> tuple[str, ...]: ...

    def previews(self) -> Mapping[str, Mapping[str, Any]]: ...


@dataclass
class Live:
    """What a backend read: its live model (`model`: backend-specific), the live content rows
    per content set address (`{address: {key: LiveRow}}`), a fingerprint per resource read
    (`{address: "sha256:…" | "absent"}`) and the `identity` of the system it read: the ids
    that tell one workspace or database from another (the Notion workspace and bot, the
    Postgres system identifier and database), saved in the plan header so apply can refuse a
    plan made for another workspace or database; `sync`: its side of each synced table, by the
    table's address (`model.sync.NotionSide` / `PostgresSide`); `read_at`: when the read of the rows started
    (ISO), where the backend needs it to remember which rows matched (Notion drift)."""

    model: Any
    rows: dict[str, dict[str, LiveRow]] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)
    sync: dict[str, Any] = field(default_factory=dict)
    read_at: str | None = None


class Known:
    """What one apply has learnt so far, shared by the executors of every backend (thread-safe):
    `pages` (address of a page created → its id), `status` (address → the status reported),
    `stale` (addresses of changes not to carry out: their page or row was edited after the plan),
    `read_at` (when the read the plan was made from started, ISO)."""

    def __init__(self, read_at: str | None = None) -> None:
        self.read_at = read_at
        self.pages: dict[str, str] = {}
        self.status: dict[str, str] = {}
        self.stale: set[str] = set()
        self.lock = threading.Lock()

    def page(self, address: str) -> str | None:
        with self.lock:
            return self.pages.get(address)

    def applied(self, address: str) -> bool:
        """Whether the change at `address` was carried out (applied, or written with deferred
        fields)."""
        return self.status.get(address) in ("applied", "deferred")


@dataclass
class Diff:
    """A backend's changes (in any order) and the summary of each of its content sets."""

    changes: list[ChangeBase] = field(default_factory=list)
    content: dict[str, ContentSummary] = field(default_factory=dict)


class Executor(Protocol):
    def run(self, steps: Sequence[Step], report: Report) -> None: ...


class Backend(Protocol):
    """One backend, open on its workspace or database. `root`: the address root it owns;
    `description`: where it points, safe to print and to save in a plan (never a token or a
    password); `content_sets(project)`: the project's content sets whose rows it holds."""

    root: str
    description: str
    #: How the address of one of its content rows names it: `page`, `row`.
    row_noun: str

    def content_sets(self, project: Any) -> tuple[Any, ...]: ...

    def read(self, project: Any, *, since: str | None = None, check: bool = False,
             earlier: Mapping[str, Live] | None = None) -> Live: ...

    def diff(self, project: Any, live: Live, *, prune: bool = False) -> Diff: ...

    def assess(self, changes: Sequence[ChangeBase], live: Live) -> list[ChangeBase]: ...

    def compile(self, changes: Sequence[ChangeBase], project: Any, live: Live) -> list[Step]: ...

    def executor(self, live: Live, known: Known | None = None) -> Executor: ...

    def close(self) -> None: ...
