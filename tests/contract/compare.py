"""Comparing two recordings of one flow: the committed cassette (Notion's answers) and a fresh
recording of the same flow against the local Notion.

The two runs hand out different ids. As `shared/tools/notion-replay.py` does, a recorded id is
mapped to the id the local run holds at the same place of a paired request or response; property
ids (short strings, not UUIDs) are mapped by property name from paired data sources. Each local
request is paired with the first unpaired recorded one that is the same after mapping; failing
that, with the first of the same method, route and body shape (ids and property-id keys
masked); failing that, of the same method and route. Page writes run a few at a time, so their
order differs between runs; their bodies tell them apart.

For each pair: the HTTP status must be the same, and so must the response's key paths (lists
collapsed to `[*]`), both ways: a key Notion sent that the local Notion lacks, or one the local
Notion invents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from .cassettes import Interaction, canonical_body

UUID = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}"
                  r"(?![0-9a-fA-F])")
NEW = "{new}"


def key_paths(obj: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value, lists collapsed to `[*]` (notion-replay.py `paths`)."""
    out: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.add(f"{prefix}.{key}")
            out |= key_paths(value, f"{prefix}.{key}")
    elif isinstance(obj, list):
        for value in obj:
            out |= key_paths(value, prefix + "[*]")
    return out


def _bare(uuid: str) -> str:
    return uuid.replace("-", "").lower()


class IdMap:
    """Recorded ids → local ids (bare UUIDs), and recorded property ids → local property ids."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.props: dict[str, str] = {}

    def learn(self, rec: Any, loc: Any) -> None:
        """Pair the ids found at the same places of two JSON values."""
        if isinstance(rec, dict) and isinstance(loc, dict):
            if isinstance(rec.get("properties"), dict) and isinstance(loc.get("properties"), dict):
                for name, schema in rec["properties"].items():
                    mine = loc["properties"].get(name)
                    if isinstance(schema, dict) and isinstance(mine, dict) \
                            and isinstance(schema.get("id"), str) and isinstance(mine.get("id"), str):
                        self.props.setdefault(unquote(schema["id"]), unquote(mine["id"]))
            for key in rec.keys() & loc.keys():
                self.learn(rec[key], loc[key])
        elif isinstance(rec, list) and isinstance(loc, list):
            for a, b in zip(rec, loc):
                self.learn(a, b)
        elif isinstance(rec, str) and isinstance(loc, str):
            for a, b in zip(UUID.findall(rec), UUID.findall(loc)):
                self.ids.setdefault(_bare(a), _bare(b))

    def learn_pair(self, rec: Interaction, loc: Interaction) -> None:
        self.learn(urlsplit(rec.uri).path, urlsplit(loc.uri).path)
        self.learn(rec.request, loc.request)
        self.learn(rec.response, loc.response)


def _route(path: str) -> str:
    return UUID.sub("{id}", urlsplit(path).path)


def _signature(item: Interaction, uuid: Callable[[str], str], prop: Callable[[str], str]) -> str:
    """Method, path and body with every UUID passed through `uuid` and every key of a
    `properties` object (a property name or id) through `prop`."""
    def walk(obj: Any, keys_are_properties: bool = False) -> Any:
        if isinstance(obj, dict):
            return {(prop(k) if keys_are_properties else k): walk(v, k == "properties")
                    for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        if isinstance(obj, str):
            return UUID.sub(lambda m: uuid(m.group(0)), obj)
        return obj

    body = walk(canonical_body(json.dumps(item.request)) if item.request is not None else None)
    return f"{item.method} {UUID.sub(lambda m: uuid(m.group(0)), item.path)} " + \
        json.dumps(body, sort_keys=True)


def _pair(loc: Interaction, unpaired: list[Interaction], ids: IdMap) -> Interaction | None:
    known_local = set(ids.ids.values())
    levels = [  # (recorded side's uuid, its property ids; local side's uuid, its property ids)
        (lambda u: ids.ids.get(_bare(u), NEW), lambda p: ids.props.get(unquote(p), unquote(p)),
         lambda u: _bare(u) if _bare(u) in known_local else NEW, unquote),
        (lambda u: "{id}", lambda p: "{p}", lambda u: "{id}", lambda p: "{p}"),
    ]
    for rec_id, rec_prop, loc_id, loc_prop in levels:
        want = _signature(loc, loc_id, loc_prop)
        for rec in unpaired:
            if rec.method == loc.method and _route(rec.path) == _route(loc.path) \
                    and _signature(rec, rec_id, rec_prop) == want:
                return rec
    return next((r for r in unpaired if r.method == loc.method and _route(r.path) == _route(loc.path)),
                None)


def compare(recorded: list[Interaction], local: list[Interaction],
            tolerated: dict[str, str] | None = None) -> list[str]:
    """Where the local run differs from the recorded one: requests only one side sent, statuses
    that differ, response key paths one side lacks (less those matching a `tolerated` pattern,
    a regex → the documented reason). An empty list when they agree."""
    tolerated = tolerated or {}
    ids = IdMap()
    unpaired = list(recorded)
    problems: list[str] = []
    for loc in local:
        rec = _pair(loc, unpaired, ids)
        where = f"{loc.method} {_route(loc.path)}"
        if rec is None:
            problems.append(f"local #{loc.index} {where}: the recording has no such request")
            continue
        unpaired.remove(rec)
        ids.learn_pair(rec, loc)
        where = f"recorded #{rec.index} {where}"
        if rec.status != loc.status:
            problems.append(f"{where}: status {loc.status}, recorded {rec.status}")
            continue
        ours, theirs = key_paths(loc.response), key_paths(rec.response)
        for label, paths in (("lacks", theirs - ours), ("adds", ours - theirs)):
            paths = sorted(p for p in paths if not any(re.search(t, p) for t in tolerated))
            if paths:
                problems.append(f"{where}: the local Notion {label} {', '.join(paths[:6])}"
                                + (f" (+{len(paths) - 6})" if len(paths) > 6 else ""))
    problems += [f"recorded #{r.index} {r.method} {_route(r.path)}: the local run never sent it"
                 for r in unpaired]
    return problems
