"""One table of what every Notion property type can do, read by every layer.

Source: NOTION-API.md §2 (legend C/U/W, recorded for all 24 types in
REC:UN/fixtures/mod_all_props_db.yaml) and §3.3 (retypes that keep every value, measured by
notion-seed). The spec (which types may be declared and written), the diff (lossless retypes,
values compared as sets), `mirror:` (the Postgres column type), the content values (what a
source value must become) and the Notion backend (the value readers and writers of
`backends/notion/convert.py`, keyed by the same names) all read this table; a test checks that
every type in the recorded sessions has a row, that the backend has a reader for every row and a
writer for every writable row, and that the local Notion knows every type.

Besides the columns, the layers derive their per-type sets from the rows: the content key types,
the sync seed key types, the types held as a list, the types `mirror:` and `sync:` store as text
(below), the formula type of `prop("X")` (`project.formula_check`) and the coercer of a content
value (`project.values`, by value form; e-mail syntax is the one per-type rule there).

Adding a property type whose value form already exists (a writable text-valued `handle`, say:
value `text`, mirrored `text`) changes three files: its row here; its value reader (`_READERS`)
and, when writable, its writer (`_WRITERS`) in `backends/notion/convert.py`; and its name in
the local Notion's `TYPES` in `local/props.py` (and in `STRING_TYPES` there when its value is a bare
string, with its length limit). The spec (`project/documents.py` gives it a document of no
settings), the diff, the content values, `mirror:`, `sync:` and formulas follow from the row.
Regenerate the committed JSON schemas (`reconciler schema`, `schemas/.schema/`); the content key
error lists it among the key types when its form is text, rich, option or number. A type with
settings of its own also needs its fields on `model.notion.Property` and its document in
`project/documents.py`; a new value form also needs its coercer in `project/values.py` and its
writer and reader in the local Notion (`local/values.py`, `local/render.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Normal forms of values (what `SourceRow.values` and live rows hold; see docs/content.md):
#: text → str | None; rich → str | None, or a tuple of styled runs (`model.rich_text`);
#: number → int | float | None; option → option name; options → tuple of names;
#: date → {"start", "end"?, "time_zone"?}; users → tuple of user ids (e-mails in a source);
#: pages → tuple of page ids (keys in a source); files → tuple of {"name", "url"}; bool → bool;
#: place → {"lat", "lon", …}; computed → whatever Notion computes (read-only).
ValueForm = str


@dataclass(frozen=True)
class PropertyType:
    """One Notion property type.

    - `creatable`: a schema write can create it (NOTION-API.md §2 column C); else only the Notion
      UI can add it (button, verification) and declaring it plans a manual step.
    - `writable`: page values can be written (column W).
    - `value`: the normal form of its values (`ValueForm`).
    - `unordered`: values are compared as sets (Notion keeps no meaningful order).
    - `postgres`: the column type `mirror:` gives it; None when it holds nothing worth storing.
    - `lossless_to`: types it can be retyped to keeping every value (§3.3).
    - `retypable`: the API can change it to or from another type (title and place cannot, §3.2-3.3).
    - `formula`: the type of `prop("X")` in a formula (`project.formula_check`: `text`,
      `number`, `boolean`, `date`, `person`, `list[<type>]`; `any` when the help page gives none).
    - `sensitive`: its values are personal data (people: `people`, `created_by`,
      `last_edited_by`; e-mail addresses; phone numbers), so a property of this type is
      sensitive unless it says `sensitive: false` (plans, ledgers and reports then hold a keyed
      digest of its values, never the values: `model.sensitive`).
    """

    name: str
    creatable: bool
    writable: bool
    value: ValueForm
    postgres: str | None
    unordered: bool = False
    lossless_to: frozenset[str] = frozenset()
    retypable: bool = True
    sensitive: bool = False
    formula: str = "any"

    @property
    def read_only(self) -> bool:
        return not self.writable


def _row(name: str, creatable: bool, writable: bool, value: ValueForm, postgres: str | None,
         *, unordered: bool = False, lossless_to: tuple[str, ...] = (),
         retypable: bool = True, sensitive: bool = False, formula: str = "any") -> PropertyType:
    return PropertyType(name, creatable, writable, value, postgres, unordered,
                        frozenset(lossless_to), retypable, sensitive, formula)


#: Every property type of the API (2025-09-03), by name.
PROPERTY_TYPES: dict[str, PropertyType] = {t.name: t for t in (
    _row("title", True, True, "text", "text", retypable=False, formula="text"),
    _row("rich_text", True, True, "rich", "text", lossless_to=("url",), formula="text"),
    _row("number", True, True, "number", "numeric", lossless_to=("rich_text", "url"),
         formula="number"),
    _row("select", True, True, "option", "text",
         lossless_to=("rich_text", "url", "multi_select"), formula="text"),
    _row("multi_select", True, True, "options", "text[]", unordered=True,
         lossless_to=("rich_text", "url"), formula="list[text]"),
    _row("status", True, True, "option", "text", formula="text"),
    _row("date", True, True, "date", "timestamptz", lossless_to=("rich_text",), formula="date"),
    _row("people", True, True, "users", "jsonb", unordered=True, lossless_to=("rich_text",),
         sensitive=True, formula="list[person]"),
    _row("files", True, True, "files", "jsonb"),
    _row("checkbox", True, True, "bool", "boolean", lossless_to=("rich_text", "url"),
         formula="boolean"),
    _row("url", True, True, "text", "text", lossless_to=("rich_text",), formula="text"),
    _row("email", True, True, "text", "text", sensitive=True, formula="text"),
    _row("phone_number", True, True, "text", "text", sensitive=True, formula="text"),
    _row("formula", True, False, "computed", "jsonb"),
    _row("relation", True, True, "pages", "uuid[]", unordered=True, formula="list[page]"),
    _row("rollup", True, False, "computed", "jsonb"),
    _row("created_time", True, False, "computed", "timestamptz", formula="date"),
    _row("created_by", True, False, "computed", "jsonb", sensitive=True, formula="person"),
    _row("last_edited_time", True, False, "computed", "timestamptz", formula="date"),
    _row("last_edited_by", True, False, "computed", "jsonb", sensitive=True, formula="person"),
    _row("unique_id", True, False, "computed", "text"),
    _row("place", True, True, "place", "jsonb", retypable=False),
    # writable only in wiki databases (§2, doc only, unrecorded): not written by this tool
    _row("verification", False, False, "computed", "jsonb"),
    _row("button", False, False, "computed", None),
)}

#: Types a schema write can create (§2 column C).
CREATABLE_TYPES: frozenset[str] = frozenset(n for n, t in PROPERTY_TYPES.items() if t.creatable)
#: Types Notion returns but only its UI can add.
UI_ONLY_TYPES: frozenset[str] = frozenset(PROPERTY_TYPES) - CREATABLE_TYPES
#: Types whose page values the API writes (§2 column W).
WRITABLE_TYPES: frozenset[str] = frozenset(n for n, t in PROPERTY_TYPES.items() if t.writable)
#: Types whose values are compared as sets.
UNORDERED_TYPES: frozenset[str] = frozenset(n for n, t in PROPERTY_TYPES.items() if t.unordered)
#: Types whose values are personal data: a property of one is sensitive unless it opts out.
SENSITIVE_TYPES: frozenset[str] = frozenset(n for n, t in PROPERTY_TYPES.items() if t.sensitive)
#: Value forms that are one piece of text (a title, rich text, a URL, an option name, …).
TEXT_FORMS: tuple[ValueForm, ...] = ("text", "rich", "option")
#: Value forms that are lists (one value is a one-item list).
LIST_FORMS: tuple[ValueForm, ...] = ("options", "users", "pages", "files")
#: Types whose values are one piece of text, in table order: a sync seed's key (`sync.seed`).
TEXT_TYPES: tuple[str, ...] = tuple(n for n, t in PROPERTY_TYPES.items() if t.value in TEXT_FORMS)
#: Types a content key property may have, in table order (error messages list them): one piece
#: of text or a number.
KEY_TYPES: tuple[str, ...] = tuple(n for n, t in PROPERTY_TYPES.items()
                                   if t.value in TEXT_FORMS + ("number",))
#: Types `mirror:` stores in a text column, computed ones included (`unique_id`).
TEXT_COLUMN_TYPES: frozenset[str] = frozenset(
    n for n, t in PROPERTY_TYPES.items() if t.postgres == "text")
#: Types whose value is a list.
LIST_TYPES: frozenset[str] = frozenset(
    n for n, t in PROPERTY_TYPES.items() if t.value in LIST_FORMS)
#: `(from, to)` retypes that keep every value (§3.3).
LOSSLESS_RETYPES: frozenset[tuple[str, str]] = frozenset(
    (n, to) for n, t in PROPERTY_TYPES.items() for to in t.lossless_to)


def property_type(name: str) -> PropertyType | None:
    """The row of `name`, or None for a type this table does not know (newer than this code)."""
    return PROPERTY_TYPES.get(name)
