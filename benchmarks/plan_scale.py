"""The plan at N rows (issue 15): seconds, CPU seconds and peak memory (the process's peak
resident set, `getrusage`) of a converged plan of N rows on the local Notion, and of a first plan
(every row to create), each in a process of its own so the peak is the plan's.

Building N converged rows through the API would take N ÷ ~700 s, so `build` writes the pages
straight into the local Notion's store (the bodies the plan's own compiled requests would send,
through the local Notion's own `create_page`, in transactions of 5,000): the plan then reads
them through notion-client like any others.

    python benchmarks/plan_scale.py build DIR N     # a project of N converged rows at DIR
    python benchmarks/plan_scale.py plan DIR        # JSON: the converged plan's figures
    python benchmarks/plan_scale.py first DIR N     # JSON: a first plan of N rows (nothing live)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

from projects import cli, notion_project, write_csv

for _name in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "DATABASE_URL",
              "RECONCILER_FAULTS"):
    os.environ.pop(_name, None)


def _plan(root: Path) -> dict[str, float]:
    from reconciler.project.loader import load_project
    from reconciler.session import Session

    start, cpu = time.perf_counter(), time.process_time()
    with Session(load_project(root, {}), {}) as session:
        plan = session.plan()
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "changes": len(plan.changes)}


def build(root: Path, n: int) -> dict[str, float]:
    """A project of `n` rows at `root`, converged; returns seconds spent."""
    from reconciler.local.app import LocalNotion
    from reconciler.local.pages import create_page
    from reconciler.project.loader import load_project
    from reconciler.session import Session
    from reconciler.backends.notion.steps import PageStep

    start = time.perf_counter()
    notion_project(root, 1)
    cli(root, "apply", "--auto-approve")  # the database and its first row
    write_csv(root, n)
    with Session(load_project(root, {}), {}) as session:
        plan = session.plan()
        backend = session.backend("notion")
        steps = backend.compile(plan.changes, session.project, session._read[1]["notion"])
    bodies = [s.body for s in steps if isinstance(s, PageStep) and s.method == "POST"]
    app = LocalNotion(root / ".reconciler" / "notion")
    try:
        for first in range(0, len(bodies), 5000):
            with app.store.transaction(write=True):
                for body in bodies[first:first + 5000]:
                    create_page(app.context, None, body)
    finally:
        app.close()
    return {"rows": n, "build_s": time.perf_counter() - start}


def main() -> int:
    what, root = sys.argv[1], Path(sys.argv[2])
    if what == "build":
        print(json.dumps(build(root, int(sys.argv[3]))))
    elif what == "plan":
        print(json.dumps(_plan(root)))
    elif what == "first":
        notion_project(root, int(sys.argv[3]))
        print(json.dumps(_plan(root)))
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
