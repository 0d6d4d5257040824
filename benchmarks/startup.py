"""Start-up (issue 15 point 1): `reconciler --help` beside a bare `python -c "import typer"`, and
`reconciler validate` of the bundled example, each run as its own process, interleaved round
by round so the machine's load falls on all alike.

Figures: the least wall time of the rounds (the run least disturbed by other work) and the
median, and the CPU seconds of the least-CPU run (user + system of the child).

    python benchmarks/startup.py [ROUNDS]
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _reconciler() -> list[str]:
    found = shutil.which("reconciler", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-c", "from reconciler.cli import main; main()"]


def commands() -> dict[str, list[str]]:
    return {"python -c pass": [sys.executable, "-c", "pass"],
            "import typer": [sys.executable, "-c", "import typer"],
            "reconciler --help": [*_reconciler(), "--help"],
            "reconciler validate": [*_reconciler(), "validate", "--dir", str(REPO)]}


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env,
                   cwd=REPO)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(rounds: int = 9) -> dict[str, dict[str, float]]:
    """Per command: `min`, `median` wall seconds and `cpu` (least CPU seconds) over `rounds`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTION_TOKEN", "NOTION_API_KEY", "NOTION_BASE_URL", "RECONCILER_FAULTS")}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands()}
    for name, argv in commands().items():  # warm the file cache first
        _run(argv, env)
    for _ in range(rounds):
        for name, argv in commands().items():
            runs[name].append(_run(argv, env))
    return {name: {"min": min(w for w, _ in got), "median": statistics.median(w for w, _ in got),
                   "cpu": min(c for _, c in got)} for name, got in runs.items()}


def main() -> int:
    result = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
    for name, got in result.items():
        print(f"{name:22s} least {got['min'] * 1000:6.0f} ms, median {got['median'] * 1000:6.0f} ms, "
              f"CPU {got['cpu'] * 1000:6.0f} ms")
    typer, helped = result["import typer"], result["reconciler --help"]
    print(f"--help / import typer: {helped['min'] / typer['min']:.2f} (least wall), "
          f"{helped['cpu'] / typer['cpu']:.2f} (CPU); goal <= 1.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
