"""The commands: parse options, call one library function, hand the result to the output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from reconciler.cli import DirOption, app, local_app, output, user_errors
from reconciler.errors import ConfigError
from reconciler.model.changes import ChangeBase
from reconciler.plan import planfile
from reconciler.plan.model import Plan
from reconciler.render import render


def _load(directory: Path | None):
    from reconciler.project.loader import find_root, load_project
    from reconciler.project.yaml import environment

    root = find_root(directory or Path.cwd())
    env = environment(root)
    return load_project(root, env), env


def _open(project, env):
    from reconciler.session import Session

    return Session(project, env)


def _print_plan(plan: Plan) -> None:
    output.plain(render(planfile.to_document(plan), "text", color=output.is_terminal()))


@app.command()
@user_errors
def validate(directory: DirOption = None) -> None:
    """Check the spec (YAML, types, references) without reading live state."""
    project, _ = _load(directory)
    n = len(project.notion.databases)
    tables = len(getattr(project, "supabase", ()) or ())
    output.out.print(f"The spec is valid: {n} Notion database(s), {tables} table(s), "
                     f"{len(project.vocabularies)} vocabular(ies).")


@app.command()
@user_errors
def plan(
    directory: DirOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Save the plan to this file.")] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 0 when there are no changes, 2 when there are.")] = False,
    target: Annotated[Optional[list[str]], typer.Option(
        "--target", help='Only changes at or inside this address, e.g. notion.tasks '
        '(repeatable).')] = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Plan archiving (Notion) or deleting (Postgres) rows the content sources "
        "no longer have.")] = False,
    since: Annotated[Optional[str], typer.Option(
        "--since", help="Read only rows edited since this ISO time (with a minute of overlap), "
        "or 'last' for the last plan's read time.")] = None,
    sql_out: Annotated[Optional[Path], typer.Option(
        "--sql-out", help="Also write the plan's Postgres DDL as a Supabase CLI migration "
        "(<YYYYMMDDHHMMSS>_<name>.sql) in this folder, e.g. supabase/migrations.")] = None,
) -> None:
    """Show what apply would change, and optionally save the plan for review."""
    from reconciler.plan.build import check_targets

    check_targets(target or ())
    project, env = _load(directory)
    with _open(project, env) as session:
        result = session.plan(only=tuple(target or ()), prune=prune,
                              since=_since(project, since))
    _print_plan(result)
    if out is not None:
        planfile.save(result, out)
        output.out.print(f"\nSaved the plan to {out}. Apply it with: reconciler apply {out}")
    if sql_out is not None:
        _write_migration(result, sql_out, out.stem if out else "reconciler")
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)


def _since(project, value: str | None) -> str | None:
    """`--since`: an ISO time as given, or `last`: the watermark of the last full read."""
    from reconciler.state import load_state

    if value != "last":
        return value
    watermark = load_state(project.root).content_watermark
    if watermark is None:
        raise ConfigError("--since last: no earlier read is recorded in .reconciler/state.json; "
                          "run a full plan first")
    return watermark


def _write_migration(the_plan: Plan, directory: Path, name: str) -> None:
    from datetime import datetime, timezone

    from reconciler.backends.postgres.migrations import write_migration

    ddl = [c for c in the_plan.changes if c.sql]
    if not ddl:
        output.out.print("No Postgres schema changes: no migration written.")
        return
    path = write_migration(ddl, directory, name, datetime.now(timezone.utc))
    output.out.print(f"Wrote the migration {path}")


@app.command()
@user_errors
def apply(
    plan_file: Annotated[Optional[Path], typer.Argument(
        help="A saved plan. Without it, apply plans now and asks before changing anything.",
        show_default=False)] = None,
    directory: DirOption = None,
    auto_approve: Annotated[bool, typer.Option(
        "--auto-approve", help="Do not ask for confirmation.")] = False,
    allow_destroy: Annotated[bool, typer.Option(
        "--allow-destroy", help="Allow destructive changes (deleting properties, options, columns).")] = False,
    content_only: Annotated[bool, typer.Option(
        "--content-only", help="Make no schema change; write content without the fields the "
        "live schema lacks (they are deferred to a later apply).")] = False,
    prune: Annotated[bool, typer.Option(
        "--prune", help="When planning now: archive/delete rows the sources no longer have.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Apply a sync that trips a table's circuit breaker (it would change or "
        "delete more than the declared share of the rows).")] = False,
) -> None:
    """Make the live systems match the plan (refusing stale plans and unapproved destruction)."""
    saved = planfile.load(plan_file) if plan_file is not None else None
    project, env = _load(directory)
    with _open(project, env) as session, session.locked():
        _apply(saved, session, auto_approve, allow_destroy, content_only, prune, force)


def _apply(saved: Plan | None, session, auto_approve: bool, allow_destroy: bool,
           content_only: bool, prune: bool, force: bool = False) -> None:
    """Under the project lock, taken before the read apply acts on and held through the
    prompt, so no other apply slips in between what was shown and what runs; after the prompt
    the live state is read again and a change made meanwhile (by hand, in Notion or Postgres)
    makes the plan stale instead of being overwritten."""
    _explain_interrupted(session.project)
    if saved is not None:
        the_plan = _resumed(saved, session)
    else:
        the_plan = session.plan(prune=prune)
        _print_plan(the_plan)
        if not the_plan.has_changes:
            session.record_unchanged(the_plan)
            return
        if not auto_approve:
            if not output.stdin_is_terminal():
                raise ConfigError("apply needs confirmation: run it on a terminal, or pass "
                                  "--auto-approve (or apply a saved plan file)")
            if not typer.confirm("\nDo you want to perform these actions?"):
                output.out.print("Apply cancelled.")
                raise typer.Exit(1)
            session.forget_read()
    if not the_plan.has_changes:
        output.out.print("No changes. Nothing to apply.")
        return
    result = _apply_with_progress(the_plan, session, allow_destroy, content_only, force)
    counts = result.counts
    extra = [f"{counts[k]} {label}" for k, label in (
        ("deferred", "written with deferred fields (schema lag)"),
        ("skipped", "schema change(s) skipped (--content-only)"),
        ("manual-pending", "manual step(s) still to do by hand"),
        ("stale", "row(s) left alone: edited after the plan (the next plan picks them up)"))
        if counts.get(k)]
    output.out.print(f"\nApply complete! {counts.get('applied', 0)} change(s) applied"
                     + (", " + ", ".join(extra) if extra else "") + ".")


def _explain_interrupted(project) -> None:
    from reconciler.apply.journal import interrupted_run
    from reconciler.apply.runner import journal_path

    run = interrupted_run(journal_path(project.root))
    if run is None:
        return
    output.err.print(
        f"An earlier apply (run {run.run_id}, started {run.started_at}) stopped after "
        f"{len(run.done)} of {run.total} change(s):" + "".join(f"\n  done: {a}" for a in run.done[:20])
        + (f"\n  … and {len(run.done) - 20} more" if len(run.done) > 20 else "")
        + "\nNothing it wrote is lost or repeated: rows are found again by their key.")


def _resumed(the_plan: Plan, session) -> Plan:
    fresh = session.resume(the_plan)
    if fresh is None:
        return the_plan
    output.err.print(f"Finishing the interrupted apply of this plan: {len(fresh.changes)} "
                     "change(s) left, planned afresh from the live state.")
    return fresh


def _apply_with_progress(the_plan: Plan, session, allow_destroy: bool,
                         content_only: bool = False, force: bool = False):
    if not output.is_terminal():
        def report(change: ChangeBase, status: str) -> None:
            output.plain(f"{change.address}: {status}\n")
        return session.apply(the_plan, allow_destroy=allow_destroy, content_only=content_only,
                             on_applied=report, force=force)
    from rich.progress import Progress

    with Progress(console=output.out, transient=False) as progress:
        task = progress.add_task("Applying", total=len(the_plan.changes))

        def advance(change: ChangeBase, status: str) -> None:
            progress.update(task, advance=1, description=change.address[:60])

        return session.apply(the_plan, allow_destroy=allow_destroy, content_only=content_only,
                             on_applied=advance, force=force)


@app.command()
@user_errors
def show(
    plan_file: Annotated[Path, typer.Argument(help="A saved plan file.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, markdown or json.")] = "text",
) -> None:
    """Print a saved plan as text, as markdown for a pull request, or as JSON."""
    if fmt not in ("text", "markdown", "json"):
        raise ConfigError(f"unknown format {fmt!r}: use text, markdown or json")
    doc = planfile.to_document(planfile.load(plan_file))
    output.plain(render(doc, fmt, color=fmt == "text" and output.is_terminal()))


@app.command()
@user_errors
def schema(
    directory: DirOption = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Folder for the JSON Schema files. Default: schemas/.schema")] = None,
) -> None:
    """Write JSON Schemas of the spec files, for editor completion and checks."""
    from reconciler.project.jsonschema import write_schemas
    from reconciler.project.loader import find_root

    root = find_root(directory or Path.cwd())
    for path in write_schemas(out or root / "schemas" / ".schema"):
        output.out.print(f"wrote {path}")


@local_app.command("serve")
@user_errors
def local_serve(
    directory: DirOption = None,
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    latency: Annotated[Optional[str], typer.Option(
        "--latency", help="Added latency per request: 50ms or a range 50-200ms.")] = None,
    rate_429: Annotated[Optional[float], typer.Option(
        "--rate-429", help="Share of requests answered 429 rate_limited (0-1).")] = None,
    rate_5xx: Annotated[Optional[float], typer.Option(
        "--rate-5xx", help="Share answered 500/502/503/504 (0-1).")] = None,
    rate_529: Annotated[Optional[float], typer.Option(
        "--rate-529", help="Share answered 529 service_overload (0-1).")] = None,
    drop: Annotated[Optional[float], typer.Option(
        "--drop", help="Share of connections dropped after the request is performed (0-1).")] = None,
    commit_503: Annotated[Optional[float], typer.Option(
        "--commit-503", help="Share of writes performed and then answered 503 (0-1).")] = None,
    retry_after: Annotated[Optional[float], typer.Option(
        "--retry-after", help="Retry-After seconds sent with 429 and 529.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of the fault draws.")] = None,
    search_lag: Annotated[Optional[float], typer.Option(
        "--search-lag", help="Seconds a new page or database stays out of search results.")] = None,
) -> None:
    """Serve the project's local Notion over HTTP (point NOTION_BASE_URL at it).

    Faults (docs/resilience.md) come from RECONCILER_FAULTS, overridden by the options."""
    import os
    from dataclasses import replace

    from reconciler.backends.notion.client import LOCAL_DIR
    from reconciler.local import serve
    from reconciler.local.faults import Faults, faults_from_env, parse_latency
    from reconciler.project.loader import find_root

    try:
        root = find_root(directory or Path.cwd())
    except ConfigError:
        root = directory or Path.cwd()
    options = {"rate_429": rate_429, "rate_5xx": rate_5xx, "rate_529": rate_529, "drop": drop,
               "commit_503": commit_503, "retry_after": retry_after, "seed": seed, "search_lag": search_lag}
    try:
        faults = faults_from_env(os.environ) or Faults()
        changes = {k: v for k, v in options.items() if v is not None}
        if latency is not None:
            changes["latency_ms"] = parse_latency(latency)
        faults = replace(faults, **changes)
    except ValueError as err:
        raise ConfigError(f"fault injection: {err}") from None
    output.err.print(f"Local Notion on http://{host}:{port} (data in {root / LOCAL_DIR}); "
                     f"export NOTION_BASE_URL=http://{host}:{port}")
    if faults.active:
        output.err.print(f"Injecting faults: {faults}")
    if faults.search_lag:
        output.err.print(f"Search lag: {faults.search_lag:g} s")
    serve(root / LOCAL_DIR, host=host, port=port,
          faults=faults if faults.active or faults.search_lag else None)


_UI_USAGE = ('notion.KEY --move-to PAGE_ID | notion.KEY.property["P"] --add button|verification | '
             'notion.KEY.property["P"] --status-option NAME[:COLOR[:GROUP]] … | '
             'notion.KEY.property["P"].option["O"] [--rename NAME] [--color COLOR]')


@local_app.command("ui")
@user_errors
def local_ui(
    address: Annotated[str, typer.Argument(help="The resource the plan's manual change names.")],
    directory: DirOption = None,
    rename: Annotated[Optional[str], typer.Option("--rename", help="Option: its new name.")] = None,
    color: Annotated[Optional[str], typer.Option("--color", help="Option: its new colour.")] = None,
    status_option: Annotated[Optional[list[str]], typer.Option(
        "--status-option", help="Status property: NAME[:COLOR[:GROUP]], once per option, in order; "
        "replaces its options.")] = None,
    add: Annotated[Optional[str], typer.Option(
        "--add", help="Property: create it as a button or verification property.")] = None,
    move_to: Annotated[Optional[str], typer.Option("--move-to", help="Database: its new parent page id.")] = None,
) -> None:
    """Do on the local Notion what only Notion's UI can do: the plan's manual changes.

    Rename or recolour an option, edit status options, add a button or verification property,
    move a database to another page. Then `reconciler plan` is clean."""
    from reconciler.addresses import parse
    from reconciler.backends.notion.client import LOCAL_DIR
    from reconciler.local import ui
    from reconciler.project.loader import find_root
    from reconciler.state import load_state

    root = find_root(directory or Path.cwd())
    try:
        head, parts = parse(address)
    except ValueError as err:
        raise ConfigError(f"{err}; use {_UI_USAGE}") from None
    known = load_state(root).notion.get("local")
    db = known.databases.get(head[1]) if known and len(head) == 2 and head[0] == "notion" else None
    if db is None:
        raise ConfigError(f"{address}: no such database in the local Notion's state (.reconciler/state.json); "
                          "run `reconciler apply` first")
    where, kinds, names = root / LOCAL_DIR, tuple(k for k, _ in parts), [n for _, n in parts]
    statuses = [tuple(part or None for part in (item.split(":") + ["", ""])[:3]) for item in status_option or ()]
    actions = {
        ((), "move"): lambda: ui.move_database(where, db.database_id, move_to),
        (("property",), "add"): lambda: ui.add_property(where, db.data_source_id, names[0], add),
        (("property",), "status"): lambda: ui.set_status_options(where, db.data_source_id, names[0], statuses),
        (("property", "option"), "edit"): lambda: ui.edit_option(
            where, db.data_source_id, names[0], names[1], name=rename, color=color),
    }
    wanted = "move" if move_to else "add" if add else "status" if statuses else "edit" if rename or color else ""
    action = actions.get((kinds, wanted))
    if action is None:
        raise ConfigError(f"{address}: nothing to do; use {_UI_USAGE}")
    try:
        output.out.print(f"{address}: {action()}")
    except ui.UIError as err:
        raise ConfigError(f"{address}: {err}") from None
