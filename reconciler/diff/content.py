"""The pure content diff: desired rows (from a source) vs live rows → page/row changes.

Hashes first (seed 004's SHA skip): a live row whose stored content hash equals the desired
row's hash costs nothing more, unless the row was edited since its values were last found to
match (`LiveRow.edited`: a hand edit leaves the stored hash as it was); rows whose hash differs
and edited rows get a field-by-field comparison, and only the fields that differ are written
(DESIGN.md "Performance, by design"). Fields the live schema lacks are *lagging*: counted per
field in the summary and listed on each change.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconciler import addresses
from reconciler.model.changes import ChangeBase, Phase
from reconciler.model.property_types import UNORDERED_TYPES
from reconciler.model.content import (ContentSet, ContentSummary, LiveRow, RowState, SourceRow,
                                      plain_data)

#: Types whose values are compared as sets (Notion keeps no meaningful order for them).
UNORDERED = UNORDERED_TYPES


@dataclass(frozen=True)
class RowChanges:
    """How one backend spells row changes: the change classes for a new, a changed and a removed
    row, the address nouns (`page`/`row`, `property`/`column`), the fields every change of the
    set carries (`{"database": "tasks"}`, `{"table": TableRef}`) and whether removing a row is
    destructive (a Postgres delete is; a Notion archive can be undone from the trash)."""

    create: type[ChangeBase]
    update: type[ChangeBase]
    remove: type[ChangeBase]
    row_noun: str
    field_noun: str
    where: Mapping[str, Any] = field(default_factory=dict)
    remove_is_destructive: bool = False


@dataclass(frozen=True)
class ContentSchema:
    """What the content diff needs to know of the database or table a content set goes into.

    - `changes`: how its row changes are spelled (`RowChanges`).
    - `field_types`: declared field → type (Notion property type or Postgres type).
    - `live_fields`: fields the live schema has now; None when the database/table is absent.
    - `resolve(field, value)`: desired normal-form value → the form live rows hold (relation keys →
      page ids, e-mails → user ids); an unknown reference stays `{"key": k}` until apply.
    - `live_name(field)`: the name the field has live now (its former name while a rename is
      still to be applied), so a property renamed in the same plan is neither lagging nor
      rewritten.
    - `row_name(key)`: how a row is named in its address: its key, or a keyed digest of it when
      the key is sensitive (`model.sensitive.Sealer.name`).
    - `trust_hash`: a live row whose stored content hash matches is taken as unchanged without
      comparing its values, unless the row says it was edited since they last matched
      (`LiveRow.edited`, Notion). Only for backends where reading the values would cost more calls;
      where the read brings every value anyway (Postgres) it is False, so a value edited by
      hand (which leaves the stored hash as it was) is planned back.
    """

    changes: RowChanges
    field_types: Mapping[str, str]
    live_fields: frozenset[str] | None
    resolve: Callable[[str, Any], Any] = lambda f, v: v
    live_name: Callable[[str], str] = lambda f: f
    row_name: Callable[[str], str] = lambda k: k
    trust_hash: bool = True


def comparable(type_: str, value: Any) -> Any:
    """A value in the form two sides are compared in: sets for unordered types, dates parsed,
    numbers as numbers, empty text and empty lists as None.

    A Notion date `{"start", "end"?, "time_zone"?}` compares as the instants it names, in UTC
    and to the minute, without `time_zone`: Notion answers a write of
    `{"start": "2026-06-27T06:57:51.462999", "time_zone": "Europe/London"}` with
    `{"start": "2026-06-27T06:57:00.000+01:00", "time_zone": null}`
    (REC:UN/test_query/test_date_query.yaml #3-4; "UTC" likewise in test_query_rollup.yaml).
    Date-only values stay dates; a date-time with neither offset nor zone is taken as UTC.
    """
    if value in ("", (), [], {}):
        return None
    if type_ in UNORDERED and isinstance(value, (list, tuple)):
        return tuple(sorted(json.dumps(plain_data(v), sort_keys=True) for v in value))
    if type_ == "date" and isinstance(value, dict):
        zone = value.get("time_zone")
        return {k: _minute(v, zone) for k, v in value.items() if v and k in ("start", "end")}
    if type_ in ("date", "timestamptz", "timestamp") and isinstance(value, str):
        return _instant(value)
    return plain_data(value)


def _minute(text: Any, zone: str | None) -> Any:
    """A Notion date-time as `YYYY-MM-DDTHH:MM+00:00` (UTC, seconds dropped); dates as given."""
    if not isinstance(text, str) or len(text) <= 10:
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone) if zone else timezone.utc)
        except (ZoneInfoNotFoundError, ValueError):
            return text
    moment = moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
    return moment.isoformat(timespec="minutes")


def _instant(text: Any) -> Any:
    if not isinstance(text, str) or len(text) <= 10:
        return text
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return text


def diff_content(content: ContentSet, live: Mapping[str, LiveRow], schema: ContentSchema, *,
                 prune: bool = False) -> tuple[list[ChangeBase], ContentSummary]:
    """Changes that make the live rows match `content`, and the per-set summary. With `prune`,
    live rows the source no longer has are removed (archived / deleted)."""
    spell = schema.changes
    changes: list[ChangeBase] = []
    counts: Counter[str] = Counter()
    lag: Counter[str] = Counter()
    marks = {"sensitive": content.sensitive, "sensitive_key": content.sensitive_key}
    for row in content.rows:
        want_hash = content.hashes[row.key]
        have = live.get(row.key)
        same_hash = have is not None and have.values.get(content.hash_field) == want_hash
        if same_hash and schema.trust_hash and not have.edited:
            fields = []
        else:  # hash differs, or the row was edited since its values last matched: compare
            fields = _fields(row, content, schema, have,
                             skip=have.partial if same_hash and have is not None else ())
        if have is not None and not fields:
            counts["unchanged"] += 1
            continue
        lagging = tuple(sorted(f for f in fields if schema.live_fields is not None
                               and schema.live_name(f) not in schema.live_fields))
        lag.update(addresses.child(content.address, spell.field_noun, f) for f in lagging)
        after = RowState(key=row.key, hash=want_hash, source=row.source,
                         values={f: schema.resolve(f, row.values.get(f)) for f in fields},
                         **marks)
        address = addresses.child(content.address, spell.row_noun, schema.row_name(row.key))
        counts["create" if have is None else "update"] += 1
        if have is None:
            changes.append(spell.create(address=address, phase=Phase.CONTENT, after=after,
                                        lagging=lagging, **spell.where))
        else:
            before = RowState(id=have.id, hash=have.values.get(content.hash_field),
                              values={f: have.values.get(schema.live_name(f)) for f in fields},
                              **marks)
            changes.append(spell.update(address=address, phase=Phase.CONTENT, before=before,
                                        after=after, lagging=lagging, **spell.where))
    wanted = {row.key for row in content.rows}
    gone = sorted((r for k, r in live.items() if k not in wanted), key=lambda r: r.key)
    if prune:
        changes += [spell.remove(address=addresses.child(content.address, spell.row_noun,
                                                         schema.row_name(r.key)),
                                 phase=Phase.CONTENT, before=RowState(id=r.id, key=r.key,
                                                                      **marks),
                                 destructive=spell.remove_is_destructive,
                                 note="gone from the source (--prune)", **spell.where)
                    for r in gone]
    summary = ContentSummary(
        key=content.key, hash_field=content.hash_field,
        create=counts["create"], update=counts["update"], unchanged=counts["unchanged"],
        archive=len(gone) if prune else 0,
        not_in_source=0 if prune else len(gone), lag=dict(sorted(lag.items())))
    return changes, summary


def _fields(row: SourceRow, content: ContentSet, schema: ContentSchema,
            have: LiveRow | None, skip: tuple[str, ...] = ()) -> list[str]:
    """The fields to write: all of the row's for a new row, else those whose value differs
    (`skip`: fields not compared, whose live values were read only in part)."""
    names = [f for f in row.values if f != content.hash_field and f not in skip]
    if have is None:
        return names
    out = []
    for f in names:
        type_ = schema.field_types.get(f, "")
        want = comparable(type_, schema.resolve(f, row.values[f]))
        if want != comparable(type_, have.values.get(schema.live_name(f))):
            out.append(f)
    return out
