"""Fixtures of the spec tests: small projects written into tmp_path, and the bundled one."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.conftest import write_files

REPO = Path(__file__).resolve().parents[2]

#: A minimal valid database file; cases replace or add files next to it.
TASKS = "title: Tasks\nproperties:\n  Name: {type: title}\n"




@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[Mapping[str, str]], Path]:
    """Factory: `make_project({"schemas/notion/tasks.yaml": "..."})` → the project root."""
    def make(files: Mapping[str, str]) -> Path:
        return write_files(tmp_path / "ws", files)
    return make


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """A copy of the repository's bundled project (reconciler.yaml + schemas/ + content/)."""
    root = tmp_path / "bundled"
    root.mkdir()
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(REPO / "content", root / "content")  # sources of the content: sections
    return root


@pytest.fixture
def repo() -> Path:
    """The repository root, which holds the bundled project."""
    return REPO


@pytest.fixture
def listing() -> Callable[[Path], list[tuple[str, int, int]]]:
    """`listing(root)`: every path under root with size and mtime, to prove nothing was written."""
    def snapshot(root: Path) -> list[tuple[str, int, int]]:
        return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                      for p in root.rglob("*"))
    return snapshot
