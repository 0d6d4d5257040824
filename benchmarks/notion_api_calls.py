"""API-call budget of the main job on the bundled example, against the local Notion.

Prints, for a fresh plan, its apply, and the re-plan after it: the number of Notion API calls
by endpoint and the wall time. At Notion's 3 requests per second, calls / 3 is the least time
the same run takes against the real API.

    python benchmarks/notion_api_calls.py   (DATABASE_URL: a scratch database, else embedded)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from calls import calls, count_calls  # benchmarks/calls.py
from reconciler.project.loader import load_project
from reconciler.session import Session

REPO = Path(__file__).resolve().parents[1]


def measure(label: str, fn) -> object:
    calls.clear()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    total = sum(calls.values())
    print(f"{label}: {total} API calls, {seconds:.2f} s locally, >= {total / 3:.1f} s at 3 req/s")
    for endpoint, n in sorted(calls.items()):
        print(f"    {n:4d}  {endpoint}")
    return result


def main() -> int:
    count_calls()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
        shutil.copytree(REPO / "schemas", root / "schemas")
        shutil.copytree(REPO / "content", root / "content")
        env = {k: v for k, v in os.environ.items() if k == "DATABASE_URL"}  # else embedded
        project = load_project(root, env)
        session = Session(project, env)
        plan = measure("plan (fresh)", session.plan)
        print(f"    {len(plan.changes)} changes planned")
        measure("apply", lambda: session.apply(plan, allow_destroy=False))
        again = measure("plan (converged)", session.plan)
        print(f"    {len(again.changes)} changes left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
