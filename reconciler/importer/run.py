"""The import as one call: read what exists, write the project's YAML, record the ids.

`import_into(root, env, request)` checks everything before the first write: the project loads,
every reference resolves, no file it would write exists (unless `force`), no text would be read
back differently (`${…}` is interpolated by the loader). Then it writes the files, records each
database's ids (database, data source, property ids and the formula text next to Notion's
rewritten form) in `.reconciler/state.json`, and loads the project again to prove it valid.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.backends.notion.schema import database_from_api
from reconciler.errors import ConfigError, SpecError, SpecProblem
from reconciler.importer import notion_source
from reconciler.importer.names import slug, unique_name
from reconciler.importer.notion_docs import Finding, notion_documents
from reconciler.importer.postgres_docs import table_document, table_file_name
from reconciler.importer.yaml_out import dump
from reconciler.model.notion import Database, bare_id
from reconciler.state import DatabaseState, NotionState, PropertyState, load_state, save_state

#: Schemas an import never reads unless named: the reconciler's own, and Postgres's.
INTERNAL_SCHEMAS = ("reconciler", "pg_catalog", "information_schema")
#: Characters ruamel.yaml treats as line breaks (YAML 1.1 did): a text holding one reads back changed.
LINE_BREAKS = ("\x85", "\u2028", "\u2029")
HEADER = "Written by `reconciler import`; edit freely: this file is now the source of truth."


@dataclass(frozen=True)
class ImportRequest:
    """What to import. `notion`: references (ids, URLs, pages); `every_notion`: every database
    the integration can see; `schemas`: every table of these Postgres schemas; `tables`: name
    patterns (`sot_*`, `app.*`; a pattern without a schema is in `public`); `force`: overwrite
    files that exist; `content`: also write each Notion database's pages as a content mapping
    (`importer.notion_content`)."""

    notion: tuple[str, ...] = ()
    every_notion: bool = False
    schemas: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    force: bool = False
    content: bool = False

    @property
    def wants_notion(self) -> bool:
        return self.every_notion or bool(self.notion)

    @property
    def wants_postgres(self) -> bool:
        return bool(self.schemas or self.tables)


@dataclass
class ImportResult:
    """Files written (relative to the root), findings (what could not be written as it is
    live), notes (what the import did besides), and the problems the project has once
    written (empty when it loads)."""

    written: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[SpecProblem] = field(default_factory=list)


def import_into(root: Path, env: Mapping[str, str], request: ImportRequest) -> ImportResult:
    """Import into the project at `root`. Raises `ConfigError` (nothing asked, a file exists, a
    reference resolves to nothing), `ReadError` (the API or the catalog failed), `SpecError`
    (the project does not load before the import)."""
    from reconciler.project.loader import load_project

    if not request.wants_notion and not request.wants_postgres:
        raise ConfigError("nothing to import: name Notion databases (--notion ID_OR_URL, or "
                          "--all-notion) and/or Postgres tables (--schema NAME, --table PATTERN)")
    project = load_project(root, env)
    result = ImportResult()
    files: dict[str, str] = {}
    state = load_state(root)
    if request.wants_notion:
        _import_notion(project, env, request, state, files, result)
    if request.wants_postgres:
        _import_postgres(project, env, request, files, result)
    _check_writable(root, files, request.force)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result.written.append(rel)
    save_state(root, state)
    try:
        load_project(root, env)
    except SpecError as exc:
        result.problems = list(exc.problems)
    return result


def _check_writable(root: Path, files: Mapping[str, str], force: bool) -> None:
    exists = [rel for rel, text in files.items() if (root / rel).exists()
              and (root / rel).read_text(encoding="utf-8") != text]
    if exists and not force:
        raise ConfigError(
            "the import would overwrite " + ", ".join(exists) + ": move them away, or pass "
            "--force to replace them with what is live (nothing was written)")
    unsafe = [rel for rel, text in files.items()  # spec files only: content files are not
              if rel.startswith("schemas/") and "${" in text]  # interpolated (env=None)
    if unsafe:
        raise ConfigError(
            "the live names or texts of " + ", ".join(unsafe) + " contain '${', which the "
            "loader reads as an environment variable: rename them in the live system first "
            "(nothing was written)")
    breaks = [rel for rel, text in files.items() if any(c in text for c in LINE_BREAKS)]
    if breaks:
        raise ConfigError(
            "the live names or texts of " + ", ".join(breaks) + " contain U+0085, U+2028 or "
            "U+2029, which the YAML reader takes for a line break: replace them in the live system "
            "first (nothing was written)")


# --- Notion ----------------------------------------------------------------------------------


def _import_notion(project: Any, env: Mapping[str, str], request: ImportRequest, state,
                   files: dict[str, str], result: ImportResult) -> None:
    from reconciler.backends.notion.client import open_notion

    connection = open_notion(project.root, env, rate_limit=project.config.notion.rate_limit)
    client = connection.client
    default_parent = project.config.notion.parent_page_id
    if default_parent is None and connection.local:
        from reconciler.local import root_page_id

        default_parent = root_page_id(client)
    found: list[notion_source.RawDatabase] = []
    if request.every_notion:
        found += notion_source.every_database(client)
    for reference in request.notion:
        found += notion_source.resolve(client, reference)
    asked = {bare_id(r.data_source_id) for r in found}
    raws, missing = notion_source.with_related(client, found)
    for raw in raws:
        if bare_id(raw.data_source_id) not in asked:
            result.notes.append(f"also imported {_title(raw) or raw.database['id']!r}: a relation "
                                "of an imported database points to it")
        if raw.extra_sources:
            result.notes.append(f"{_title(raw)!r} has {raw.extra_sources + 1} data sources: "
                                "only the first is imported")
    result.notes += [f"data source {m} is related to but not shared with the integration"
                     for m in missing]
    mine = state.notion.setdefault(connection.state_key, NotionState())
    databases = _live_models(project, raws, mine, result)
    docs = notion_documents(databases, default_parent)
    result.findings += docs.findings
    if request.content:
        _content(client, databases, docs.databases, files, result)
    for name, doc in docs.vocabularies.items():
        files[f"schemas/vocab/{name}.yaml"] = dump(doc, schema="../.schema/vocabulary.schema.json",
                                                   header=HEADER)
    for db in databases:
        files[f"schemas/notion/{db.name}.yaml"] = dump(
            docs.databases[db.name], schema="../.schema/notion-database.schema.json",
            header=HEADER + f"\nNotion database {db.id}")
        mine.databases[db.name] = DatabaseState(
            database_id=db.id or "", data_source_id=db.data_source_id or "",
            properties={p.name: PropertyState(
                id=p.id or "", formula_applied=docs.formulas.get((db.name, p.name), (None,))[0],
                formula_live=docs.formulas.get((db.name, p.name), (None, None))[1])
                for p in db.properties if p.id})


def _content(client, databases: list[Database], documents: dict[str, dict],
             files: dict[str, str], result: ImportResult) -> None:
    """Each database's pages as a content mapping and a rows file (`import --content`)."""
    from reconciler.backends.notion.pages import complete_row, read_rows
    from reconciler.importer.notion_content import HASH_PROPERTY, content_export, page_keys

    rows = {}
    for db in databases:
        ids = {p.name: p.id for p in db.properties if p.id}
        rows[db.name] = [complete_row(client, r, ids) for r in read_rows(client, db.data_source_id)]
    keys_of = {name: keys for name, keys in ((db.name, page_keys(db, rows[db.name]))
                                            for db in databases) if keys is not None}
    emails = _emails(client) if any(p.type == "people" for db in databases
                                    for p in db.properties) else {}
    for db in databases:
        file = f"content/notion/{db.name}.yaml"
        export, findings = content_export(db, rows[db.name], file, keys_of=keys_of, emails=emails)
        result.findings += findings
        if export is None:
            continue
        documents[db.name]["content"] = export.section
        if export.add_hash_property:
            documents[db.name]["properties"][HASH_PROPERTY] = {
                "type": "rich_text", "description": "The content hash the reconciler writes"}
            result.notes.append(f"notion.{db.name}: the next plan adds the property "
                                f"{HASH_PROPERTY!r} the content mapping needs (pages unchanged)")
        files[file] = dump(export.rows, header=HEADER + f"\nPages of {db.title!r}, the rows of "
                           f"schemas/notion/{db.name}.yaml's content mapping")


def _emails(client) -> dict[str, str] | None:
    """User id → e-mail of the workspace's people; None when they cannot be listed."""
    from reconciler.backends.notion.users import user_ids_by_email
    from reconciler.errors import ReadError

    try:
        return {user: email for email, user in user_ids_by_email(client).items()}
    except ReadError:
        return None


def _title(raw: notion_source.RawDatabase) -> str:
    from reconciler.backends.notion.schema import plain_text

    return plain_text(raw.database.get("title")).strip()


def _live_models(project: Any, raws: list, known: NotionState, result: ImportResult
                 ) -> list[Database]:
    """Each raw database as a live model under a logical name: the one the state already
    gives its database id, else a slug of its title unique among the project's files."""
    taken = {p.stem for p in (project.root / "schemas" / "notion").glob("*.yaml")}
    by_id = {bare_id(s.database_id): n for n, s in known.databases.items()}
    names: dict[str, str] = {}
    for raw in raws:
        name = by_id.get(bare_id(raw.database["id"]))
        if name is None:
            name = unique_name(slug(_title(raw)), taken | set(names.values()))
        names[bare_id(raw.data_source_id)] = name
    out = []
    for raw in raws:
        name = names[bare_id(raw.data_source_id)]
        db = database_from_api(name, raw.database, raw.data_source,
                               database_name_for=lambda ds: names.get(bare_id(ds)))
        if not db.title.strip():
            db = db.model_copy(update={"title": f"Untitled {name}"})
            result.findings.append(Finding(
                db.address, f"the database has no title, and the spec needs one: it is written "
                f"as {db.title!r}, which the plan sets in Notion (give it a real title in the "
                "file or in Notion)"))
        out.append(db)
    _refuse_shared_titles(out, project)
    return out


def _refuse_shared_titles(databases: list[Database], project: Any) -> None:
    """Databases are found again by title under their parent page, so the spec refuses two
    with one title under one page (`project.checks.check_unique_titles`): say so before
    writing anything."""
    groups: dict[tuple[str, str], list[str]] = {}
    imported = {db.name for db in databases}
    declared = [d for d in project.notion.databases if d.name not in imported]
    for db in [*databases, *declared]:
        key = (bare_id(db.parent_page_id or ""), db.title.strip().casefold())
        groups.setdefault(key, []).append(f"{db.title!r} ({db.id or 'schemas/notion/' + db.name + '.yaml'})")
    shared = [names for names in groups.values() if len(names) > 1]
    if shared:
        raise ConfigError(
            "databases that share a title under one page cannot be declared (they are found "
            "again by title): " + "; ".join(" and ".join(n) for n in shared) + ". Rename all but "
            "one in Notion, or import the others by --notion without them (nothing was written)")


# --- Postgres --------------------------------------------------------------------------------


def _patterns(request: ImportRequest) -> list[tuple[str, str]]:
    out = [(schema, "*") for schema in request.schemas]
    for pattern in request.tables:
        schema, _, name = pattern.rpartition(".")
        out.append((schema or "public", name))
    return out


def _import_postgres(project: Any, env: Mapping[str, str], request: ImportRequest,
                     files: dict[str, str], result: ImportResult) -> None:
    import psycopg

    from reconciler.backends.postgres.connect import connect, env_database_url
    from reconciler.backends.postgres.reader import read_catalog
    from reconciler.errors import ReadError

    patterns = _patterns(request)
    schemas = sorted({s for s, _ in patterns})
    conn = connect(project.root, env_database_url(env))
    try:
        tables = read_catalog(conn, schemas)
        owner = conn.execute("SELECT current_user").fetchone()[0]
    except psycopg.Error as exc:
        raise ReadError(f"reading the Postgres catalog failed: {exc}") from None
    finally:
        conn.close()
    chosen = [t for t in tables if any(t.schema_name == s and fnmatch.fnmatchcase(t.name, p)
                                       for s, p in patterns)]
    if not chosen:
        raise ConfigError("no Postgres table matches " + ", ".join(
            f"{s}.{p}" for s, p in patterns) + " (tables are matched by name, case-sensitively)")
    declared = {(t.schema_name, t.name) for t in project.supabase}
    left = sorted(f"{t.schema_name}.{t.name}" for t in tables
                  if t not in chosen and (t.schema_name, t.name) not in declared)
    if left:
        result.notes.append(
            f"{len(left)} other table(s) in {', '.join(schemas)} are neither imported nor "
            f"declared ({', '.join(left[:5])}{'…' if len(left) > 5 else ''}): a plan proposes "
            "dropping them (refused without --allow-destroy); import them too")
    existing = {(t.schema_name, t.name): _file_of(project.root, t) for t in project.supabase}
    taken = {p.stem for p in (project.root / "schemas" / "supabase").glob("*.yaml")}
    for table in chosen:
        stem = existing.get((table.schema_name, table.name)) or table_file_name(table, taken)
        taken.add(stem)
        doc, findings = table_document(table, stem, owner=owner)
        result.findings += findings
        files[f"schemas/supabase/{stem}.yaml"] = dump(
            doc, schema="../.schema/supabase-table.schema.json",
            header=HEADER + f"\nPostgres table {table.schema_name}.{table.name}")


def _file_of(root: Path, table) -> str | None:
    """The stem of the file declaring `table` when it is named after it (the default)."""
    path = root / "schemas" / "supabase" / f"{table.name}.yaml"
    return table.name if path.exists() and table.schema_name == "public" else None
