"""Fixtures for the resilience tests: a fake clock (so waits cost no real time), a local Notion
project with one database, and targets opened through `open_notion` with injected faults."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.backends.notion.client import LOCAL_DIR, NotionConnection, open_notion
from reconciler.backends.notion.resilience import RetryPolicy
from reconciler.local import local_client, root_page_id


class FakeClock:
    """Monotonic seconds that only move when `sleep` is called (or `advance` is False: never).
    Records every sleep. Thread-safe."""

    def __init__(self, advance: bool = True):
        self.now = 1000.0
        self.advance = advance
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.advance:
                self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def project(tmp_path: Path) -> dict[str, str]:
    """A local Notion under `tmp_path/.reconciler/notion` with a database "Items" (title "Name");
    returns {"root", "database", "data_source"} ids. Made without faults, then closed."""
    client = local_client(tmp_path / LOCAL_DIR, retry=False)
    root = root_page_id(client)
    db = client.databases.create(parent={"type": "page_id", "page_id": root},
                                 title=[{"type": "text", "text": {"content": "Items"}}],
                                 initial_data_source={"properties": {"Name": {"title": {}}}})
    client.close()
    return {"root": root, "database": db["id"], "data_source": db["data_sources"][0]["id"]}


OpenFaulty = Callable[..., NotionConnection]


@pytest.fixture
def open_faulty(tmp_path: Path, project: dict[str, str], clock: FakeClock) -> Iterator[OpenFaulty]:
    """`open_faulty(spec, **policy)`: `open_notion` on the project with `RECONCILER_FAULTS=spec`,
    the fake clock, a seeded jitter RNG and `RetryPolicy(**policy)`."""
    opened: list[NotionConnection] = []

    def make(spec: str, rate: float = 1000.0, **policy: float) -> NotionConnection:
        env = {"RECONCILER_FAULTS": spec, "NOTION_RATE_LIMIT": str(rate)}
        target = open_notion(tmp_path, env, policy=RetryPolicy(**policy), clock=clock, sleep=clock.sleep,
                             rng=random.Random(1))
        opened.append(target)
        return target

    yield make
    for target in opened:
        target.client.close()


def new_row(ds_id: str, key: str) -> dict:
    """Body of `pages.create` for a row titled `key` in data source `ds_id`."""
    return {"parent": {"type": "data_source_id", "data_source_id": ds_id},
            "properties": {"Name": {"title": [{"type": "text", "text": {"content": key}}]}}}


def rows_titled(client, ds_id: str, key: str) -> list[dict]:
    """The rows of `ds_id` whose title is `key` (the check a caller makes after MaybeCommittedError)."""
    res = client.data_sources.query(ds_id, filter={"property": "Name", "title": {"equals": key}})
    return res["results"]


@pytest.fixture
def rows():
    """Helpers: `rows.new(ds_id, key)` (a create body), `rows.titled(client, ds_id, key)`."""
    from types import SimpleNamespace

    return SimpleNamespace(new=new_row, titled=rows_titled)


@pytest.fixture
def still_clock() -> FakeClock:
    """A fake clock whose sleeps are recorded but never move time (to see reserved slots)."""
    return FakeClock(advance=False)
