"""`reconciler doctor`: is everything in place for plan and apply? Read-only.

Each check gives `ok`, `warn` or `fail` with what it found and, when not ok, what to do:

- the project loads (the spec is valid);
- Notion: the token (`GET /v1/users/me`: 401 means it is invalid, NOTION-API.md §4.4), the
  Notion-Version the client sends (the reconciler reads API 2025-09-03 shapes, NOTION-API.md §5)
  and that the server answers in it (a database carries `data_sources`), the default parent
  page, and each declared database: shared with the integration or not (Notion answers 404 for
  both "missing" and "not shared", §4.4), and readable (a query answered 403
  `restricted_resource` means the integration lacks the "Read content" capability). A missing
  "Insert content" or "Update content" capability shows only on a write (403), so it is named,
  not tested;
- Postgres: not Supabase's transaction pooler (port 6543 cannot hold apply's advisory lock:
  `backends.postgres.connect`), the connection, the advisory lock, CREATE on the declared
  schemas, the roles the spec's grants and policies name, and the extensions its types and
  defaults need.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from notion_client import APIResponseError

from reconciler.backends.notion.resilience import RetryPolicy
from reconciler.errors import ReconcilerError

#: The Notion-Version whose shapes the reconciler reads (NOTION-API.md, title).
NOTION_VERSION = "2025-09-03"
#: A check asks, it does not insist: two attempts within 10 s, so an unreachable server is
#: reported in seconds, not after apply's patient backoff (`resilience.RetryPolicy`).
DOCTOR_RETRIES = RetryPolicy(max_attempts=2, budget=10.0, base_delay=0.2, max_delay=1.0)
#: Roles Supabase creates in every project (Supabase docs, "Postgres roles").
SUPABASE_ROLES = ("anon", "authenticated", "service_role")
#: Text in a column type or default → the extension that provides it.
EXTENSIONS: dict[str, str] = {
    r"\bcitext\b": "citext", r"\buuid_generate_v[14]\b": "uuid-ossp",
    r"\bgen_random_bytes\b|\bcrypt\(|\bgen_salt\b": "pgcrypto", r"^vector\b": "vector",
    r"\bhstore\b": "hstore", r"\bltree\b": "ltree",
}


@dataclass(frozen=True)
class Check:
    """One finding: `status` ok / warn / fail, `name` of what was checked, `detail`, and `fix`
    (what to do; empty when ok)."""

    name: str
    status: str
    detail: str
    fix: str = ""


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, "warn", detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


# --- Notion ----------------------------------------------------------------------------------


def notion_checks(project: Any, env: Mapping[str, str], state: Any) -> list[Check]:
    """Token, Notion-Version, parent page and declared databases. Never raises for what it
    finds; a failure to open the connection is one failed check."""
    from reconciler.backends.notion.client import open_notion, token_from

    try:
        connection = open_notion(project.root, env, rate_limit=project.config.notion.rate_limit,
                                 policy=DOCTOR_RETRIES)
    except ReconcilerError as exc:
        return [fail("Notion connection", str(exc), "fix the Notion settings in .env")]
    client = connection.client
    checks: list[Check] = []
    if connection.local:
        checks.append(ok("Notion token", f"none needed: {connection.description}"))
    else:
        checks.append(_token(client, connection.description, bool(token_from(env))))
        if checks[-1].status == "fail":
            return checks
    version = client.options.notion_version
    checks.append(ok("Notion-Version", f"{version} (the version whose shapes the reconciler "
                                       "reads)") if version == NOTION_VERSION else
                  fail("Notion-Version", f"the client sends {version}, the reconciler reads "
                       f"{NOTION_VERSION}", "install notion-client 3.1 (pip install "
                       "'notion-client>=3.1,<4')"))
    known = state.notion.get(connection.state_key)
    parent = project.config.notion.parent_page_id
    if parent is None and connection.local:
        from reconciler.local import root_page_id

        parent = root_page_id(client)
    checks.append(_parent(client, parent, project))
    for db in project.notion.databases:
        checks += _database(client, db, known.databases.get(db.name) if known else None,
                            db.parent_page_id or parent)
    return checks


def _token(client, where: str, has_token: bool) -> Check:
    try:
        me = client.users.me()
    except httpx.TransportError as exc:
        return fail("Notion token", f"cannot reach {where}: {type(exc).__name__}",
                    "check the network, NOTION_BASE_URL, or that `reconciler local serve` runs")
    except APIResponseError as exc:
        if exc.status == 401:
            return fail("Notion token", f"{where} refused the token (401 {exc.code})",
                        "copy the integration's secret again (notion.so/my-integrations) "
                        "into NOTION_TOKEN in .env or the CI secret")
        return fail("Notion token", f"{where} answered {exc.status} {exc.code}",
                    "check NOTION_BASE_URL and the token")
    name = me.get("name") or (me.get("bot") or {}).get("workspace_name") or me.get("id")
    detail = f"{where} knows the integration {name!r}" if has_token else \
        f"{where} (no token: NOTION_BASE_URL only)"
    return ok("Notion token", detail)


def _parent(client, parent: str | None, project: Any) -> Check:
    if parent is None:
        orphans = [db.name for db in project.notion.databases if not db.parent_page_id]
        if not orphans:
            return ok("parent page", "every database names its parent page")
        return warn("parent page", "no default parent page: new databases cannot be created "
                    f"({', '.join(orphans[:5])})", "set NOTION_PARENT_PAGE_ID in .env to a page "
                    "shared with the integration")
    try:
        page = client.pages.retrieve(parent)
    except APIResponseError as exc:
        if exc.status == 404:
            return fail("parent page", f"page {parent} does not exist or is not shared with "
                        "the integration", "open the page in Notion, … → Connections → add "
                        "the integration (or fix NOTION_PARENT_PAGE_ID)")
        return fail("parent page", f"reading page {parent}: {exc.status} {exc.code}",
                    "check the token's capabilities")
    if page.get("in_trash") or page.get("archived"):
        return fail("parent page", f"page {parent} is in the trash", "restore it from the "
                    "trash in Notion, or set NOTION_PARENT_PAGE_ID to another page")
    return ok("parent page", f"page {parent} is shared with the integration")


def _database(client, db, known, parent: str | None) -> list[Check]:
    name = f"notion.{db.name}"
    if known is None:
        from reconciler.backends.notion.discover import find_database

        try:
            found = find_database(client, parent, db.title)
        except ReconcilerError as exc:
            return [fail(name, str(exc), "rename or trash the duplicates in Notion")]
        if found is None:
            return [ok(name, f"not created yet: apply creates {db.title!r}")]
        database = found
    else:
        try:
            database = client.databases.retrieve(known.database_id)
        except APIResponseError as exc:
            if exc.status == 404:
                return [fail(name, f"database {known.database_id} ({db.title!r}) is not shared "
                             "with the integration, or was deleted",
                             "open it in Notion, … → Connections → add the integration; if it "
                             "was deleted, restore it from the trash (or remove its entry from "
                             ".reconciler/state.json to create it again)")]
            return [fail(name, f"reading {known.database_id}: {exc.status} {exc.code}",
                         "check the token's capabilities")]
    if "data_sources" not in database:
        return [fail(name, "the server answered without data_sources: it does not speak "
                     f"Notion-Version {NOTION_VERSION}", "point NOTION_BASE_URL at a server "
                     "that does (or unset it)")]
    if database.get("in_trash"):
        return [fail(name, f"{db.title!r} is in the trash", "restore it in Notion, or remove "
                     "its entry from .reconciler/state.json to create it again")]
    return [_readable(client, name, database)]


def _readable(client, name: str, database: dict) -> Check:
    sources = database.get("data_sources") or []
    if not sources:
        return fail(name, "the database has no data source", "recreate it in Notion")
    try:
        client.data_sources.query(sources[0]["id"], page_size=1)
    except APIResponseError as exc:
        if exc.status == 403:
            return fail(name, f"reading its pages was refused (403 {exc.code}): the "
                        "integration lacks the 'Read content' capability",
                        "notion.so/my-integrations → the integration → Capabilities: tick Read, "
                        "Update and Insert content")
        if exc.status == 404:
            return fail(name, "its data source is not shared with the integration",
                        "… → Connections → add the integration")
        return fail(name, f"query answered {exc.status} {exc.code}", "try again later")
    return ok(name, "shared and readable (insert/update rights show only on a write)")


# --- Postgres --------------------------------------------------------------------------------


def postgres_checks(project: Any, env: Mapping[str, str]) -> list[Check]:
    """Pooler, connection, lock, privileges, roles and extensions. One failed check, never an
    exception, for what it finds."""
    import psycopg

    from reconciler.backends.postgres.connect import (TRANSACTION_POOLER_PORT, connect,
                                                      describe_database)

    url = env.get("DATABASE_URL") or None
    where = describe_database(url)
    try:
        conn = connect(project.root, url)
    except ReconcilerError as exc:
        pooler = f":{TRANSACTION_POOLER_PORT}" in (url or "")
        return [fail("Postgres connection", str(exc),
                     "use the direct connection (db.<ref>.supabase.co:5432) or the session "
                     "pooler (port 5432) in DATABASE_URL" if pooler else
                     "check DATABASE_URL (host, port, user, password) and that the server runs")]
    try:
        with conn:
            return [ok("Postgres connection", f"{where}: {_version(conn)}")] + \
                _postgres_rights(conn, project)
    except psycopg.Error as exc:
        return [fail("Postgres connection", f"{where}: {exc}", "check the server")]


def _version(conn) -> str:
    return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def _postgres_rights(conn, project: Any) -> list[Check]:
    checks = []
    got = conn.execute("SELECT pg_try_advisory_xact_lock(0)").fetchone()[0]
    conn.rollback()
    checks.append(ok("advisory lock", "apply can take its lock") if got else
                  warn("advisory lock", "another session holds lock 0", "retry when it is done"))
    for schema in sorted({t.schema_name for t in project.supabase}):
        exists, can = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s), CASE WHEN EXISTS "
            "(SELECT 1 FROM pg_namespace WHERE nspname = %s) THEN has_schema_privilege(%s, "
            "'CREATE') ELSE has_database_privilege(current_database(), 'CREATE') END",
            [schema, schema, schema]).fetchone()
        checks.append(ok(f"schema {schema}", "the user can create tables in it") if can else
                      fail(f"schema {schema}", "the user may not create tables in it"
                           + ("" if exists else " (nor create the schema)"),
                           f"GRANT CREATE ON SCHEMA {schema} TO <user>, or connect as the owner"))
    checks += _roles(conn, project) + _extensions(conn, project)
    conn.rollback()
    return checks


def _roles(conn, project: Any) -> list[Check]:
    """Roles a policy names must exist (`CREATE POLICY … TO role` fails without them); roles
    only grants name may be missing (apply's GRANTs are guarded: `compile.guarded`), e.g. a
    plain Postgres without Supabase's roles: a warning."""
    by_policy = {r for t in project.supabase for p in t.policies for r in p.roles} - {"public"}
    by_grant = {g.role for t in project.supabase for g in t.grants} - {"public"}
    named = by_policy | by_grant
    if not named:
        return []
    present = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                                          [sorted(named)])}
    missing = sorted(named - present)
    if not missing:
        return [ok("roles", f"{', '.join(sorted(named))} "
                   f"{'exists' if len(named) == 1 else 'exist'}")]
    create = "; ".join(f"CREATE ROLE {r} NOLOGIN" for r in missing)
    hard = [r for r in missing if r in by_policy]
    if hard:
        return [fail("roles", f"missing: {', '.join(missing)}; the policies naming "
                     f"{', '.join(hard)} cannot be created", f"{create}, or remove them from "
                     "the spec (on Supabase: connect to the project's database, which has "
                     f"{', '.join(SUPABASE_ROLES)})")]
    return [warn("roles", f"missing: {', '.join(missing)}: apply skips the grants to them",
                 f"{create} if they should exist (Supabase has {', '.join(SUPABASE_ROLES)})")]


def _extensions(conn, project: Any) -> list[Check]:
    texts = [t for table in project.supabase for c in table.columns for t in (c.type, c.default or "")]
    needed = sorted({ext for pattern, ext in EXTENSIONS.items()
                     if any(re.search(pattern, text, re.IGNORECASE) for text in texts)})
    if not needed:
        return []
    installed = {e for (e,) in conn.execute("SELECT extname FROM pg_extension")}
    missing = [e for e in needed if e not in installed]
    if not missing:
        return [ok("extensions", f"{', '.join(needed)} installed")]
    return [fail("extensions", f"the spec uses {', '.join(missing)}, not installed",
                 "; ".join(f'CREATE EXTENSION IF NOT EXISTS "{e}"' for e in missing)
                 + " (Supabase: Database → Extensions)")]


def run_checks(root, env: Mapping[str, str],
               load: Callable[[Any, Mapping[str, str]], Any]) -> list[Check]:
    """Every check for the project at `root`: `load(root, env)` loads it (a spec error is one
    failed check, and the live checks are skipped)."""
    from reconciler.errors import SpecError
    from reconciler.state import load_state

    try:
        project = load(root, env)
    except SpecError as exc:
        return [fail("spec", f"{len(exc.problems)} problem(s), first: {exc.problems[0]}",
                     "run reconciler validate and fix each file:line it names")]
    checks = [ok("spec", f"{len(project.notion.databases)} database(s), "
                         f"{len(project.supabase)} table(s)")]
    checks += notion_checks(project, env, load_state(root))
    if project.supabase or env.get("DATABASE_URL"):
        checks += postgres_checks(project, env)
    return checks
