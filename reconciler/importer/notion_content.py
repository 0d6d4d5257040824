"""Live pages → a `content:` mapping and its rows file (`import --content`). Pure.

A content set needs a key (a field whose value names each row across runs) and a hash (a
rich_text field the reconciler writes each row's content hash into: docs/content.md). The key is
the title property when every page has a distinct, non-empty title; the hash is the property
`Content hash` (declared when the database lacks it). The rows go to a YAML file
(`content/notion/<name>.yaml`, `rows:` a list) read by a `yaml` source whose `fields` map each
writable property to its column in the file. Values are written in the form the loader reads
back into the live normal form (`backends.notion.convert`): rich text as text or runs, options
by name, dates as `{start, end?, time_zone?}`, files as `{name, url}`, people by e-mail (user
ids are not content), relations by the keys of the related database's rows.

So the first plan after such an import creates the hash property where it is missing and
leaves every page as it is (their values equal the rows'); after that apply the plan is empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.backends.notion.rows import key_text
from reconciler.importer.names import slug, unique_name
from reconciler.importer.notion_docs import Finding
from reconciler.model.content import Row
from reconciler.model.notion import Database, bare_id
from reconciler.model.property_types import SENSITIVE_TYPES, WRITABLE_TYPES

HASH_PROPERTY = "Content hash"


@dataclass(frozen=True)
class ContentExport:
    """The `content:` section, the rows file's data, and whether the hash property must be
    declared (the database has none)."""

    section: dict[str, Any]
    rows: dict[str, Any]
    add_hash_property: bool


def page_keys(db: Database, rows: Sequence[Row]) -> dict[str, str] | None:
    """Bare page id → key (the title's text) when every page has a distinct, non-empty title;
    None otherwise."""
    title = db.title_property
    if title is None:
        return None
    keys = {bare_id(r.id or ""): key_text(r.values.get(title.name)) for r in rows}
    counts = Counter(keys.values())
    if None in counts or any(n > 1 for n in counts.values()):
        return None
    return keys  # type: ignore[return-value]


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively (YAML has lists)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def content_export(db: Database, rows: Sequence[Row], file: str, *,
                   keys_of: Mapping[str, Mapping[str, str]], emails: Mapping[str, str] | None
                   ) -> tuple[ContentExport | None, list[Finding]]:
    """The content mapping of `db` from its live `rows`, or None with a finding saying why.

    `keys_of`: logical database name → (bare page id → key) of every database exported
    together (relations name rows by these keys); `emails`: user id → e-mail, None when the
    workspace's users cannot be listed."""
    keys = keys_of.get(db.name)
    if keys is None:
        return None, [Finding(db.address, "content not written: the pages' titles are not all "
                              "distinct and non-empty, so they cannot be the rows' keys")]
    findings: list[Finding] = []
    personal = sorted(p.name for p in db.properties if p.type in SENSITIVE_TYPES)
    title = next((p for p in db.properties if p.type == "title"), None)
    if personal and title is not None and not title.sensitive:
        findings.append(Finding(f'{db.address}.property["{title.name}"]', (
            f"the rows are keyed by their title, and the database holds personal data "
            f"({', '.join(personal)}): if the titles are people's names, add `sensitive: true` "
            "to it, so plans, ledgers and reports name the rows by a digest (README "
            '"Sensitive values")')))
    hash_prop = db.property(HASH_PROPERTY)
    if hash_prop is not None and hash_prop.type != "rich_text":
        return None, [Finding(db.address, f"content not written: its property {HASH_PROPERTY!r} "
                              "is not rich_text, so it cannot hold the content hash")]
    fields: dict[str, str] = {}
    convert: dict[str, Any] = {}
    for prop in db.properties:
        if prop.type not in WRITABLE_TYPES or prop.name == HASH_PROPERTY:
            continue
        if prop.type == "relation" and (prop.relation is None
                                        or prop.relation.database not in keys_of):
            findings.append(Finding(f'{db.address}.property["{prop.name}"]', "left out of the "
                                    "content: the related database's rows are not exported"))
            continue
        if prop.type == "people" and (emails is None or any(
                i not in emails for r in rows for i in r.values.get(prop.name) or ())):
            findings.append(Finding(f'{db.address}.property["{prop.name}"]', "left out of the "
                                    "content: not every person in it has an e-mail the "
                                    "integration can see (content names people by e-mail)"))
            continue
        fields[prop.name] = unique_name(slug(prop.name, fallback="field"), fields.values())
        convert[prop.name] = prop
    data = []
    for row in sorted(rows, key=lambda r: keys[bare_id(r.id or "")]):
        item = {}
        for name, column in fields.items():
            value = _value(convert[name], row.values.get(name), keys_of, emails or {})
            if value not in (None, [], ""):
                item[column] = value
        data.append(item)
    section = {"key": db.title_property.name, "hash": HASH_PROPERTY,
               "source": {"yaml": file, "items": "rows", "fields": fields}}
    return ContentExport(section, {"rows": data}, hash_prop is None), findings


def _value(prop, value: Any, keys_of: Mapping[str, Mapping[str, str]],
           emails: Mapping[str, str]) -> Any:
    if prop.type == "relation":
        keys = keys_of[prop.relation.database]
        return [keys[bare_id(i)] for i in value or () if bare_id(i) in keys]
    if prop.type == "people":
        return [emails[i] for i in value or ()]
    return _plain(value)
