"""Fixtures for the Notion backend converters: the real recorded Notion traffic.

The recordings are vendored in `tests/recordings/` (a byte-for-byte copy of the team's
`shared/notion-recordings/`; see its README for sources, commits and licences) and parsed once
per run by the `cassettes` fixture of `tests/conftest.py`: vcrpy YAML cassettes in two formats —
ramnes/notion-sdk-py keeps the JSON text in `response.body.string`, ultimate-notion in
`response.content`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

UN = "ultimate-notion__ultimate-notion/tests/cassettes"


@dataclass(frozen=True)
class Recorded:
    """One JSON object found in a recorded response body."""

    file: str  # path relative to the recordings folder
    interaction: int  # index in the cassette's `interactions`
    obj: dict[str, Any]


def response_text(interaction: dict) -> str | None:
    """The response body text of one interaction, in either cassette format."""
    response = interaction.get("response") or {}
    text = response.get("content")
    if text is None:
        text = (response.get("body") or {}).get("string")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return text


def response_json(interaction: dict) -> Any:
    """The response body as JSON, `None` when it is empty or not JSON (e.g. a non-Notion host)."""
    text = response_text(interaction)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def request_json(interaction: dict) -> Any:
    body = (interaction.get("request") or {}).get("body")
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return json.loads(body) if body else None


def walk(obj: Any) -> Iterator[dict]:
    """Every dict inside `obj` (itself included), depth first, so list results are reached too."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from walk(value)


@pytest.fixture(scope="session")
def recorded_objects(cassettes: dict[str, list[dict]]) -> list[Recorded]:
    """Every JSON object with an `object` field in every recorded response body."""
    found = []
    for file, interactions in cassettes.items():
        for index, interaction in enumerate(interactions):
            for obj in walk(response_json(interaction)):
                if "object" in obj:
                    found.append(Recorded(file, index, obj))
    return found


@pytest.fixture
def cassette(cassettes: dict[str, list[dict]]):
    """`cassette("fixtures/mod_all_props_db.yaml")`: an ultimate-notion cassette's interactions."""
    def get(relative: str, *, base: str = UN) -> list[dict]:
        return cassettes[f"{base}/{relative}"]
    return get
