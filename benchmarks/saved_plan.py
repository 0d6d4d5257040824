"""A saved plan's cost in API calls (issue 15 point 2): `plan --out` then `apply FILE` beside the
minimum, `apply --auto-approve` (one read, then the writes), with k of N rows changed, on the
local Notion, through the CLI in this process. The parent page is configured
(`NOTION_PARENT_PAGE_ID`), as it is with a real workspace, so the local Notion's root page is
not searched for; the rows are aged an hour (`projects.age_pages`) before the plan.

    python benchmarks/saved_plan.py [N] [k]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from calls import calls, count_calls, total
from projects import (age_pages, cli, converged_notion_project, environment, local_root_page,
                      timed, write_csv)

NO_TARGETS = {"NOTION_TOKEN": None, "NOTION_API_KEY": None, "NOTION_BASE_URL": None,
              "DATABASE_URL": None, "RECONCILER_FAULTS": None}


def _counted(root: Path, *args: str) -> tuple[int, float]:
    calls.clear()
    _, seconds = timed(lambda: cli(root, *args))
    return total(), seconds


def measure(n: int, k: int = 10) -> dict[str, float]:
    """Calls and seconds of the reviewed flow and of the minimum; `ratio` = reviewed ÷ minimum."""
    count_calls()
    with tempfile.TemporaryDirectory() as tmp, environment(**NO_TARGETS):
        root = Path(tmp)
        os.environ["NOTION_PARENT_PAGE_ID"] = local_root_page(root)  # as with a real workspace
        built = converged_notion_project(root, n)["build_s"]
        age_pages(root)  # written an hour before the plan, as in a reviewed flow
        first = {i * (n // k): -1 for i in range(k)}
        write_csv(root, n, first)
        plan_calls, plan_s = _counted(root, "plan", "--out", str(root / "plans" / "x.yaml"))
        apply_calls, apply_s = _counted(root, "apply", str(root / "plans" / "x.yaml"))
        write_csv(root, n, first | {i * (n // k) + 1: -2 for i in range(k)})
        least, least_s = _counted(root, "apply", "--auto-approve")
        del os.environ["NOTION_PARENT_PAGE_ID"]
    return {"rows": n, "changed": k, "build_s": built, "plan_calls": plan_calls,
            "apply_calls": apply_calls, "reviewed_calls": plan_calls + apply_calls,
            "reviewed_s": plan_s + apply_s, "minimum_calls": least, "minimum_s": least_s,
            "ratio": (plan_calls + apply_calls) / least}


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    got = measure(n, k)
    print(f"{k} of {n} rows changed: plan --out {got['plan_calls']} calls + apply FILE "
          f"{got['apply_calls']} = {got['reviewed_calls']}; apply --auto-approve "
          f"{got['minimum_calls']}; ratio {got['ratio']:.2f} (goal <= 1.15)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
