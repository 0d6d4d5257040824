"""Content in the main job: read the live rows of every content set, diff them, write them.

Sequencing only; the work is in `backends.notion.pages` / `backends.postgres.content` (reading),
`diff.content` (pure diff) and `backends.notion.content` / `backends.postgres.content`
(writing).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.backends.notion.convert import row_from_page
from reconciler.backends.notion.pages import complete_row, read_rows
from reconciler.diff.content import ContentTarget, LiveRow, content_hash, diff_content
from reconciler.errors import ReadError
from reconciler.model.content import ContentSet
from reconciler.model.notion import Database, NotionDatabases
from reconciler.model.rich_text import plain
from reconciler.plan.changes import Change
from reconciler.plan.model import ContentSummary


@dataclass
class LiveContent:
    """Live rows per content target (`{target: {key: LiveRow}}`) and their fingerprints."""

    rows: dict[str, dict[str, LiveRow]] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)


def _key_text(value: Any) -> str | None:
    if isinstance(value, tuple):  # a rich_text key someone styled in Notion: its plain text
        value = plain(value)
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fingerprint(rows: Mapping[str, LiveRow]) -> str:
    data = sorted((k, r.id or "", r.stamp or "", r.digest or content_hash(r.values))
                  for k, r in rows.items())
    return "sha256:" + hashlib.sha256(json.dumps(data).encode()).hexdigest()


def notion_rows(client, content: ContentSet, live_db: Database | None,
                since: str | None = None, known: Mapping[str, LiveRow] | None = None
                ) -> tuple[dict[str, LiveRow], str]:
    """Live rows of a Notion content set by key, truncated values completed where the stored
    hash differs from the desired one (only those are compared field by field), and their
    fingerprint.

    Incremental (`since` and `known`, the rows of `load_snapshot`): only pages edited since
    `since` are queried; the others are `known`'s, except those whose stored hash differs from
    the desired one, which are fetched (`GET /v1/pages/{id}`) so the diff compares real values
    (and a trashed one is dropped). The fingerprint equals a full read's when nothing changed.
    """
    if live_db is None or live_db.data_source_id is None:
        return {}, "absent"
    wanted = {r.key: content_hash(r.values, exclude=content.hash_field) for r in content.rows}
    ids = {p.name: p.id for p in live_db.properties if p.id}
    rows: dict[str, LiveRow] = {}
    for row in read_rows(client, live_db.data_source_id, since=since):
        key = _key_text(row.values.get(content.key))
        if key is None:
            continue
        if key in rows:
            raise ReadError(
                f"{content.address}: two pages have the key {key!r} ({rows[key].id}, {row.id}); "
                "trash one in Notion so each key names one row")
        if row.truncated and row.values.get(content.hash_field) != wanted.get(key):
            row = complete_row(client, row, ids)
        rows[key] = LiveRow(key, row.id, row.values, stamp=row.last_edited_time)
    for key, old in (known or {}).items() if since else ():
        if key in rows:
            continue
        if key in wanted and old.values.get(content.hash_field) != wanted[key] and old.id:
            row = row_from_page(client.pages.retrieve(old.id))
            if row.in_trash:
                continue
            if row.truncated:
                row = complete_row(client, row, ids)
            old = LiveRow(key, row.id, row.values, stamp=row.last_edited_time)
        rows[key] = old
    return rows, _fingerprint(rows)


def snapshot_path(root: Path, target: str) -> Path:
    return root / ".reconciler" / "content" / (target + ".json")


def save_snapshot(root: Path, target: str, rows: Mapping[str, LiveRow], hash_field: str) -> None:
    """Remember each live row's id, stored hash, `last_edited_time` and values digest
    (`{key: {"id", "hash", "stamp", "digest"}}` in `.reconciler/content/<target>.json`), so an
    incremental read (`--since`) knows the rows it does not re-read and fingerprints like a
    full read."""
    path = snapshot_path(root, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {k: {"id": r.id, "hash": r.values.get(hash_field), "stamp": r.stamp,
                "digest": r.digest or content_hash(r.values)} for k, r in sorted(rows.items())}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def load_snapshot(root: Path, target: str, hash_field: str) -> dict[str, LiveRow] | None:
    """The rows remembered by `save_snapshot`, as `LiveRow`s holding only the hash; None if none."""
    try:
        data = json.loads(snapshot_path(root, target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {k: LiveRow(k, v.get("id"), {hash_field: v.get("hash")}, stamp=v.get("stamp"),
                       digest=v.get("digest")) for k, v in data.items()}


def _people_fields(content: ContentSet, desired: NotionDatabases) -> list[str]:
    db = desired.database(content.address.split(".", 1)[1]) \
        if content.address.startswith("notion.") else None
    return [p.name for p in (db.properties if db else ()) if p.type == "people"]


def people_ids(client, sets: Sequence[ContentSet], desired: NotionDatabases
               ) -> dict[str, str] | None:
    """`{e-mail (lower case): user id}` for the people fields of the Notion content sets: one
    `users.list` (paginated) per plan, and only when some set has a people field with a value
    (else None, no request).

    Raises `ReadError` naming the e-mail, the row's key and its source (`file[:line]`) when no
    member of the Notion workspace has an e-mail the content names (every such e-mail, one per line).
    """
    wanted = [(content, row, f, email) for content in sets
              for f in _people_fields(content, desired) for row in content.rows
              for email in row.values.get(f) or ()]
    if not wanted:
        return None
    from reconciler.backends.notion.users import user_id, user_ids_by_email

    users = user_ids_by_email(client)
    unknown = [f"{row.source}: {content.address} row {row.key!r}, {f}: no member of the Notion "
               f"workspace has the e-mail {email!r}"
               for content, row, f, email in wanted if user_id(users, email) is None]
    if unknown:
        raise ReadError("\n".join(dict.fromkeys(unknown)) + "\n(invite the person to the "
                        "workspace, or correct the address in the source)")
    return users


def notion_target(content: ContentSet, desired: NotionDatabases, live: NotionDatabases,
                  rows: Mapping[str, Mapping[str, LiveRow]], prune: bool,
                  people: Mapping[str, str] | None = None) -> ContentTarget:
    """What the diff needs for a Notion content set; relation keys resolve through the live rows
    of the related database's content set, people e-mails through `people` (`people_ids`; an
    e-mail it lacks stays as it is — `people_ids` has refused those already)."""
    key = content.address.split(".", 1)[1]
    want = desired.database(key)
    have = live.database(key)
    types = {p.name: p.type for p in want.properties} if want else {}
    targets = {p.name: p.relation.database for p in (want.properties if want else ())
               if p.type == "relation" and p.relation}

    def resolve(name: str, value: Any) -> Any:
        if types.get(name) == "people" and value and people is not None:
            return tuple(people.get(str(e).strip().lower(), e) for e in value)
        if name not in targets or not value:
            return value
        related = rows.get(f"notion.{targets[name]}", {})
        refs = value if isinstance(value, (list, tuple)) else [value]
        return tuple(related[str(k)].id if str(k) in related else {"key": str(k)} for k in refs)

    live_names = {p.name for p in have.properties} if have else set()
    former = {p.name: next((n for n in p.renamed_from if n in live_names), p.name)
              for p in (want.properties if want else ()) if p.name not in live_names}

    return ContentTarget(
        kind="notion", field_types=types, resolve=resolve, prune=prune,
        live_fields=frozenset(live_names) if have else None,
        live_name=lambda name: former.get(name, name))


def postgres_rows(conn, content: ContentSet, table) -> tuple[dict[str, LiveRow], str]:
    """Live rows of a Postgres content set by key (one query), and their fingerprint."""
    from reconciler.backends.postgres.content import content_fingerprint, read_rows as pg_rows

    if table is None:
        return {}, "absent"
    columns = {c.name for c in table.columns}
    fields = sorted(({f for r in content.rows for f in r.values} | {content.hash_field}) & columns)
    found = pg_rows(conn, table, content.key, fields)
    rows = {k: LiveRow(k, None, v) for k, v in found.items()}
    return rows, content_fingerprint(conn, table, content.key, content.hash_field) \
        if content.hash_field in {c.name for c in table.columns} else _fingerprint(rows)


def postgres_target(content: ContentSet, desired_table, live_table, prune: bool) -> ContentTarget:
    types = {c.name: c.type for c in desired_table.columns} if desired_table else {}
    return ContentTarget(
        kind="postgres", field_types=types, prune=prune,
        live_fields=frozenset(c.name for c in live_table.columns) if live_table else None)


def plan_content(sets: Sequence[ContentSet], live: LiveContent,
                 target_for: Callable[[ContentSet], ContentTarget]
                 ) -> tuple[list[Change], dict[str, ContentSummary]]:
    """Changes and summaries of every content set (pure once the inputs are read)."""
    changes: list[Change] = []
    summaries: dict[str, ContentSummary] = {}
    for content in sets:
        found, summary = diff_content(content, live.rows.get(content.address, {}),
                                      target_for(content))
        changes += found
        summaries[content.address] = summary.model_copy(
            update={"key": content.key, "hash_field": content.hash_field})
    return changes, summaries
