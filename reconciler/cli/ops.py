"""Operator commands: `init`, `import`, `status`, `doctor`, `graph` (issue 17).

Each parses its options, calls one library function (`scaffold`, `importer.run`, `ops.status`,
`ops.doctor`, `diagram`) and prints the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from reconciler.cli import DebugOption, DirOption, app, output, user_errors
from reconciler.errors import ConfigError

NEXT_STEPS = """
Next:
  1. cp .env.example .env   and fill in NOTION_TOKEN and NOTION_PARENT_PAGE_ID (without them:
     the local Notion under .reconciler/), and DATABASE_URL for Supabase tables
  2. reconciler doctor      checks the token, the shared databases and the Postgres connection
  3. reconciler import --all-notion      (or --notion URL_OR_ID, --schema public, --table 'x_*')
  4. reconciler plan        right after an import: "No changes."
  5. git add . && git commit: .github/workflows/reconciler.yml plans every pull request
"""


def _root(directory: Path | None) -> Path:
    from reconciler.project.loader import find_root

    return find_root(directory or Path.cwd())


@app.command()
@user_errors
def init(
    target: Annotated[Optional[Path], typer.Argument(
        help="Folder of the new project (created if missing). Default: the current folder.",
        show_default=False)] = None,
    debug: DebugOption = False,
) -> None:
    """Start a project: reconciler.yaml, schemas/, plans/, .env.example, .gitignore lines, the
    JSON Schemas for editors and a GitHub Actions workflow. Never overwrites a file."""
    from reconciler.scaffold import WORKFLOW, install_source, scaffold

    root = target or Path.cwd()
    for rel in scaffold(root):
        output.out.print(f"wrote {rel}")
    output.out.print(f"\nA new reconciler project in {root.resolve()}." + NEXT_STEPS)
    if not install_source():
        output.out.print(f"  6. set RECONCILER_INSTALL in {WORKFLOW}: how CI installs the reconciler "
                         "(git+https://<its repository>@<tag>, a wheel URL, or its name on your "
                         "package index; `reconciler` on PyPI is another project)")


@app.command("import")
@user_errors
def import_(
    directory: DirOption = None,
    notion: Annotated[Optional[list[str]], typer.Option(
        "--notion", help="A Notion database, data source or page (every database directly "
        "under it), by id or link (repeatable).")] = None,
    all_notion: Annotated[bool, typer.Option(
        "--all-notion", help="Every database the integration can see.")] = False,
    schema: Annotated[Optional[list[str]], typer.Option(
        "--schema", help="Every table of this Postgres schema (repeatable).")] = None,
    table: Annotated[Optional[list[str]], typer.Option(
        "--table", help="Postgres tables by name pattern: 'sot_*', 'app.*' (repeatable; "
        "without a schema: public).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace spec files that exist with what is live.")] = False,
    content: Annotated[bool, typer.Option(
        "--content", help="Also write each Notion database's pages as a content mapping "
        "(content/notion/<name>.yaml, keyed by title).")] = False,
    debug: DebugOption = False,
) -> None:
    """Write YAML for existing Notion databases and Postgres tables, and record their ids, so
    the next plan is empty. Databases that imported ones relate to are imported with them."""
    from reconciler.importer.run import ImportRequest, import_into
    from reconciler.project.yaml import environment

    root = _root(directory)
    request = ImportRequest(notion=tuple(notion or ()), every_notion=all_notion,
                            schemas=tuple(schema or ()), tables=tuple(table or ()), force=force,
                            content=content)
    result = import_into(root, environment(root), request)
    for rel in result.written:
        output.out.print(f"wrote {rel}")
    for note in result.notes:
        output.out.print(f"note: {note}")
    for finding in result.findings:
        output.err.print(f"warning: {finding.address}: {finding.message}")
    if result.problems:
        output.err.print("The written project does not validate yet; fix these, then plan:")
        for problem in result.problems:
            output.err.print(f"  {problem}")
        raise typer.Exit(1)
    expect = "no changes but those the notes above name" if result.notes else "no changes"
    output.out.print(f"\nImported {len(result.written)} file(s) and recorded their ids in "
                     f".reconciler/state.json. Next: reconciler plan ({expect}).")


@app.command()
@user_errors
def status(
    directory: DirOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    debug: DebugOption = False,
) -> None:
    """Per database and table: rows, latest edit, pending changes, schema lag, deferred fields
    and the last apply. Reads only."""
    from reconciler.backends.registry import open_backends
    from reconciler.ops.status import project_status
    from reconciler.project.loader import load_project
    from reconciler.project.yaml import environment
    from reconciler.state import load_state

    if fmt.lower() not in ("text", "json"):
        raise ConfigError(f"unknown format {fmt!r}: use text or json")
    fmt = fmt.lower()
    root = _root(directory)
    env = environment(root)
    project = load_project(root, env)
    backends = open_backends(project, env, load_state(root))
    try:
        report = project_status(project, backends)
    finally:
        for backend in backends:
            backend.close()
    if fmt == "json":
        output.plain(report.as_json() + "\n")
        return
    from reconciler.cli.ops_view import print_status

    print_status(report)


@app.command()
@user_errors
def doctor(directory: DirOption = None, debug: DebugOption = False) -> None:
    """Check the token, the shared databases, the Notion-Version and the Postgres connection,
    roles and extensions; say what to do about each problem. Exit 1 when something fails."""
    from reconciler.cli.ops_view import print_checks
    from reconciler.ops.doctor import run_checks
    from reconciler.project.loader import load_project
    from reconciler.project.yaml import environment

    root = _root(directory)
    checks = run_checks(root, environment(root), load_project)
    print_checks(checks)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


@app.command()
@user_errors
def graph(
    directory: DirOption = None,
    plan_file: Annotated[Optional[Path], typer.Option(
        "--plan", help="Mark the resources this saved plan changes.")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="mermaid (the diagram source) or markdown (a fenced block "
        "GitHub renders).")] = "mermaid",
    compact: Annotated[bool, typer.Option(
        "--compact", help="Only the rows that link: titles, relations, rollups, key columns "
        "(and changed ones).")] = False,
    debug: DebugOption = False,
) -> None:
    """Print a Mermaid ER diagram of the declared databases, tables and relations. Reads no
    live state."""
    from reconciler.diagram import project_diagram
    from reconciler.plan import planfile
    from reconciler.project.loader import load_project
    from reconciler.project.yaml import environment

    if fmt.lower() not in ("mermaid", "markdown"):
        raise ConfigError(f"unknown format {fmt!r}: use mermaid or markdown")
    fmt = fmt.lower()
    root = _root(directory)
    project = load_project(root, environment(root))
    changes = planfile.load(plan_file).changes if plan_file is not None else ()
    text = project_diagram(project, changes, max_chars=0 if compact else None)
    if not text:
        output.err.print("Nothing is declared yet: import or write schemas/ first.")
        return
    output.plain(f"```mermaid\n{text}```\n" if fmt == "markdown" else text)
