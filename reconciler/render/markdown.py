"""The pull-request report within one GitHub comment (at most 65,536 characters).

`plan.md.j2` renders the report in parts (macros); this module puts them together within
`MAX_CHARS`: the head (summary, target, what needs attention, content, schema lag) always,
shortening only the attention list if it alone would take more than half the room; then the
groups of changes, in order: first each group's first `FIRST_SHOWN` changes while they fit
(so every resource gets a look before any is shown in full), then as many more of each group,
in order, as the room left holds; then a line saying how many changes are left out and which
resources they are in (as many as fit); then the schema diagram when the room left holds it,
else a note saying `reconciler graph` prints it; then the foot. Pure.
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
            out.append({"resource": group["resource"], "rows": group["rows"],
                        "counts": [{"action": a, "n": n} for a, n in counts.items()]})
    return out


def render_markdown(env: jinja2.Environment, plan: dict[str, Any],
                    max_chars: int = MAX_CHARS) -> str:
    """The report of the plan view `plan` (`render.view.plan_view`), at most `max_chars` long
    whatever the plan's size."""
    macros: Any = env.get_template("plan.md.j2").module
    attention = plan["attention"]

    def head(k: int) -> str:
        return str(macros.head(plan, attention[:k], len(attention) - k))

    shown = _largest(lambda k: len(head(k)) <= max_chars // 2, len(attention))
    parts = [head(shown)]
    foot = str(macros.foot(plan))
    groups = plan["groups"]

    def text(i: int, k: int) -> str:
        changes = groups[i]["changes"]
        is_open = len(changes) <= OPEN_GROUP and plan["total"] <= OPEN_TOTAL
        return str(macros.group(groups[i], is_open, changes[:k], len(changes) - k))

    room = max_chars - len(parts[0]) - len(foot) - REST_ROOM
    counts = [0] * len(groups)
    for wanted in (FIRST_SHOWN, None):
        for i, group in enumerate(groups):
            most = len(group["changes"]) if wanted is None else min(wanted, len(group["changes"]))
            if most <= counts[i]:
                continue
            was = len(text(i, counts[i])) if counts[i] else 0
            k = _largest(lambda k: k <= counts[i] or len(text(i, k)) - was <= room, most)
            if k > counts[i]:
                room -= len(text(i, k)) - was
                counts[i] = k
            if k < most:
                break
    parts += [text(i, k) for i, k in enumerate(counts) if k]
    hidden = [c for g, k in zip(groups, counts) for c in g["changes"][k:]]
    if hidden:
        rest = _rest(groups, hidden)
        room = max_chars - sum(len(p) for p in parts) - len(foot)
        n = _largest(lambda n: len(str(macros.cut(len(hidden), rest[:n], len(rest) - n))) <= room,
                     len(rest))
        parts.append(str(macros.cut(len(hidden), rest[:n], len(rest) - n)))
    room = max_chars - sum(len(p) for p in parts) - len(foot)
    for fits in (True, False):  # the schema diagram in the room left, else a note (issue 17)
        diagram = str(macros.diagram(plan, fits))
        if len(diagram) <= room:
            parts.append(diagram)
            break
    return "".join(parts) + foot
