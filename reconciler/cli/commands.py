"""The commands: parse options, call one library function, hand the result to the output.

`apply` lives in `cli.apply`, `force-unlock` in `cli.admin`. Only typer and the option
declarations are imported with the module: each command imports what it runs, so `--help` and
`validate` do not pay for plans, rendering, HTTP or Postgres (issue 15 point 1).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from reconciler.cli import DebugOption, DirOption, app, local_app, output, user_errors
from reconciler.errors import ConfigError

if TYPE_CHECKING:
    from reconciler.plan.model import Plan


class Format(str, Enum):
    """`show --format`: any case."""

    text = "text"
    markdown = "markdown"
    json = "json"


def _load(directory: Path | None):
    from reconciler.project.loader import find_root, load_project
    from reconciler.project.yaml import environment

    root = find_root(directory or Path.cwd())
    env = environment(root)
    return load_project(root, env), env


def _open(project, env, dev_url: str | None = None):
    from reconciler.session import Session

    return Session(project, {**env, "DEV_DATABASE_URL": dev_url} if dev_url else env)


DevUrlOption = Annotated[Optional[str], typer.Option(
    "--dev-url", metavar="URL", help="The dev database every Postgres migration is checked on "
    "before it runs (empty; e.g. a local Supabase's). Default: $DEV_DATABASE_URL, else a "
    "scratch database on the embedded server under .reconciler/postgres.")]


def _print_plan(plan: Plan) -> None:
    from reconciler.plan import planfile
    from reconciler.render import render

    output.plain(render(planfile.to_document(plan), "text", color=output.is_terminal()))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@app.command()
@user_errors
def validate(directory: DirOption = None, debug: DebugOption = False) -> None:
    """Check the spec (YAML, types, references) without reading live state."""
    project, _ = _load(directory)
    tables = len(getattr(project, "supabase", ()) or ())
    output.plain(  # plain text: no rich console to import for one line
        f"The spec is valid: {_count(len(project.notion.databases), 'Notion database', 'Notion databases')}, "
        f"{_count(tables, 'table', 'tables')}, "
        + "".join(f"{_count(n, one, many)}, " for n, one, many in _objects(project))
        + f"{_count(len(project.vocabularies), 'vocabulary', 'vocabularies')}.\n")


def _objects(project) -> list[tuple[int, str, str]]:
    """`(count, singular, plural)` of each kind of Supabase object beside tables the spec
    declares (kinds it declares none of are left out); default privileges count per schema and
    owner (one file each)."""
    objects = project.supabase_objects
    kinds = [(len(objects.enums), "enum type", "enum types"),
             (len(objects.extensions), "extension", "extensions"),
             (len(objects.sequences), "sequence", "sequences"),
             (len(objects.views), "view", "views"),
             (len(objects.functions), "function", "functions"),
             (len({(d.schema_name, d.owner) for d in objects.default_privileges}),
              "default privileges file", "default privileges files")]
    return [k for k in kinds if k[0]]


@app.command()
@user_errors
def plan(
    directory: DirOption = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="FILE",
                                                             help="Save the plan to this file.")] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 0 when there are no changes, 2 when there are.")] = False,
    target: Annotated[Optional[list[str]], typer.Option(
        "--target", metavar="ADDRESS", help='Only changes at or inside this address, e.g. notion.tasks '
        '(repeatable).')] = None,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Plan archiving (Notion) or deleting (Postgres) rows the content sources "
        "no longer have.")] = False,
    since: Annotated[Optional[str], typer.Option(
        "--since", metavar="ISO|last", help="Read only rows edited since this ISO time (with a minute of overlap), "
        "or 'last' for the last plan's read time.")] = None,
    sql_out: Annotated[Optional[Path], typer.Option(
        "--sql-out", metavar="DIR", help="Also write the plan's Postgres DDL as a Supabase CLI migration "
        "(<YYYYMMDDHHMMSS>_<name>.sql) in this folder, e.g. supabase/migrations.")] = None,
    dev_url: DevUrlOption = None,
    debug: DebugOption = False,
) -> None:
    """Show what apply would change, and optionally save the plan for review."""
    from reconciler.cli.progress import screen
    from reconciler.plan import planfile
    from reconciler.plan.build import check_targets

    check_targets(target or ())
    project, env = _load(directory)
    watermark = _since(project, since)
    with screen(), _open(project, env, dev_url) as session:
        result = session.plan(only=tuple(target or ()), prune=prune, since=watermark)
    _print_plan(result)
    if out is not None:
        planfile.save(result, out)
        output.out.print(f"\nSaved the plan to {out}. Apply it with: reconciler apply {out}")
    if sql_out is not None:
        _write_migration(result, sql_out, out.stem if out else "reconciler")
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)


def _since(project, value: str | None) -> str | None:
    """`--since`: an ISO time as given (not in the future; one without a zone is UTC), or
    `last`: the watermark of the last full read. Raises ConfigError for anything else."""
    from datetime import datetime, timezone

    from reconciler.state import load_state

    if value is None:
        return None
    if value != "last":
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"--since {value!r} is not an ISO 8601 time (e.g. "
                              "2026-01-31 or 2026-01-31T09:00:00Z) nor 'last'") from None
        now = datetime.now(timezone.utc)
        if (when if when.tzinfo else when.replace(tzinfo=timezone.utc)) > now:
            raise ConfigError(f"--since {value} is in the future (it is now "
                              f"{now.isoformat(timespec='seconds')}): nothing can have been "
                              "edited since then. Give a past time, or 'last'")
        return value
    watermark = load_state(project.root).content_watermark
    if watermark is None and not any(c.address.startswith("notion.")
                                     for c in getattr(project, "content", ())):
        raise ConfigError("--since last reads Notion databases' rows edited since the last full "
                          "read; this project has no Notion content (Postgres tables are read "
                          "whole every time): plan without --since")
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
def show(
    plan_file: Annotated[Path, typer.Argument(metavar="FILE", help="A saved plan file.",
                                              show_default=False)],
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="text|markdown|json",
                                     help="Output format (any case).")] = "text",
    reveal: Annotated[bool, typer.Option(
        "--reveal", help="Show sensitive values (the plan holds only their digests: they are "
        "read from the project's sources and the live systems). Refused in CI.")] = False,
    directory: DirOption = None,
    debug: DebugOption = False,
) -> None:
    """Print a saved plan as text, as markdown for a pull request, or as JSON."""
    from reconciler.plan import planfile
    from reconciler.render import render

    try:
        chosen = Format(fmt.lower())
    except ValueError:
        raise ConfigError(f"unknown format {fmt!r}: use text, markdown or json") from None
    the_plan = planfile.load(plan_file)
    if reveal:
        the_plan = _revealed(the_plan, directory)
    doc = planfile.to_document(the_plan)
    output.plain(render(doc, chosen.value, color=chosen is Format.text and output.is_terminal()))


def _revealed(the_plan: Plan, directory: Path | None) -> Plan:
    """`show --reveal`: the plan with its sensitive values read from their sources, never in CI
    (its output would land in a build log)."""
    from reconciler.cli.progress import screen
    from reconciler.digest_key import in_ci

    project, env = _load(directory)
    if in_ci(env):
        raise ConfigError("show --reveal prints sensitive values, so it is refused in CI "
                          "(CI=true): run it on your own machine")
    output.err.print("Note: --reveal shows sensitive values (personal data): keep this output "
                     "out of pull requests, issues and logs.")
    with screen(), _open(project, env) as session:
        return session.reveal(the_plan)


@app.command()
@user_errors
def schema(
    directory: DirOption = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", metavar="DIR", help="Folder for the JSON Schema files. Default: schemas/.schema")] = None,
    debug: DebugOption = False,
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
    token_env: Annotated[Optional[str], typer.Option(
        "--token-env", help="Accept only the token held by this environment variable (e.g. "
        "NOTION_TOKEN) and answer any other 401 unauthorized, as Notion does: to try a wrong "
        "token. Default: any token.")] = None,
    debug: DebugOption = False,
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
    token = None
    if token_env is not None:
        token = os.environ.get(token_env, "").strip() or None
        if token is None:
            raise ConfigError(f"--token-env {token_env}: that environment variable is not set "
                              "(or empty): set it to the token to accept")
    output.err.print(f"Local Notion on http://{host}:{port} (data in {root / LOCAL_DIR}); "
                     f"export NOTION_BASE_URL=http://{host}:{port}")
    if token is not None:
        output.err.print(f"Accepting only the token in ${token_env}; any other gets 401")
    if faults.active:
        output.err.print(f"Injecting faults: {faults}")
    if faults.search_lag:
        output.err.print(f"Search lag: {faults.search_lag:g} s")
    serve(root / LOCAL_DIR, host=host, port=port,
          faults=faults if faults.active or faults.search_lag else None, token=token)


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
    debug: DebugOption = False,
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
