"""Logical names (file stems, `[a-z][a-z0-9_]*`) from Notion titles and Postgres names. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from reconciler.project.loader import LOGICAL_NAME

#: Longest logical name written (file systems take more; addresses stay readable).
MAX_NAME = 60


def slug(text: str, *, fallback: str = "database") -> str:
    """`text` as a logical name: accents dropped, lower case, runs of other characters as `_`,
    a leading digit prefixed (`2024 Plan` → `db_2024_plan`); `fallback` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:MAX_NAME].strip("_")
    if not name:
        return fallback
    return name if name[0].isalpha() else f"db_{name}"


def unique_name(wanted: str, taken: Iterable[str]) -> str:
    """`wanted`, or `wanted_2`, `wanted_3`… the first one not in `taken`."""
    used = set(taken)
    if wanted not in used:
        return wanted
    n = 2
    while f"{wanted}_{n}" in used:
        n += 1
    return f"{wanted}_{n}"


def is_logical_name(name: str) -> bool:
    return bool(LOGICAL_NAME.match(name))
