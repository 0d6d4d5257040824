"""Fixtures of the content tests: small projects with a `content:` section, written into tmp."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.conftest import write_files



@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """`make_project({path: text})` → root of a fresh project holding those files."""
    counter = iter(range(1000))

    def make(files: Mapping[str, str]) -> Path:
        return write_files(tmp_path / f"ws{next(counter)}", files)
    return make


@pytest.fixture
def listing() -> Callable[[Path], list[tuple[str, int, int]]]:
    """Every path under a root with size and mtime, to prove nothing was written."""
    def snapshot(root: Path) -> list[tuple[str, int, int]]:
        return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                      for p in root.rglob("*") if "__pycache__" not in p.parts)
    return snapshot
