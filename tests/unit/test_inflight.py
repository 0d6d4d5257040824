"""Page writes in flight: sized from the rate and the measured latency (Little's law)."""

from __future__ import annotations

import threading

import pytest

from reconciler.backends.notion.inflight import CEILING, FLOOR, InFlight, needed


@pytest.mark.parametrize("rate, latency, expected", [
    (None, 2.0, FLOOR),        # unpaced: a fixed few
    (3.0, None, FLOOR),        # nothing measured yet
    (3.0, 0.3, FLOOR),         # near server: the floor is plenty
    (3.0, 1.0, FLOOR),         # 3 + 1
    (3.0, 2.0, 7),             # 6 + 1: the budget stays busy at 2 s per write
    (3.0, 60.0, CEILING),
])
def test_enough_in_flight_to_fill_the_rate_budget(rate, latency, expected):
    assert needed(rate, latency) == expected


def test_the_gate_measures_latency_and_never_lets_more_than_the_limit_run():
    now = [0.0]
    gate = InFlight(3.0, clock=lambda: now[0])
    for _ in range(5):  # five writes of 2 s each
        with gate:
            now[0] += 2.0
    assert gate.limit == 7
    running, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def write():
        with gate:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            release.wait(5)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(12)]
    for t in threads:
        t.start()
    while True:
        with lock:
            if running[0] >= 7:
                break
    release.set()
    for t in threads:
        t.join()
    assert peak[0] == 7
