"""Every speed figure of issue 15 in one run, as ratios measured side by side (this machine is
shared and noisy: the absolute times are printed beside each figure, never judged).

    python benchmarks/run.py [--rows 1000,10000] [--plan-rows 100000] [--latency 0.3,1,2]
                             [--writes 60] [--only startup,saved,postgres,per-row,local,latency,plan]
                             [--markdown]

Postgres: a scratch database of its own on `DATABASE_URL` (dropped afterwards), else the embedded
pgserver of the project. Every item reuses the script of its own (`startup.py`, `saved_plan.py`,
`postgres_writes.py`, `per_row.py`, `local_notion.py`, `latency.py`, `plan_scale.py`), each of
which also runs alone. `--markdown` prints the table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


@dataclass
class Figure:
    """One row of the table: `ratios` by N (None: independent of N), the goal, and the absolute
    figures it was computed from."""

    item: str
    figure: str
    goal: str
    met: callable  # type: ignore[valid-type]
    ratios: dict[int | None, float] = field(default_factory=dict)
    times: list[str] = field(default_factory=list)


def startup() -> list[Figure]:
    import startup as module

    got = module.measure()
    typer, helped, valid = (got["import typer"], got["reconciler --help"],
                            got["reconciler validate"])
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    return [
        Figure("1 start-up", "--help ÷ import typer (least wall of 9)", "≤ 1.5", lambda r: r <= 1.5,
               {None: helped["min"] / typer["min"]},
               [f"--help {ms(helped['min'])} (CPU {ms(helped['cpu'])}), import typer "
                f"{ms(typer['min'])} (CPU {ms(typer['cpu'])})"]),
        Figure("1 start-up", "validate of the example ÷ import typer", "validate < 0.5 s",
               lambda r: valid["min"] < 0.5, {None: valid["min"] / typer["min"]},
               [f"validate {ms(valid['min'])} (median {ms(valid['median'])}, CPU "
                f"{ms(valid['cpu'])}); python -c pass {ms(got['python -c pass']['min'])}"]),
    ]


def saved(rows: list[int]) -> list[Figure]:
    import saved_plan

    fig = Figure("2 saved plan", "plan --out + apply FILE ÷ apply --auto-approve (calls, 10 rows "
                 "changed)", "≤ 1.15", lambda r: r <= 1.15)
    for n in rows:
        got = saved_plan.measure(n)
        fig.ratios[n] = got["ratio"]
        fig.times.append(f"N={n:,}: {got['plan_calls']} + {got['apply_calls']} calls vs "
                         f"{got['minimum_calls']}; {got['reviewed_s']:.1f} s vs {got['minimum_s']:.1f} s")
    return [fig]


def postgres(rows: list[int]) -> list[Figure]:
    import postgres_writes
    from projects import scratch_database

    figs = {key: Figure("3 Postgres", text, goal, test) for key, text, goal, test in (
        ("create_write", "raw COPY ÷ write phase, N rows created", "≥ 0.5", lambda r: r >= 0.5),
        ("create_like", "COPY into the table itself ÷ write phase, created", "(context)",
         lambda r: True),
        ("create_ceiling", "raw COPY ÷ COPY into the table itself: the most any writer of this "
         "table reaches", "(context: above 0.5?)", lambda r: True),
        ("update_write", "raw COPY ÷ write phase, N rows updated", "≥ 0.5", lambda r: r >= 0.5),
        ("create_apply", "raw COPY ÷ whole apply, created", "≥ 0.1", lambda r: r >= 0.1),
        ("update_apply", "raw COPY ÷ whole apply, updated", "≥ 0.1", lambda r: r >= 0.1))}
    server = os.environ.get("DATABASE_URL")
    for n in rows:
        if server:
            with scratch_database(server) as url:
                got = postgres_writes.measure(n, url)
        else:
            got = postgres_writes.measure(n, None)
        for key in figs:
            phase, what = key.split("_")
            figs[key].ratios[n] = got[f"{phase}_{what}_ratio"]
        for phase in ("create", "update"):
            figs[f"{phase}_write"].times.append(
                f"N={n:,}: write {got[f'{phase}_write_s'] * 1000:.0f} ms, apply "
                f"{got[f'{phase}_apply_s'] * 1000:.0f} ms, COPY {got[f'{phase}_copy_s'] * 1000:.0f} ms "
                f"(into the table {got[f'{phase}_like_s'] * 1000:.0f} ms)")
    return list(figs.values())


def per_row(rows: list[int]) -> list[Figure]:
    import per_row as module

    hashes = Figure("4 per row", "content_hash calls per row and side (converged plan)", "1",
                    lambda r: r <= 1.0)
    snap = Figure("4 per row", "snapshot written ÷ the same with indent=2", "< 1",
                  lambda r: r < 1.0)
    for n in rows:
        got = module.hashes_per_row(n)
        hashes.ratios[n] = got["ratio"]
        hashes.times.append(f"N={n:,}: {got['calls']} calls; plan {got['plan_s']:.2f} s")
        got = module.snapshot(n)
        snap.ratios[n] = got["ratio"]
        snap.times.append(f"N={n:,}: {got['seconds'] * 1000:.1f} ms vs {got['indented_s'] * 1000:.1f} ms")
    got = module.yaml_parses()
    yaml = Figure("4 per row", "YAML parses per YAML text (the example)", "1", lambda r: r <= 1.0,
                  {None: got["ratio"]}, [f"{got['calls']} parses of {got['texts']} texts"])
    return [hashes, yaml, snap]


def local(rows: list[int]) -> list[Figure]:
    import local_notion

    rates: list[float] = []
    rate = Figure("5 local Notion", "N creates: creates/s ÷ notion-client floor (no store)",
                  "≥ 200/s", lambda r: min(rates) >= 200)
    query = Figure("5 local Notion", "query of 200 rows beside N others ÷ alone", "≈ 1",
                   lambda r: r <= 1.25)
    for n in rows:
        got = local_notion.measure(n, 200, n)
        rates.append(got["rate"])
        rate.ratios[n] = got["rate_ratio"]
        rate.times.append(f"N={n:,}: {got['rate']:.0f} creates/s; floor {got['floor_rate']:.0f}/s")
        query.ratios[n] = got["query_ratio"]
        query.times.append(f"N={n:,}: {got['crowded_s'] * 1000:.1f} ms vs {got['alone_s'] * 1000:.1f} ms")
    return [rate, query]


def latency(latencies: list[float], writes: int) -> list[Figure]:
    import latency as module

    figs = []
    for seconds in latencies:
        got = module.measure(writes, seconds)
        figs.append(Figure("6 latency", f"span of {writes} page writes ÷ writes/3 s⁻¹ at "
                           f"{seconds:g} s latency", "≤ 1.10", lambda r: r <= 1.10,
                           {None: got["ratio"]},
                           [f"{got['span']:.1f} s vs {got['floor']:.1f} s"]))
    return figs


def _scale(*args: str) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "plan_scale.py"), *args], check=True,
                         capture_output=True, text=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


def plan(rows: list[int]) -> list[Figure]:
    converged = Figure("plan", "converged plan: seconds per row ÷ at the smallest N", "≈ 1 (linear)",
                       lambda r: r <= 1.5)
    first = Figure("plan", "first plan (all rows to create): seconds per row ÷ smallest N",
                   "≈ 1 (linear)", lambda r: r <= 1.5)
    memory = Figure("plan", "converged plan: peak memory ÷ at the smallest N", "(context)",
                    lambda r: True)
    base: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in rows:
            built = _scale("build", f"{tmp}/c{n}", str(n))
            got = {"converged": _scale("plan", f"{tmp}/c{n}"), "first": _scale("first", f"{tmp}/f{n}", str(n))}
            for name, fig in (("converged", converged), ("first", first)):
                base.setdefault(name, got[name] | {"rows": n})
                b = base[name]
                fig.ratios[n] = (got[name]["seconds"] / n) / (b["seconds"] / b["rows"])
                fig.times.append(f"N={n:,}: {got[name]['seconds']:.2f} s (CPU {got[name]['cpu']:.2f} s), "
                                 f"peak {got[name]['peak_mb']:.0f} MB")
            memory.ratios[n] = got["converged"]["peak_mb"] / base["converged"]["peak_mb"]
            memory.times.append(f"N={n:,}: built in {built['build_s']:.0f} s")
    return [converged, first, memory]


def _table(figures: list[Figure], columns: list[int | None], markdown: bool) -> str:
    heads = ["item", "figure", *[("—" if c is None else f"N={c:,}") for c in columns], "goal",
             "met", "absolute (not judged)"]
    lines = []
    for f in figures:
        cells = [f"{f.ratios[c]:.3g}" if c in f.ratios else "" for c in columns]
        met = all(f.met(r) for r in f.ratios.values())
        lines.append([f.item, f.figure, *cells, f.goal, "yes" if met else "NO", "; ".join(f.times)])
    if markdown:
        out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *lines)][:-1]
    fmt = lambda row: "  ".join(str(x).ljust(w) for x, w in zip(row, widths)) + "  " + row[-1]  # noqa: E731
    return "\n".join([fmt(heads)] + [fmt(line) for line in lines])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000,10000")
    parser.add_argument("--plan-rows", default="100000")
    parser.add_argument("--latency", default="0.3,1,2")
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--only", default="startup,saved,postgres,per-row,local,latency,plan")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = [int(n) for n in args.rows.split(",") if n]
    plan_rows = rows + [int(n) for n in args.plan_rows.split(",") if n]
    items = {"startup": startup, "saved": lambda: saved(rows), "postgres": lambda: postgres(rows),
             "per-row": lambda: per_row(rows), "local": lambda: local(rows),
             "latency": lambda: latency([float(x) for x in args.latency.split(",")], args.writes),
             "plan": lambda: plan(plan_rows)}
    started = time.perf_counter()
    figures: list[Figure] = []
    for name in args.only.split(","):
        began = time.perf_counter()
        print(f"measuring {name} …", file=sys.stderr, flush=True)
        figures += items[name]()
        print(f"    {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    columns: list[int | None] = [None, *sorted(set(plan_rows))]
    used = [c for c in columns if any(c in f.ratios for f in figures)]
    print(f"reconciler speed, {datetime.date.today().isoformat()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, Postgres: "
          f"{'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded'}; "
          f"{time.perf_counter() - started:.0f} s in all\n")
    print(_table(figures, used, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
