"""The plan at N rows (issue 15): seconds, CPU seconds and peak memory (the process's peak
resident set, `VmHWM`) of a converged plan of N rows on the local Notion, and of a first plan
(every row to create), each in a process of its own so the peak is the plan's.

The converged rows are built by `projects.converged_notion_project` (straight into the local
Notion's store); the plan then reads them through notion-client like any others.

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

from projects import converged_notion_project, notion_project

for _name in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "DATABASE_URL",
              "RECONCILER_FAULTS"):
    os.environ.pop(_name, None)


def _peak_mb() -> float:
    """This process's peak resident set in MB: `VmHWM` (reset by exec, unlike `ru_maxrss`,
    which a child started by a large parent inherits), else `getrusage`."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _plan(root: Path) -> dict[str, float]:
    from reconciler.project.loader import load_project
    from reconciler.session import Session

    start, cpu = time.perf_counter(), time.process_time()
    with Session(load_project(root, {}), {}) as session:
        plan = session.plan()
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
            "peak_mb": _peak_mb(),
            "changes": len(plan.changes)}


def main() -> int:
    what, root = sys.argv[1], Path(sys.argv[2])
    if what == "build":
        print(json.dumps(converged_notion_project(root, int(sys.argv[3]))))
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
