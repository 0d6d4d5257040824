"""Fixtures for the local Notion tests: an in-process notion-client on a fresh workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.local import local_client, root_page_id


@pytest.fixture
def notion(tmp_path: Path):
    """The real notion-client talking to a fresh local Notion under ``tmp_path`` (retries off)."""
    client = local_client(tmp_path / "notion", retry=False)
    yield client
    client.close()


@pytest.fixture
def root(notion) -> str:
    """Id of the workspace-level root page."""
    return root_page_id(notion)

