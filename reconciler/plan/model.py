"""The plan as data: a header that pins what it was made from, and the ordered changes."""

from __future__ import annotations

from collections import Counter

from pydantic import Field

from reconciler.model.base import Model
from reconciler.model.changes import Action, Change, ChangeBase
from reconciler.model.content import ContentSummary
from reconciler.model.sync import PlanCost, SyncSummary

#: Version 3 added `digest`, `header.targets` and `header.identities`; version 4 sealed values
#: (`sensitive`, `sealed` on rows, conflicts and base pairs) and `header.digest_key`; version 5
#: previews each Notion request whole (every key of its body, `shared_by`).
FORMAT_VERSION = 5


class PlanHeader(Model):
    """What a plan was made from.

    - `format_version`: layout of the plan file (`plan.planfile` refuses other versions).
    - `tool_version`: the reconciler that made it.
    - `created_at`: ISO 8601 UTC time (to the second) the plan's read started; the only part that
      differs between two plans of one state. A two-way sync reads changes since this time of
      the last applied plan.
    - `spec_hash`: `sha256:` over the spec files read.
    - `targets`: the `--target` addresses it was limited to (empty: the whole project).
    - `backends`: where it applies, by address root, e.g.
      `{"notion": "local Notion (.reconciler/notion)"}`; never a token or a password.
    - `identities`: who the live systems were, by address root, as each backend's `read` tells
      it (`backends.base.Live.identity`): e.g. the Notion workspace and bot ids,
      `{"system_identifier": …, "database": …}` for Postgres. Apply refuses a plan whose
      identities are not the live systems' now ("made for another workspace or database").
    - `fingerprints`: for every live resource read, `sha256:` of its normalised state, or `absent`.
    - `diagram`: Mermaid ER source of the declared databases, tables and relations, the resources
      the plan changes marked (`reconciler.diagram`); the markdown report shows it.
    - `digest_key`: which digest key sealed the plan's sensitive values (`Sealer.key_id`; None
      when it holds none); apply refuses the plan under another key.
    """

    format_version: int = FORMAT_VERSION
    tool_version: str
    created_at: str
    spec_hash: str
    targets: tuple[str, ...] = ()
    backends: dict[str, str] = Field(default_factory=dict)
    identities: dict[str, dict[str, str]] = Field(default_factory=dict)
    fingerprints: dict[str, str] = Field(default_factory=dict)
    diagram: str | None = None
    digest_key: str | None = None


class Plan(Model):
    """A header, the changes in apply order (phase, then address), content summaries by the
    address of each content set's database or table, sync summaries by the address of each
    synced table, and the cost of its Notion requests (set when the project syncs tables)."""

    header: PlanHeader
    changes: tuple[Change, ...] = ()
    content: dict[str, ContentSummary] = Field(default_factory=dict)
    sync: dict[str, SyncSummary] = Field(default_factory=dict)
    cost: PlanCost | None = None

    @property
    def breakers(self) -> list[str]:
        """The circuit breaker messages of the synced tables that trip it."""
        return [s.breaker for _, s in sorted(self.sync.items()) if s.breaker]

    @property
    def summary(self) -> dict[str, int]:
        """Number of changes per action, every action listed (zeros included), in `Action` order."""
        counts = Counter(c.action for c in self.changes)
        return {a.value: counts.get(a, 0) for a in Action if a is not Action.NOOP}

    @property
    def destructive(self) -> list[ChangeBase]:
        return [c for c in self.changes if c.destructive]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)
