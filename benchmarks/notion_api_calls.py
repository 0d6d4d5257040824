"""API-call budget of the main job on the bundled example, against the local Notion.

Prints, for a fresh plan, its apply, and the re-plan after it: the number of Notion API calls
by endpoint and the wall time. At Notion's 3 requests per second, calls / 3 is the least time
the same run takes against the real API.

    python benchmarks/notion_api_calls.py
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import notion_client

from reconciler.spec.loader import load_workspace
from reconciler.workflow import apply_plan, make_plan, open_targets

REPO = Path(__file__).resolve().parents[1]
_ID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
calls: Counter[str] = Counter()
_request = notion_client.Client.request


def counting_request(self, path, method, *args, **kwargs):
    calls[f"{method.upper()} /v1/{_ID.sub('{id}', path)}"] += 1
    return _request(self, path, method, *args, **kwargs)


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
    notion_client.Client.request = counting_request
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
        shutil.copytree(REPO / "schemas", root / "schemas")
        workspace = load_workspace(root, {})
        targets = open_targets(workspace, {})
        plan = measure("plan (fresh)", lambda: make_plan(workspace, targets))
        print(f"    {len(plan.changes)} changes planned")
        measure("apply", lambda: apply_plan(plan, workspace, targets, allow_destroy=False))
        again = measure("plan (converged)", lambda: make_plan(workspace, targets))
        print(f"    {len(again.changes)} changes left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
