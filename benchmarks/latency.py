"""Latency and the rate budget (issue 15 point 6): an apply of W page creates on the local Notion
with L seconds of latency injected per request (`RECONCILER_FAULTS=latency=…`, which also paces
it at 3 requests per second, as Notion), through the CLI in this process.

The figure is the request span of the page writes (from the first write sent to the last
answered) over its floor, W ÷ 3 s⁻¹: it stays near 1 when enough writes are in flight
(`backends/notion/inflight.py`). Independent of the project's size: W writes (default 60), not N.

    python benchmarks/latency.py [W] [L ...]      e.g. python benchmarks/latency.py 60 0.3 1 2
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from calls import count_calls, timings
from projects import cli, environment, notion_project
from saved_plan import NO_TARGETS

RATE = 3.0


def measure(writes: int = 60, latency: float = 1.0) -> dict[str, float]:
    """`span` (seconds from the first page write sent to the last answered), `floor`
    (writes ÷ 3 s⁻¹) and `ratio`."""
    count_calls()
    with tempfile.TemporaryDirectory() as tmp, environment(**NO_TARGETS):
        root = notion_project(Path(tmp), writes)
        with environment(RECONCILER_FAULTS=f"latency={int(latency * 1000)}ms",
                         NOTION_RATE_LIMIT=str(RATE)):
            timings.clear()
            cli(root, "apply", "--auto-approve")
    pages = [(start, end) for endpoint, start, end in timings if endpoint == "POST /v1/pages"]
    if len(pages) != writes:
        raise RuntimeError(f"expected {writes} page creates, saw {len(pages)}")
    span = max(end for _, end in pages) - min(start for start, _ in pages)
    floor = writes / RATE
    return {"writes": writes, "latency": latency, "span": span, "floor": floor,
            "ratio": span / floor}


def main() -> int:
    writes = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    for latency in [float(a) for a in sys.argv[2:]] or [0.3, 1.0, 2.0]:
        got = measure(writes, latency)
        print(f"latency {latency:.1f} s: {writes} page writes in {got['span']:.1f} s; floor "
              f"{got['floor']:.1f} s; span/floor {got['ratio']:.2f} (goal <= 1.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
