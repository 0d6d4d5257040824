"""Live pages of the Notion content sets: read by key, fingerprinted, remembered for `--since`.

Cost: ceil(rows / 100) queries per content set (`pages.query_pages`), plus one
`GET /v1/pages/{id}/properties/{id}` per truncated value of a row whose stored hash differs,
plus, on an incremental read, one `GET /v1/pages/{id}` per remembered row whose stored hash
differs from the desired one or whose values did not match at the last read. The snapshot
(`.reconciler/content/<address>.json`) keeps each row's id, stored hash, `last_edited_time`,
values digest (so an incremental read fingerprints like a full one) and the stamp at which its
values last matched the source (so a hand edit, which leaves the stored hash as it was, is
compared: drift).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.backends.notion.convert import row_from_page
from reconciler.backends.notion.pages import OVERLAP, complete_row, read_rows
from reconciler.errors import ReadError
from reconciler.model.content import ContentSet, LiveRow, Row, content_hash, rows_fingerprint
from reconciler.model.notion import Database, NotionDatabases
from reconciler.model.rich_text import plain


def key_text(value: Any) -> str | None:
    """A key property's value as the key text content sets use (`12` for `12.0`; a rich_text
    key someone styled in Notion by its plain text)."""
    if isinstance(value, tuple):
        value = plain(value)
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def notion_rows(client, content: ContentSet, live_db: Database | None,
                since: str | None = None, known: Mapping[str, LiveRow] | None = None, *,
                fetch: bool = True) -> tuple[dict[str, LiveRow], str]:
    """Live rows of a Notion content set by key, truncated values completed where the stored
    hash differs from the desired one, and their fingerprint (`"absent"` when the database does
    not exist).

    Drift: `known` (the rows of `load_snapshot`, read from disk at no cost) remembers the
    `last_edited_time` at which each row's values last matched the source (`LiveRow.checked`).
    A queried row whose stamp differs from it is marked `edited`, so the diff compares its
    values (which the query already holds) even when its stored hash matches: a hand edit is
    found without a single extra call. Values the query holds only in part (relations and
    people past 25 items) are not fetched for such a row: they are its `partial` fields, for
    which the stored hash still decides. A row whose stamp is unchanged keeps the hash
    short-cut.

    Incremental (`since`, with `known`): only pages edited since `since` are queried; the others
    are `known`'s, except those whose stored hash differs from the desired one or whose values
    did not match at the last read (not `checked` at their stamp), which are fetched
    (`GET /v1/pages/{id}`) so the diff compares real values (and a trashed one is dropped) —
    unless `fetch` is False (a stale check needs only the fingerprint; the hash decides for
    them). Raises `ReadError` when two pages share a key.
    """
    if live_db is None or live_db.data_source_id is None:
        return {}, "absent"
    wanted = content.hashes
    ids = {p.name: p.id for p in live_db.properties if p.id}
    known = known or {}
    rows: dict[str, LiveRow] = {}
    for row in read_rows(client, live_db.data_source_id, since=since):
        key = key_text(row.values.get(content.key))
        if key is None:
            continue
        if key in rows:
            raise ReadError(
                f"{content.address}: two pages have the key {key!r} ({rows[key].id}, {row.id}); "
                "trash one in Notion so each key names one row")
        same_hash = row.values.get(content.hash_field) == wanted.get(key)
        if row.truncated and not same_hash:
            row = complete_row(client, row, ids)
        rows[key] = _live_row(key, row, known.get(key))
    for key, old in known.items() if since else ():
        if key in rows:
            continue
        if fetch and key in wanted and old.id and \
                (old.values.get(content.hash_field) != wanted[key] or old.edited):
            row = row_from_page(client.pages.retrieve(old.id))
            if row.in_trash:
                continue
            if row.truncated and row.values.get(content.hash_field) != wanted[key]:
                row = complete_row(client, row, ids)
            old = _live_row(key, row, old)
        elif old.edited:  # values not read: the stored hash decides
            old = replace(old, edited=False)
        rows[key] = old
    return rows, rows_fingerprint(rows)


def _live_row(key: str, row: Row, last: LiveRow | None) -> LiveRow:
    """`row` as a `LiveRow`, `edited` unless its values last matched at this very stamp."""
    settled = last is not None and last.checked is not None and \
        last.checked == row.last_edited_time
    return LiveRow(key, row.id, row.values, stamp=row.last_edited_time,
                   digest=content_hash(row.values), checked=last.checked if settled else None,
                   edited=not settled, partial=() if settled else tuple(row.truncated))


def settle_rows(rows: Mapping[str, LiveRow], matched: Iterable[str], read_at: str | None
                ) -> dict[str, LiveRow]:
    """`rows` with the `matched` ones (keys whose values the diff found equal to the source's)
    remembered as `checked` at their stamp, so the next read trusts their stored hash until
    they are edited again. Only stamps two minutes (`2 × OVERLAP`) older than the read
    (`read_at`, ISO, from this machine's clock) settle: `last_edited_time` is minute-rounded,
    so an edit later in the same minute would keep the stamp, and the second minute is a
    margin for a local clock ahead of Notion's."""
    if read_at is None:
        return dict(rows)
    limit = _moment(read_at) - 2 * OVERLAP
    out = dict(rows)
    for key in matched:
        row = rows.get(key)
        if row is None or not row.stamp or row.checked == row.stamp:
            continue
        try:
            old_enough = _moment(row.stamp) <= limit
        except ValueError:
            continue
        if old_enough:
            out[key] = replace(row, checked=row.stamp, edited=False, partial=())
    return out


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def snapshot_path(root: Path, address: str) -> Path:
    return root / ".reconciler" / "content" / (address + ".json")


def save_snapshot(root: Path, address: str, rows: Mapping[str, LiveRow], hash_field: str) -> None:
    """Remember each live row's id, stored hash, `last_edited_time`, values digest and the
    stamp at which its values last matched the source
    (`{key: {"id", "hash", "stamp", "digest", "checked"}}`)."""
    path = snapshot_path(root, address)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {k: {"id": r.id, "hash": r.values.get(hash_field), "stamp": r.stamp,
                "digest": r.digest or content_hash(r.values), "checked": r.checked}
            for k, r in sorted(rows.items())}
    path.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")


def load_snapshot(root: Path, address: str, hash_field: str) -> dict[str, LiveRow] | None:
    """The rows remembered by `save_snapshot`, as `LiveRow`s holding only the hash and the
    `checked` stamp; `edited` when the last read found the row's values differing from the
    source's (not `checked` at its stamp), which an incremental read fetches. A snapshot older
    than `checked` has none: its rows are compared at the next full read, and an incremental
    read does not fetch them one by one. None if there is no snapshot."""
    try:
        data = json.loads(snapshot_path(root, address).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {k: LiveRow(k, v.get("id"), {hash_field: v.get("hash")}, stamp=v.get("stamp"),
                       digest=v.get("digest"), checked=v.get("checked"),
                       edited="checked" in v and v["checked"] != v.get("stamp"))
            for k, v in data.items()}


def people_fields(content: ContentSet, desired: NotionDatabases) -> list[str]:
    db = desired.database(content.database)
    return [p.name for p in (db.properties if db else ()) if p.type == "people"]


def people_ids(client, sets: Sequence[ContentSet], desired: NotionDatabases
               ) -> dict[str, str] | None:
    """`{e-mail (lower case): user id}` for the people fields of the content sets: one
    `users.list` (paginated) per plan, and only when some set has a people field with a value
    (else None, no request).

    Raises `ReadError` naming the e-mail, the row's key and its source (`file[:line]`) when no
    member of the Notion workspace has an e-mail the content names (every such e-mail, one per
    line).
    """
    wanted = [(content, row, f, email) for content in sets
              for f in people_fields(content, desired) for row in content.rows
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
