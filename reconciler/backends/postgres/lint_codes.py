"""The analyzers' codes: what each finding means and what to do about it (documented in
docs/supabase.md, "Lint codes"). Codes follow Atlas's analyzers (`atlasgo.io/lint/analyzers`:
DS destructive, MF data-dependent, BC backward incompatible) where Atlas has the same check;
PG codes are this project's own (lock-heavy changes on large tables) and DV the dev database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """A lint code: its `title` (what the change does) and `advice` (what to do)."""

    title: str
    advice: str


CODES: dict[str, Code] = {
    "DS102": Code("drops a table", "make sure its rows are not needed (or copied elsewhere) "
                  "before applying with --allow-destroy"),
    "DS103": Code("drops a column", "make sure its values are not needed before applying with "
                  "--allow-destroy; to keep them under another name use renamed_from"),
    "MF101": Code("adds a unique key over duplicate values",
                  "remove or merge the duplicate rows first (the count is of rows that share a "
                  "value), then plan again"),
    "MF103": Code("adds a NOT NULL column without a default to a table with rows",
                  "give the column a default (default: or default_sql:), or add it nullable, "
                  "fill it, then set nullable: false"),
    "MF104": Code("makes a column NOT NULL over existing NULLs",
                  "fill the NULLs first (UPDATE … SET col = … WHERE col IS NULL), or keep the "
                  "column nullable"),
    "MF105": Code("changes a column type over values that do not fit",
                  "fix or remove those values first, or pick a type that holds them"),
    "MF106": Code("narrows a column's length: longer values are cut",
                  "check the counted values; apply with --allow-destroy only if cutting them "
                  "is intended"),
    "MF107": Code("adds a CHECK that existing rows violate",
                  "fix those rows first (SELECT … WHERE NOT (<check>) finds them; NULL passes a "
                  "check), or change the check, then plan again"),
    "MF108": Code("adds a foreign key over rows that reference nothing",
                  "fix those rows first: set the column to NULL or to an existing key, or add "
                  "the missing rows to the referenced table, then plan again"),
    "BC101": Code("renames a table", "PostgREST clients (supabase-js, /rest/v1/<table>) that "
                  "use the old name break: release them together, or add a view with the old "
                  "name while they move"),
    "BC102": Code("renames a column", "PostgREST clients that select or filter on the old name "
                  "break: release them together, or keep the old column until they move"),
    "BC103": Code("drops a view or function clients may call", "PostgREST serves views at "
                  "/rest/v1/<view> and functions at /rest/v1/rpc/<name>: check no client calls "
                  "it any more"),
    "PG101": Code("creates an index on a large table in the transaction",
                  "set `concurrently: true` on the index: it is then built with CREATE INDEX "
                  "CONCURRENTLY, outside the transaction, without blocking writes"),
    "PG102": Code("changes a column type on a large table",
                  "the table is rewritten under an ACCESS EXCLUSIVE lock (no reads or writes "
                  "meanwhile): apply at a quiet time, or add a new column and backfill it"),
    "PG103": Code("adds a foreign key or check to a large table",
                  "every row is checked under a lock that blocks writes: apply at a quiet time"),
    "DV101": Code("fails on a copy of the live schema (the dev database)",
                  "fix the spec at the line shown: the statement and the server's message say "
                  "what is wrong"),
    "DV102": Code("could not be checked on a dev database",
                  "the live schema could not be copied into the dev database, or it lacks "
                  "an extension the plan adds (the message says which); point --dev-url at a "
                  "database that has what the schema uses, "
                  "e.g. a local Supabase (supabase start)"),
    "DV103": Code("was checked on a dev database that lacks an index's operator class",
                  "an extension the live database has (e.g. pg_trgm for gin_trgm_ops) cannot be "
                  "created in the dev database, so the indexes named were left out of the check "
                  "(the rest was checked); point --dev-url at a database that offers it, e.g. a "
                  "local Supabase (supabase start)"),
}
