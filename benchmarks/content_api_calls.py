"""API-call cost of content sync, against the local Notion.

Generates N module manifests for the LUKHAS Modules database, converges, edits k of them, and
prints the Notion API calls of a converged re-plan and of the apply of the k edits, next to the
issue's budget: reading costs ceil(N/100) queries, a converge with k changed rows makes at most
ceil(N/100) + k content calls.

    python benchmarks/content_api_calls.py [N] [k]
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

from calls import calls, count_calls  # benchmarks/calls.py
from reconciler.project.loader import load_project
from reconciler.session import Session

REPO = Path(__file__).resolve().parents[1]


def project(root: Path, n: int) -> None:
    shutil.copy(REPO / "reconciler.yaml", root / "reconciler.yaml")
    shutil.copytree(REPO / "schemas" / "vocab", root / "schemas" / "vocab")
    (root / "schemas" / "notion").mkdir(parents=True)
    shutil.copy(REPO / "schemas" / "notion" / "lukhas_modules.yaml", root / "schemas" / "notion")
    template = json.loads((REPO / "content" / "modules" / "memory.module.manifest.json").read_text())
    out = root / "content" / "modules"
    out.mkdir(parents=True)
    for i in range(n):
        data = dict(template, name=f"module-{i:05d}", coverage=round(0.5 + i % 50 / 100, 2))
        (out / f"module-{i:05d}.module.manifest.json").write_text(json.dumps(data))


def measure(label: str, fn):
    calls.clear()
    start = time.perf_counter()
    result = fn()
    content = {k: v for k, v in calls.items() if "/pages" in k or "/query" in k}
    print(f"{label}: {sum(calls.values())} calls ({sum(content.values())} content calls), "
          f"{time.perf_counter() - start:.2f} s locally")
    for endpoint, count in sorted(calls.items()):
        print(f"    {count:5d}  {endpoint}")
    return result, sum(content.values())


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 350
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    count_calls()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project(root, n)
        ws = load_project(root, {})
        session = Session(ws, {})
        plan, _ = measure(f"first plan ({n} rows)", session.plan)
        measure("first apply", lambda: session.apply(plan, allow_destroy=False))
        _, read = measure("converged plan", session.plan)
        print(f"    budget ceil(N/100) = {math.ceil(n / 100)} content calls; measured {read}")
        for i in range(k):
            path = root / "content" / "modules" / f"module-{i * 7:05d}.module.manifest.json"
            data = json.loads(path.read_text())
            path.write_text(json.dumps(dict(data, coverage=0.11)))
        session.project = load_project(root, {})
        edited = session.plan()
        _, spent = measure(f"apply of {k} edited rows (same process: no re-read)",
                           lambda: session.apply(edited, allow_destroy=False))
        print(f"    budget k = {k} writes after the plan's read; measured {spent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
