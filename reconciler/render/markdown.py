"""The pull-request report within one GitHub comment (at most 65,536 characters).

`plan.md.j2` renders the report in parts (macros); this module puts them together within
`MAX_CHARS`, in this order of priority:

1. the head (summary, targeting, what needs attention, lint, content, sync, schema lag). Every
   destructive change, manual step and conflict is named there: each in full while the head
   takes at most half the room; else sync conflicts grouped per table, field and resolution
   with their row ids, then destructive changes compacted too, one line per resource
   (`property "A", "B", …`); only when even that would crowd out the closing lines are names cut, each
   cut saying how many are left and that `reconciler show FILE` lists them;
2. the first change of each schema group (a resource's first look);
3. the schema diagram, when the room left holds it (with room for the closing line), else a
   note saying `reconciler graph` prints it: the diagram comes before per-row listings, which
   the content table already counts;
4. each group's first `FIRST_SHOWN` changes, then the rest, in group order; a change the
   head already names in full (a destructive one) comes last in its group, so repetition is
   what goes first;
5. a closing line saying how many changes are left out and in which resources (named with
   their counts while they fit, else counted per backend), and the foot. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import jinja2

#: GitHub's limit on a pull-request comment, in characters.
GITHUB_COMMENT_LIMIT = 65_536
#: The report's own limit: GitHub's, less room for what a bot may put around it.
MAX_CHARS = 60_000
#: Groups shown open: at most this many changes, in a plan of at most `OPEN_TOTAL`.
OPEN_GROUP, OPEN_TOTAL = 30, 60
#: Room kept for the list of resources whose changes are left out, in characters.
REST_ROOM = 6_000
#: Room kept for the note that the schema diagram does not fit, in characters.
NOTE_ROOM = 300
#: Changes of each group shown before any group is shown in full.
FIRST_SHOWN = 3


def _largest(fits: Callable[[int], bool], most: int) -> int:
    """The largest k in [0, most] with `fits(k)` (`fits` is monotone: true up to some k)."""
    low, high = 0, most
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def _rest(groups: list[dict[str, Any]], hidden: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The groups of the `hidden` changes, counted by action, in group order."""
    left = {id(c) for c in hidden}
    out = []
    for group in groups:
        mine = [c for c in group["changes"] if id(c) in left]
        if mine:
            counts = Counter(c["action"] for c in mine)
            out.append({"resource": group["resource"], "rows": group["rows"], "n": len(mine),
                        "counts": [{"action": a, "n": n} for a, n in counts.items()]})
    return out


def _rest_by_root(rest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resources left out of the closing line, counted per backend (`notion`, `supabase`):
    `[{"root", "resources", "changes"}]`."""
    roots: dict[str, list[int]] = {}
    for g in rest:
        count = roots.setdefault(g["resource"].split(".")[0], [0, 0])
        count[0] += 1
        count[1] += g["n"]
    return [{"root": r, "resources": n, "changes": c} for r, (n, c) in roots.items()]


def _name(address: str, resource: str) -> tuple[str, str]:
    """An address inside `resource` as (kind, name): `property["A"]` → (`property`, `"A"`)."""
    inner = address[len(resource) + 1:] if address.startswith(resource + ".") else address
    kind, bracket, rest = inner.partition("[")
    if bracket and rest.endswith("]") and "[" not in rest:
        return kind, rest[:-1]
    return "", inner


def _compact(changes: list[dict[str, Any]], cap: int | None) -> list[dict[str, Any]]:
    """Destructive changes in one line per resource and action: `{"resource", "action", "n",
    "names": 'property "A", "B"', "more", "rows"}`; at most `cap` names per line (all: None)."""
    from reconciler.render.view import resource_of

    lines: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for change in changes:
        resource = resource_of(change["address"])
        key = ("", change["action"]) if resource == change["address"] else \
            (resource, change["action"])
        lines.setdefault(key, []).append(change)
    out = []
    for (resource, action), items in lines.items():
        shown = items if cap is None else items[:cap]
        kinds: dict[str, list[str]] = {}
        for change in shown:
            kind, name = _name(change["address"], resource) if resource else ("", change["address"])
            kinds.setdefault(kind, []).append(name)
        names = "; ".join((f"{kind} " if kind else "") + ", ".join(ns) for kind, ns in kinds.items())
        held = [c["rows_affected"] for c in items if c["rows_affected"] is not None]
        out.append({"resource": resource, "action": action, "n": len(items), "names": names,
                    "more": len(items) - len(shown), "rows": sum(held) if held else None})
    return out


def _grouped_conflicts(conflicts: list[dict[str, Any]], cap: int | None) -> list[dict[str, Any]]:
    """Sync conflicts per table, field and resolution: `{"table", "field", "resolution", "n",
    "rows": [row ids], "more"}`, at most `cap` row ids each (all: None)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for c in conflicts:
        groups.setdefault((c["table"], c["field"], c["resolution"]), []).append(str(c["row"]))
    return [{"table": t, "field": f, "resolution": r, "n": len(rows),
             "rows": rows if cap is None else rows[:cap],
             "more": 0 if cap is None else max(0, len(rows) - cap)}
            for (t, f, r), rows in groups.items()]


def _head(macros: Any, plan: dict[str, Any], compact: bool, grouped: bool,
          cap: int | None, full: int | None = None) -> str:
    """The head at one level of detail: destructive changes `compact`, sync conflicts
    `grouped`, at most `cap` names per line or table, at most `full` changes in full."""
    attention = plan["attention"]
    listed = [c for c in attention if not (compact and c["destructive"])]
    shown = listed if full is None else listed[:full]
    destructive = _compact([c for c in attention if c["destructive"]], cap) if compact else []
    sync = plan["sync"]
    conflicts = _grouped_conflicts(sync["conflicts"], cap) if sync and grouped else None
    return str(macros.head(plan, shown, len(listed) - len(shown), destructive, conflicts, cap))


def _head_within(macros: Any, plan: dict[str, Any], half: int, most: int) -> str:
    """The most detailed head within `half` characters, else the most detailed one naming
    everything within `most`, else the least cut one within `most`."""
    levels = ((False, False), (False, True), (True, True))
    for compact, grouped in levels:
        text = _head(macros, plan, compact, grouped, None)
        if len(text) <= half:
            return text
    for compact, grouped in levels[1:]:
        text = _head(macros, plan, compact, grouped, None)
        if len(text) <= most:
            return text
    names = max([len(plan["attention"]), len(plan["lint"])]
                + [len(t["unlinks"]) for t in (plan["sync"] or {}).get("tables", [])]
                + [len((plan["sync"] or {}).get("conflicts", []))])
    cap = _largest(lambda k: len(_head(macros, plan, True, True, k)) <= most, names)
    text = _head(macros, plan, True, True, cap)
    if len(text) <= most:
        return text
    full = _largest(lambda k: len(_head(macros, plan, True, True, 0, k)) <= most,
                    len(plan["attention"]))
    return _head(macros, plan, True, True, 0, full)


def render_markdown(env: jinja2.Environment, plan: dict[str, Any],
                    max_chars: int = MAX_CHARS) -> str:
    """The report of the plan view `plan` (`render.view.plan_view`), at most `max_chars` long
    whatever the plan's size."""
    macros: Any = env.get_template("plan.md.j2").module
    foot = str(macros.foot(plan))
    note = NOTE_ROOM if plan["header"].get("diagram") else 0
    head = _head_within(macros, plan, max_chars // 2,
                        max_chars - len(foot) - REST_ROOM - note)
    named = {id(c) for c in plan["attention"] if c["destructive"]}
    groups = [dict(g, changes=[c for c in g["changes"] if id(c) not in named]
                   + [c for c in g["changes"] if id(c) in named]) for g in plan["groups"]]

    def text(i: int, k: int) -> str:
        changes = groups[i]["changes"]
        is_open = len(changes) <= OPEN_GROUP and plan["total"] <= OPEN_TOTAL
        more = changes[k:]
        return str(macros.group(groups[i], is_open, changes[:k], len(more),
                                sum(1 for c in more if id(c) in named)))

    room = max_chars - len(head) - len(foot) - REST_ROOM - note
    counts = [0] * len(groups)
    diagram = str(macros.diagram(plan, True)) if plan["header"].get("diagram") else ""
    has_diagram = False

    def show(wanted: Callable[[dict[str, Any]], int]) -> None:
        nonlocal room
        for i, group in enumerate(groups):
            most = min(wanted(group), len(group["changes"]))
            if most <= counts[i]:
                continue
            was = len(text(i, counts[i])) if counts[i] else 0
            k = _largest(lambda k: k <= counts[i] or len(text(i, k)) - was <= room, most)
            if k > counts[i]:
                room -= len(text(i, k)) - was
                counts[i] = k
            if k < most:
                return

    unnamed = lambda g: sum(1 for c in g["changes"] if id(c) not in named)  # noqa: E731
    show(lambda g: 0 if g["rows"] else min(1, unnamed(g)))
    if diagram and len(diagram) - note <= room:
        room -= len(diagram) - note
        has_diagram = True
    show(lambda g: min(FIRST_SHOWN, unnamed(g)))
    show(unnamed)
    show(lambda g: len(g["changes"]))
    parts = [head] + [text(i, k) for i, k in enumerate(counts) if k]
    hidden = [c for g, k in zip(groups, counts) for c in g["changes"][k:]]
    if hidden:
        rest = _rest(groups, hidden)
        room = max_chars - sum(len(p) for p in parts) - len(foot) - \
            (len(diagram) if has_diagram else note)

        def cut(n: int) -> str:
            return str(macros.cut(len(hidden), sum(1 for c in hidden if id(c) in named),
                                  rest[:n], _rest_by_root(rest[n:])))

        parts.append(cut(_largest(lambda n: len(cut(n)) <= room, len(rest))))
    if plan["header"].get("diagram"):  # the schema diagram, else a note (issue 17)
        parts.append(diagram if has_diagram else str(macros.diagram(plan, False)))
    return "".join(parts) + foot
