"""How `status` and `doctor` print: rich tables on stdout, plain text when not a terminal."""

from __future__ import annotations

from reconciler.cli import output

_MARK = {"ok": "ok", "warn": "warn", "fail": "FAIL"}


def _counts(items: dict[str, int], under: str = "") -> str:
    """`a 1, b 2`; keys that are addresses under `under` shortened to their last part."""
    return ", ".join(f"{k[len(under):].lstrip('.') if under and k.startswith(under) else k} {v}"
                     for k, v in sorted(items.items())) or "-"


def _time(stamp: str | None) -> str:
    """An ISO time to the second, without the zone suffix noise: `2026-12-01T10:05:21`."""
    return stamp[:19] if stamp else "-"


def print_status(report) -> None:
    """The `ops.status.StatusReport` as aligned columns (also readable in CI logs), then the
    backends and an unfinished apply."""
    head = ("resource", "state", "rows", "latest edit", "pending changes", "schema lag (rows)",
            "deferred (rows)", "last apply")
    rows = [head]
    for r in report.resources:
        state = "in sync" if r.in_sync else "missing" if not r.exists else "differs"
        pending = _counts(r.changes) + (f"; rows {r.rows_to_write}" if r.rows_to_write else "")
        rows.append((r.address, state, "-" if r.rows is None else str(r.rows),
                     _time(r.latest_edit), pending, _counts(r.lag, r.address), _counts(r.deferred),
                     _time(r.last_apply) if r.last_apply else "never"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        output.plain("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    output.out.print("")
    for root, where in sorted(report.backends.items()):
        output.out.print(f"{root}: {where}")
    if report.interrupted:
        run = report.interrupted
        output.out.print(f"An apply (run {run['run']}, started {run['started_at']}) stopped after "
                         f"{run['done']} of {run['total']} change(s): reconciler apply finishes it.")
    drifted = [r.address for r in report.resources if not r.in_sync]
    output.out.print(f"{len(report.resources) - len(drifted)} of {len(report.resources)} "
                     "resource(s) in sync." + (" `reconciler plan` shows what differs: the live "
                                               "state drifted, or the spec changed, since the "
                                               "last apply." if drifted else ""))


def print_checks(checks) -> None:
    """Each `ops.doctor.Check` on a line, its fix under it; a count at the end."""
    for check in checks:
        output.out.print(f"[{_MARK[check.status]:>4}] {check.name}: {check.detail}")
        if check.fix:
            output.out.print(f"       → {check.fix}")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    output.out.print(f"\n{failed} problem(s), {warned} warning(s)." if failed or warned
                     else "\nEverything is in place.")
