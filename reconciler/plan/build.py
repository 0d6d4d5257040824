"""Building a plan from what every backend read: diff, order, select, attach compiled steps.

Pure (SQLMesh's plan builder, kept apart from evaluation): the reads come in, a `Plan` comes
out; the backends' `diff` and `compile` are pure too. Each change carries the previews of the
steps its backend compiled it to (`sql`, `requests`), so the plan shows exactly what apply
sends.

Besides each backend's own diff, `CROSS_DIFFS` run differs that need several backends' reads
(the two-way sync of mirrored tables, `diff.sync_plan`): their changes are compiled by the
backends like any others, their summaries go into the plan, and their problems stop the plan.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from reconciler import __version__
from reconciler.addresses import child, matches, notion_option, notion_property, parse
from reconciler.diagram import PLAN_DIAGRAM_CHARS, project_diagram
from reconciler.diff.preflight import content_problems
from reconciler.diff.sync_plan import plan_sync, stale_sync, targeted_sync
from reconciler.errors import ConfigError, PlanError, SpecError
from reconciler.model.changes import ChangeBase, Phase
from reconciler.model.content import ContentSummary
from reconciler.model.postgres import member_address
from reconciler.model.sensitive import row_namer
from reconciler.model.sync import PlanCost
from reconciler.plan.model import Plan, PlanHeader
from reconciler.plan.seal import needs_sealing, seal_changes, seal_summaries


class CrossDiff(Protocol):
    """A differ over several backends' reads: `diff(project, reads, prune=)` gives an object
    with `changes`, `summaries` (by address) and `problems` (messages); `stale(changes,
    project, reads)` names the changes a fresh read shows were overtaken (address → why)."""

    def diff(self, project: Any, reads: Mapping[str, Any], *, prune: bool = False) -> Any: ...

    def stale(self, changes: Sequence[ChangeBase], project: Any,
              reads: Mapping[str, Any]) -> dict[str, str]: ...


class _Sync:
    diff = staticmethod(plan_sync)
    stale = staticmethod(stale_sync)


#: Differs over several backends' reads, in the order they run.
CROSS_DIFFS: tuple[CrossDiff, ...] = (_Sync(),)


class Planner(Protocol):
    """What the builder needs of a backend (see `backends.base.Backend`)."""

    root: str
    description: str

    def diff(self, project: Any, live: Any, *, prune: bool = False) -> Any: ...

    def compile(self, changes: Sequence[ChangeBase], project: Any, live: Any) -> list[Any]: ...


def check_targets(targets: Sequence[str]) -> None:
    """Raise ConfigError for a `--target` that is not a resource address."""
    for target in targets:
        try:
            head, _ = parse(target)
        except ValueError:
            head = []
        if not head or head[0] not in ("notion", "supabase"):
            raise ConfigError(f"--target {target!r} is not a resource address: use one like "
                              'notion.tasks, notion.tasks.property["Status"] or '
                              "supabase.public.tasks")


def select_targets(changes: Sequence[ChangeBase], targets: Sequence[str],
                   known: Iterable[str] | None = None) -> list[ChangeBase]:
    """Only the changes at or inside one of `targets` (Terraform's `-target`); all when empty.
    Raises ConfigError for a target that is not a resource address, or (given the `known`
    addresses, see `known_addresses`) one that names nothing, with the nearest addresses."""
    if not targets:
        return list(changes)
    check_targets(targets)
    if known is not None:
        check_targets_known(targets, set(known))
    return [c for c in changes if any(matches(c.address, t) for t in targets)]


#: Member kinds `known_addresses` lists in full; a target below a known database or table
#: naming another kind is taken on trust.
LISTED_KINDS = frozenset({"property", "option", "column", "index", "policy", "grant",
                          "constraint", "page", "row"})


def known_addresses(project: Any, reads: Mapping[str, Any], changes: Sequence[ChangeBase],
                    row_nouns: Mapping[str, str]) -> set[str]:
    """Every address a `--target` may name: the resources read (databases, tables), the
    changes, the declared properties, options, columns, indexes, policies, grants and
    constraints, and the live rows of each content set (`row_nouns`: backend root → `page` /
    `row`)."""
    known = {a.removesuffix(".content") for live in reads.values() for a in live.fingerprints}
    known |= {c.address for c in changes}
    for db in getattr(getattr(project, "notion", None), "databases", ()):
        known.add(f"notion.{db.name}")
        for prop in db.properties:
            known.add(notion_property(db.name, prop.name))
            known |= {notion_option(db.name, prop.name, o.name) for o in prop.options}
    for table in getattr(project, "supabase", None) or ():
        known.add(table.address)
        members = [("column", c.name) for c in table.columns] + \
            [("index", i.name) for i in table.indexes] + \
            [("policy", p.name) for p in table.policies] + \
            [("grant", g.role) for g in table.grants] + \
            [("constraint", getattr(c, "name", None))
             for c in (*table.uniques, *table.foreign_keys, *table.checks)] + \
            [("constraint", f"{table.name}_pkey")]
        known |= {member_address(table, kind, name) for kind, name in members if name}
    sets = {c.address: c for c in getattr(project, "content", ())}
    for root, live in reads.items():
        for address, rows in live.rows.items():
            name = row_namer(getattr(project, "sealer", None), address,
                             sets[address].sensitive_key if address in sets else False)
            known |= {child(address, row_nouns.get(root, "row"), name(key)) for key in rows}
    return known


def check_targets_known(targets: Sequence[str], known: set[str]) -> None:
    """Raise ConfigError for a target no known address is at or inside, naming the nearest
    ones (a did-you-mean)."""
    for target in targets:
        if any(matches(address, target) for address in known):
            continue
        head, parts = parse(target)
        if parts and ".".join(head) in known and parts[0][0] not in LISTED_KINDS:
            continue
        near = nearest(target, known)
        hint = f"; did you mean {' or '.join(near)}?" if near else \
            "; run `reconciler plan` without --target to see the addresses"
        raise ConfigError(f"--target {target}: nothing in this project has this address{hint}")


def nearest(target: str, known: set[str], n: int = 3) -> list[str]:
    """Up to `n` known addresses like `target`: when its parent is known, the siblings with
    the nearest names (`…property["Statu"]` → `…property["Status"]`); else the nearest
    addresses of the same shape."""
    head, parts = parse(target)
    shape = [kind for kind, _ in parts]
    same = sorted(a for a in known if [k for k, _ in parse(a)[1]] == shape)
    parent = target[:target.rindex(f".{parts[-1][0]}[")] if parts else None
    if parent in known:
        siblings = {parse(a)[1][-1][1]: a for a in same if a.startswith(parent + ".")}
        names = difflib.get_close_matches(parts[-1][1], sorted(siblings), n=n, cutoff=0.6)
        return [siblings[name] for name in names]
    return difflib.get_close_matches(target, same or sorted(known), n=n, cutoff=0.8)


def targeted_content(content: Mapping[str, ContentSummary], changes: Sequence[ChangeBase],
                     targets: Sequence[str]) -> dict[str, ContentSummary]:
    """The content summaries `targets` reach: a content set at or inside a target in full; one
    whose rows only some targets reach (a single row) counted again from the selected
    `changes`."""
    if not targets:
        return dict(content)
    out: dict[str, ContentSummary] = {}
    for address, summary in content.items():
        counts = Counter(c.action.value for c in changes
                         if c.phase is Phase.CONTENT and matches(c.address, address))
        if any(matches(address, t) for t in targets):
            out[address] = summary
        elif counts:
            out[address] = ContentSummary(
                key=summary.key, hash_field=summary.hash_field, create=counts["create"],
                update=counts["update"], archive=counts["archive"] + counts["delete"])
    return out


def with_steps(changes: Sequence[ChangeBase], backends: Sequence[Planner], project: Any,
               reads: Mapping[str, Any]) -> list[ChangeBase]:
    """`changes` with the previews of the steps each backend compiles them to. When several
    changes share an address (a column renamed and retyped; a primary key dropped and added
    again) and the backend compiles each into a step of its own, in order, each change gets its
    own step's previews, never its neighbours'. Raises `PlanError` when a change cannot be
    compiled."""
    shown: dict[int, dict[str, tuple]] = {}
    at: dict[str, list[int]] = {}
    for index, change in enumerate(changes):
        at.setdefault(change.address, []).append(index)
    pending = {address: list(indexes) for address, indexes in at.items()}
    for backend in backends:
        mine = [c for c in changes if c.root == backend.root]
        for step in backend.compile(mine, project, reads[backend.root]):
            for address, fields in step.previews().items():
                owners = at.get(address, [])
                if len(owners) > 1 and len(step.changes) == 1 and pending[address]:
                    owners = [pending[address].pop(0)]
                for index in owners:
                    previewed = shown.setdefault(index, {})
                    for name, items in fields.items():
                        previewed[name] = previewed.get(name, ()) + tuple(items)
    return [c.model_copy(update=shown[i]) if i in shown else c for i, c in enumerate(changes)]


def build_plan(project: Any, backends: Sequence[Planner], reads: Mapping[str, Any], *,
               only: Sequence[str] = (), prune: bool = False,
               now: datetime | None = None) -> Plan:
    """A `Plan` of every change from the live state (`reads`, by backend root) to `project`,
    sorted by (phase, address), limited to `only` addresses when given, each with the previews
    of its compiled steps. Raises `SpecError` when content values are outside what the live
    database accepts (`diff.preflight.content_problems`), before anything is diffed."""
    preflight = content_problems(getattr(project, "content", ()),
                                 getattr(reads.get("supabase"), "model", ()),
                                 getattr(project, "supabase", ()),
                                 getattr(reads.get("supabase"), "objects", None),
                                 getattr(project, "supabase_objects", None))
    if preflight:  # values the live database would refuse: before any write (diff.preflight)
        raise SpecError(preflight)
    changes: list[ChangeBase] = []
    content = {}
    fingerprints: dict[str, str] = {}
    for backend in backends:
        live = reads[backend.root]
        found = backend.diff(project, live, prune=prune)
        changes += found.changes
        content.update(found.content)
        fingerprints.update(live.fingerprints)
    synced, problems = {}, []
    for cross in CROSS_DIFFS:
        found = cross.diff(project, reads, prune=prune)
        changes += found.changes
        synced.update(found.summaries)
        problems += found.problems
    if problems:
        raise PlanError("values that cannot cross between Notion and Supabase (nothing was "
                        "written; fix them on one side):\n  " + "\n  ".join(problems))
    known = known_addresses(project, reads, changes,
                            {b.root: getattr(b, "row_noun", "row") for b in backends}) \
        if only else None
    selected, synced = targeted_sync(changes, synced, only,
                                     select_targets(changes, only, known))
    changes = sorted(selected, key=lambda c: c.sort_key)
    changes = with_steps(changes, backends, project, reads)
    key_id = None
    if needs_sealing(changes, synced):  # personal data: digests in the plan (plan.seal)
        sealer = getattr(project, "sealer", None)
        if sealer is None:
            raise PlanError("the plan holds sensitive values and the project has no digest key")
        changes, synced, key_id = seal_changes(changes, sealer), \
            seal_summaries(synced, sealer), sealer.key_id
    created = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = PlanHeader(tool_version=__version__, created_at=created,
                        spec_hash=project.spec_hash, targets=tuple(only),
                        backends={b.root: b.description for b in backends},
                        identities={b.root: dict(reads[b.root].identity) for b in backends
                                    if getattr(reads[b.root], "identity", None)},
                        fingerprints=fingerprints,
                        diagram=project_diagram(project, changes,
                                                max_chars=PLAN_DIAGRAM_CHARS) or None,
                        digest_key=key_id)
    return Plan(header=header, changes=tuple(changes),
                content=targeted_content(content, changes, only), sync=synced,
                cost=plan_cost(changes, project) if synced else None)


def plan_cost(changes: Sequence[ChangeBase], project: Any) -> PlanCost:
    """The Notion requests `changes` are sent in, and the seconds they take at the project's
    configured rate (`notion.rate_limit` requests per second). A request several changes share
    (`RequestPreview.shared_by`) is sent once, so it counts once."""
    calls = round(sum(1 / (r.shared_by or 1) for c in changes for r in c.requests))
    rate = float(getattr(getattr(project.config, "notion", None), "rate_limit", 3) or 3)
    return PlanCost(calls=calls, rate=rate, seconds=round(calls / rate, 1))


def fresh_changes(project: Any, backends: Sequence[Planner], reads: Mapping[str, Any], *,
                  prune: bool = False) -> dict[str, ChangeBase]:
    """Every change a diff of `reads` and the project's sources gives now, by address, with
    its values (unsealed): what apply opens a plan's sealed values with (`plan.seal`)."""
    changes: list[ChangeBase] = []
    for backend in backends:
        changes += backend.diff(project, reads[backend.root], prune=prune).changes
    for cross in CROSS_DIFFS:
        changes += cross.diff(project, reads, prune=prune).changes
    return {c.address: c for c in changes}


def stale_changes(changes: Sequence[ChangeBase], project: Any, reads: Mapping[str, Any]
                  ) -> dict[str, str]:
    """Address → why, for the changes a fresh read shows were overtaken (`CROSS_DIFFS`)."""
    out: dict[str, str] = {}
    for cross in CROSS_DIFFS:
        out.update(cross.stale(changes, project, reads))
    return out
