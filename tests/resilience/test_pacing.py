"""Pacing: the token bucket, the rate limit's sources, and what `open_notion` wires up."""

from __future__ import annotations

import threading
import time

import pytest

from reconciler.backends.notion.client import open_notion
from reconciler.backends.notion.resilience import DEFAULT_RATE_LIMIT, TokenBucket, rate_limit_from
from reconciler.errors import ConfigError
from reconciler.local import make_server
from tests.conftest import serving


@pytest.fixture
def remote(tmp_path, project):
    """The project's local Notion served over real HTTP (a remote-like target); yields its URL."""
    with serving(make_server(tmp_path / ".reconciler" / "notion", "127.0.0.1", 0)) as url:
        yield url


def test_30_requests_at_rate_10_take_at_least_2_9_seconds(tmp_path, remote, clock):
    target = open_notion(tmp_path, {"NOTION_TOKEN": "t", "NOTION_BASE_URL": remote, "NOTION_RATE_LIMIT": "10"},
                         rate_limit=3, clock=clock, sleep=clock.sleep)
    assert target.bucket is not None and target.bucket.rate == 10
    start = clock()
    for _ in range(30):
        target.client.users.me()
    assert clock() - start == pytest.approx(2.9)
    assert target.stats.requests == 30 and target.stats.attempts == 30
    target.client.close()


def test_bucket_spaces_starts_and_allows_a_small_burst_after_idle(clock):
    bucket = TokenBucket(10, burst=3, clock=clock, sleep=clock.sleep)
    slots = [bucket.acquire() - 1000.0 for _ in range(4)]
    assert slots == pytest.approx([0.0, 0.1, 0.2, 0.3])
    clock.now += 5                                   # idle: the bucket refills up to `burst`
    t = clock()
    slots = [bucket.acquire() - t for _ in range(5)]
    assert slots == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_threads_share_the_bucket(still_clock):
    clock = still_clock                              # sleeps are recorded, time stands still
    bucket = TokenBucket(10, burst=1, clock=clock, sleep=clock.sleep)
    slots: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(10):
            slot = bucket.acquire()
            with lock:
                slots.append(round(slot - 1000.0, 6))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(slots) == [round(i * 0.1, 6) for i in range(40)]


def test_threads_share_the_bucket_in_real_time():
    bucket = TokenBucket(100, burst=1)
    start = time.monotonic()
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - start >= 0.38


def test_pause_holds_every_thread_then_resumes_at_rate(clock):
    bucket = TokenBucket(10, burst=3, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.pause(5)
    t = clock()
    slots = [bucket.acquire() - t for _ in range(3)]
    assert slots == pytest.approx([5.0, 5.1, 5.2])


def test_a_pause_during_a_wait_moves_the_reserved_slot(clock):
    bucket = TokenBucket(1, burst=1, clock=clock, sleep=None)  # type: ignore[arg-type]

    def sleep(seconds: float) -> None:               # a 429 arrives on another thread meanwhile
        clock.sleep(seconds)
        if len(clock.sleeps) == 1:
            bucket.pause(10)

    bucket._sleep = sleep
    bucket.acquire()                                  # t=0
    slot = bucket.acquire()                           # reserved t=1, paused at t=1 until t=11
    assert slot - 1000.0 == pytest.approx(11.0)


def test_rate_limit_sources():
    assert rate_limit_from({}) == DEFAULT_RATE_LIMIT == 3
    assert rate_limit_from({}, 5) == 5
    assert rate_limit_from({"NOTION_RATE_LIMIT": "2.5"}, 5) == 2.5
    for bad in ("0", "-1", "fast", "inf"):
        with pytest.raises(ConfigError):
            rate_limit_from({"NOTION_RATE_LIMIT": bad})


def test_local_target_is_unpaced_unless_faults_are_injected(tmp_path):
    plain = open_notion(tmp_path, {})
    assert plain.local and plain.bucket is None
    faulty = open_notion(tmp_path, {"RECONCILER_FAULTS": "429=0.1", "NOTION_RATE_LIMIT": "7"})
    assert faulty.bucket is not None and faulty.bucket.rate == 7
    assert "faults" in faulty.description
    with pytest.raises(ConfigError):
        open_notion(tmp_path, {"RECONCILER_FAULTS": "explode=1"})
    plain.client.close()
    faulty.client.close()


def test_notion_clients_own_retry_is_off(tmp_path, remote):
    target = open_notion(tmp_path, {"NOTION_TOKEN": "t", "NOTION_BASE_URL": remote})
    assert target.client._max_retries == 0
    local = open_notion(tmp_path, {})
    assert local.client._max_retries == 0
    target.client.close()
    local.client.close()
