"""The plan as data: a header that pins what it was made from, and the ordered changes."""

from __future__ import annotations

from collections import Counter

from pydantic import Field

from reconciler.model.base import Model
from reconciler.plan.changes import Action, Change

FORMAT_VERSION = 1


class PlanHeader(Model):
    """What a plan was made from.

    - `format_version`: layout of the plan file (`plan.planfile` refuses other versions).
    - `tool_version`: the reconciler that made it.
    - `created_at`: ISO 8601 UTC time; the only part that differs between two plans of one state.
    - `spec_hash`: `sha256:` over the spec files read.
    - `targets`: where it applies, e.g. `{"notion": "local Notion (.reconciler/notion)"}`;
      never a token or a password.
    - `fingerprints`: for every live resource read, `sha256:` of its normalised state, or `absent`.
    """

    format_version: int = FORMAT_VERSION
    tool_version: str
    created_at: str
    spec_hash: str
    targets: dict[str, str] = Field(default_factory=dict)
    fingerprints: dict[str, str] = Field(default_factory=dict)


class ContentSummary(Model):
    """Per content target: the key and hash fields; rows to create, update, archive; rows
    unchanged; live rows the source no longer has (archived only with `--prune`); and schema lag:
    for each live-missing field, the number of rows waiting for it."""

    key: str = ""
    hash_field: str = ""
    create: int = 0
    update: int = 0
    archive: int = 0
    unchanged: int = 0
    not_in_source: int = 0
    lag: dict[str, int] = Field(default_factory=dict)


class Plan(Model):
    """A header, the changes in apply order (phase, then address), and content summaries."""

    header: PlanHeader
    changes: tuple[Change, ...] = ()
    content: dict[str, ContentSummary] = Field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        """Number of changes per action, every action listed (zeros included), in `Action` order."""
        counts = Counter(c.action for c in self.changes)
        return {a.value: counts.get(a, 0) for a in Action if a is not Action.NOOP}

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)
