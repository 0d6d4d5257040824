"""The shapes in the cassettes against the real recorded Notion sessions (tests/recordings/, a
copy of shared/notion-recordings/: vcrpy cassettes recorded against api.notion.com with
Notion-Version 2025-09-03 by notion-sdk-py and ultimate-notion; see their README).

While the cassettes come from `local serve`, this is what ties them to Notion: every object in
them (page, database, data source, list, block, user), every property schema and every page
property value of each type, has the keys Notion sends for that kind of thing: none missing that
every real one has, none that no real one has. Kinds the real recordings never show are
counted and skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from .cassettes import CASSETTES, load, recordings_dir

KINDS = ("page", "database", "data_source", "list", "block", "user", "error")


def _walk(obj: Any) -> Iterator[dict]:
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from _walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _walk(value)


def _item_kind(item: Any) -> str:
    return item.get("type", "") if isinstance(item, dict) else type(item).__name__


def shapes(response: Any) -> Iterator[tuple[str, frozenset[str]]]:
    """(kind, key set) of everything in a response worth comparing: objects by `object`,
    property schemas and their configuration by type, page values, their inner objects and
    their list items (rich text by item type) by type."""
    for obj in _walk(response):
        kind = obj.get("object")
        if kind not in KINDS:
            continue
        yield kind, frozenset(obj)
        for prop in (obj.get("properties") or {}).values() if kind in ("data_source", "page") else ():
            if not isinstance(prop, dict) or "type" not in prop:
                continue
            where = f"{'schema' if kind == 'data_source' else 'value'} {prop['type']}"
            yield where, frozenset(prop)
            inner = prop.get(prop["type"])
            if isinstance(inner, dict):
                yield f"{where}.{prop['type']}", frozenset(inner)
            elif isinstance(inner, list):
                for item in inner:
                    if isinstance(item, dict):
                        yield f"{where}[{_item_kind(item)}]", frozenset(item)


@pytest.fixture(scope="module")
def reference() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per kind: (keys every real one has, keys some real one has)."""
    folder = recordings_dir()
    seen: dict[str, list[frozenset[str]]] = defaultdict(list)
    for path in sorted(folder.rglob("*.yaml")):
        for item in load(path):
            if "notion.com" in item.uri:
                for kind, keys in shapes(item.response):
                    seen[kind].append(keys)
    return {kind: (frozenset.intersection(*sets), frozenset.union(*sets)) for kind, sets in seen.items()}


@pytest.mark.parametrize("cassette", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassette_objects_have_the_keys_notion_sends(cassette, reference) -> None:
    problems, compared, unknown = [], 0, set()
    for item in load(cassette):
        for kind, keys in shapes(item.response):
            if kind not in reference:
                unknown.add(kind)
                continue
            compared += 1
            always, ever = reference[kind]
            if always - keys or keys - ever:
                problems.append(f"#{item.index} {item.method} {item.path.split('?')[0]} {kind}: "
                                f"lacks {sorted(always - keys)}, adds {sorted(keys - ever)}")
    print(f"{cassette.name}: {compared} shapes compared; kinds no real recording shows: {sorted(unknown)}")
    assert compared > 50
    assert not problems, "\n".join(dict.fromkeys(problems))
