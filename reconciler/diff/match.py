"""Matching desired and live members of a keyed collection, once, for every backend.

Order of evidence (STYLE.md §8 rule 5): a stable id, then a backend-specific rule, then the
same name, then a declared former name (`renamed_from`). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

D = TypeVar("D")
L = TypeVar("L")


@dataclass(frozen=True)
class Matching(Generic[D, L]):
    """Pairs `(desired, live)`, desired members with no live peer, live members with no desired."""

    pairs: list[tuple[D, L]]
    added: list[D]
    removed: list[L]


def match(
    desired: Sequence[D],
    live: Sequence[L],
    *,
    name: Callable[[D | L], str],
    former_names: Callable[[D], Sequence[str]] = lambda d: (),
    ident: Callable[[D | L], str | None] = lambda x: None,
    special: Callable[[D, L], bool] = lambda d, l: False,
) -> Matching[D, L]:
    """Match `desired` with `live`: by `ident` (both not None and equal), then `special(d, l)`,
    then equal `name`, then a `former_names(d)` equal to a live name. Each live member is used once."""
    free = list(live)
    pairs: list[tuple[D, L]] = []
    pending = list(desired)
    rules: list[Callable[[D, L], bool]] = [
        lambda d, l: ident(d) is not None and ident(d) == ident(l),
        special,
        lambda d, l: name(d) == name(l),
        lambda d, l: name(l) in former_names(d),
    ]
    for rule in rules:
        still = []
        for d in pending:
            peer = next((l for l in free if rule(d, l)), None)
            if peer is None:
                still.append(d)
            else:
                free.remove(peer)
                pairs.append((d, peer))
        pending = still
    order = {id(d): i for i, d in enumerate(desired)}
    pairs.sort(key=lambda p: order[id(p[0])])
    return Matching(pairs, pending, free)
