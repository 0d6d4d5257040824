"""Pydantic models of what users write: `schemas/notion/<db>.yaml` and `schemas/vocab/<name>.yaml`.

These are the *documents* (Atlas's `sqlspec`), not the resource model: `project.resolve` turns them
into `reconciler.model.notion` objects. Every model refuses unknown keys (extra="forbid"). A
property is a tagged union on `type`, so a key that belongs to another type (e.g. `format` on a
select) is refused where it stands and the JSON Schema gives editors one branch per type.
Vocabularies of types, colours, number formats and rollup functions are the API's own
(`reconciler.model.notion`, NOTION-API.md §2).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, field_validator

from reconciler.notion_docs import PROPERTY_OBJECT
from reconciler.project.content_docs import ContentDoc
from reconciler.model.notion import NUMBER_FORMATS, OPTION_COLORS, ROLLUP_FUNCTIONS
from reconciler.model.property_types import PROPERTY_TYPES

#: Longest option or property name Notion accepts (NOTION-API.md §3.4, "length should be ≤ 100").
MAX_NAME = 100

Color = Literal[OPTION_COLORS]  # type: ignore[valid-type]
NumberFormat = Literal[NUMBER_FORMATS]  # type: ignore[valid-type]
RollupFunction = Literal[ROLLUP_FUNCTIONS]  # type: ignore[valid-type]
VocabularyMode = Literal["closed", "additive", "open"]


class Doc(BaseModel):
    """Base of every spec document model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


def check_option_name(name: str) -> str:
    """Notion's option-name rules (NOTION-API.md §3.4): not empty, no comma, ≤ 100 characters.

    Returns `name` unchanged; raises ValueError with what to do.
    """
    if not name.strip():
        raise ValueError("option name is empty: give the option a name")
    if "," in name:
        raise ValueError(f"option name {name!r} contains a comma, which Notion refuses "
                         f"({PROPERTY_OBJECT}): remove the comma")
    if len(name) > MAX_NAME:
        raise ValueError(f"option name is {len(name)} characters long: Notion allows at most "
                         f"{MAX_NAME} (its API answers a longer one with `name.length should "
                         f"be ≤ {MAX_NAME}`)")
    return name


class OptionDoc(Doc):
    """One select/multi_select/status option: `Done` or `{name: Done, color: green, description: …}`."""

    name: str = Field(description="Option name: no commas, at most 100 characters, unique ignoring case.")
    color: Color | None = Field(None, description="Option colour; a stable colour from the name when omitted.")
    description: str | None = Field(None, description="Option description shown in Notion.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_option_name(value)


def _option_shorthand(value: Any) -> Any:
    """`Done` → `{name: Done}`; numbers are option names too (`2024` → `"2024"`)."""
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"name": str(value)}
    return value


Option = Annotated[OptionDoc, BeforeValidator(_option_shorthand, json_schema_input_type=Union[str, OptionDoc])]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class PropertyBase(Doc):
    """Keys every property accepts."""

    description: str | None = Field(None, description="Property description shown in Notion.")
    renamed_from: Annotated[list[str], BeforeValidator(_as_list)] = Field(
        default_factory=list,
        description="Former names, newest first: a rename in YAML renames the live property "
                    "instead of dropping and re-adding it.")
    sensitive: bool | None = Field(
        None, description="Its values are personal data: plans, the ledger and reports show a "
                          "keyed digest, never the value. Default: true for email, phone_number, "
                          "people, created_by and last_edited_by, false otherwise.")


def _plain(type_name: str) -> type[PropertyBase]:
    """A property type with no settings of its own (e.g. `{type: date}`)."""
    model = type(f"{type_name.title().replace('_', '')}Doc", (PropertyBase,), {
        "__annotations__": {"type": Literal[type_name]},  # type: ignore[valid-type]
        "__doc__": f"A `{type_name}` property (no settings).",
        "__module__": __name__,
    })
    return model


#: Types with settings of their own, whose documents follow below; every other row of
#: `model.property_types` is declared as `{type: <name>}` (button and verification too: only the
#: Notion UI adds them, and the plan says so as a manual step).
CONFIGURED_TYPES: frozenset[str] = frozenset({
    "number", "select", "multi_select", "status", "relation", "rollup", "formula", "unique_id"})
PLAIN_TYPES: tuple[str, ...] = tuple(t for t in PROPERTY_TYPES if t not in CONFIGURED_TYPES)
_PLAIN_DOCS = tuple(_plain(t) for t in PLAIN_TYPES)


class NumberDoc(PropertyBase):
    """A `number` property with its display `format` (NOTION-API.md §2)."""

    type: Literal["number"]
    format: NumberFormat = Field("number", description="Number format, as Notion names it.")


class OptionsBase(PropertyBase):
    """Options of a select-like property: inline `options` or a shared `vocabulary`, not both."""

    options: list[Option] | None = Field(None, description="Inline options (managed exactly).")
    vocabulary: str | None = Field(None, description="Name of a file schemas/vocab/<name>.yaml.")


class SelectDoc(OptionsBase):
    """A `select` property."""

    type: Literal["select"]


class MultiSelectDoc(OptionsBase):
    """A `multi_select` property."""

    type: Literal["multi_select"]


class StatusDoc(OptionsBase):
    """A `status` property (schema writes supported by Notion since ~2026-03, NOTION-API.md §3.4)."""

    type: Literal["status"]


class RelationDoc(PropertyBase):
    """A `relation` to another declared database, by its logical name (file stem)."""

    type: Literal["relation"]
    database: str = Field(description="Logical name of the related database (its file stem).")
    two_way: bool = Field(False, description="Notion's dual_property: also show the relation there.")
    synced_property: str | None = Field(
        None, description="Name of the property on the other side (two-way only); Notion's "
                          "default is 'Related to <this title> (<this property>)'.")


class RollupDoc(PropertyBase):
    """A `rollup`: `function` over `property` of the pages linked through `relation`."""

    type: Literal["rollup"]
    relation: str = Field(description="A relation property of this database.")
    property: str = Field(description="A property of the related database.")
    function: RollupFunction = Field(description="Rollup function, as Notion names it.")


class FormulaDoc(PropertyBase):
    """A `formula` with its Notion formula `expression`."""

    type: Literal["formula"]
    expression: str = Field(description="Notion formula, e.g. prop(\"Estimate\") * 2.")


class UniqueIdDoc(PropertyBase):
    """A `unique_id` property (numbers assigned by Notion) with an optional `prefix`."""

    type: Literal["unique_id"]
    prefix: str | None = Field(None, description="Prefix shown before the number, e.g. TASK.")


PROPERTY_DOCS: tuple[type[PropertyBase], ...] = _PLAIN_DOCS + (
    NumberDoc, SelectDoc, MultiSelectDoc, StatusDoc, RelationDoc, RollupDoc, FormulaDoc, UniqueIdDoc,
)
#: property type → its document model (one per row of `model.property_types`).
DOC_BY_TYPE: dict[str, type[PropertyBase]] = {
    m.model_fields["type"].annotation.__args__[0]: m for m in PROPERTY_DOCS  # type: ignore[union-attr]
}
assert set(DOC_BY_TYPE) == set(PROPERTY_TYPES), "every property type needs a document model"

PropertyDoc = Annotated[Union[PROPERTY_DOCS], Discriminator("type")]  # type: ignore[valid-type]


class DatabaseDoc(Doc):
    """One Notion database, `schemas/notion/<key>.yaml` (key = file stem)."""

    model_config = ConfigDict(extra="forbid", title="Notion database")

    title: str = Field(min_length=1, description="Database title shown in Notion.")
    description: str | None = Field(None, description="Database description.")
    parent: str | None = Field(None, description="Parent page id; default: notion.parent_page_id "
                                                 "in reconciler.yaml.")
    properties: dict[str, PropertyDoc] = Field(description="Property name → property, in order.")
    content: ContentDoc | None = Field(None, description="Rows synced into the database from a "
                                                         "content source (docs/content.md).")


class VocabularyDoc(Doc):
    """A shared vocabulary, `schemas/vocab/<name>.yaml` (name = file stem)."""

    model_config = ConfigDict(extra="forbid", title="Vocabulary")

    mode: VocabularyMode = Field(
        "closed", description="closed: exactly these options; additive: options are only added; "
                              "open: options are not managed.")
    options: list[Option] = Field(description="The options, in order.")


def keys_by_type() -> dict[str, tuple[str, ...]]:
    """Setting key → the property types that accept it (for "does not apply to" messages)."""
    out: dict[str, list[str]] = {}
    for type_name, model in DOC_BY_TYPE.items():
        for key in model.model_fields:
            if key not in PropertyBase.model_fields and key != "type":
                out.setdefault(key, []).append(type_name)
    return {k: tuple(v) for k, v in out.items()}


def _choices(values) -> str:
    return ", ".join(sorted(values))


_LITERAL_NAMES = {
    "color": ("colour", OPTION_COLORS, PROPERTY_OBJECT),
    "format": ("number format", NUMBER_FORMATS, PROPERTY_OBJECT),
    "function": ("rollup function", ROLLUP_FUNCTIONS, PROPERTY_OBJECT),
    "mode": ("vocabulary mode", ("closed", "additive", "open"), "schemas/vocab"),
}


def explain_error(err: dict) -> tuple[tuple, str] | None:
    """A friendlier `(loc, message)` for a pydantic error on these documents, or None (default text).

    Covers unknown/missing property types (UI-only `button`/`verification`: NOTION-API.md §3.5),
    keys of another type, unknown colours/formats/functions and option-name rules.
    """
    loc, kind = tuple(err["loc"]), err["type"]
    if loc[:1] == ("properties",) and len(loc) == 2:
        return _explain_property(loc, kind, err)
    if kind == "extra_forbidden" and loc[:1] == ("properties",) and len(loc) == 4 \
            and loc[2] in DOC_BY_TYPE:
        return _explain_foreign_key(loc)
    if kind == "literal_error" and isinstance(loc[-1], str) and loc[-1] in _LITERAL_NAMES:
        what, allowed, source = _LITERAL_NAMES[loc[-1]]
        return loc, f"unknown {what} {err['input']!r}: use one of {', '.join(allowed)} ({source})"
    if kind == "value_error":
        return loc, str(err["ctx"]["error"])
    if kind == "model_type" and err.get("ctx", {}).get("class_name") == "OptionDoc":
        return loc, (f"option {err['input']!r} is not a name: write it as text (quote it) or as "
                     "{name: …, color: …, description: …}")
    return None


def _closest_type(tag: str) -> str | None:
    """The property type `tag` most likely meant: one it starts or that starts it (`dat`,
    `datetime` → date; `Number` → number), else the closest spelling, else None."""
    low = tag.strip().lower()
    sharing = [t for t in DOC_BY_TYPE if low and (low.startswith(t) or t.startswith(low))]
    if sharing:
        return max(sharing, key=len)
    close = difflib.get_close_matches(low, DOC_BY_TYPE, n=1)
    return close[0] if close else None


def _explain_property(loc: tuple, kind: str, err: dict) -> tuple[tuple, str] | None:
    name = loc[1]
    if kind == "union_tag_invalid":
        tag = err["ctx"]["tag"]
        close = _closest_type(str(tag))
        hint = f"did you mean {close}? " if close else ""
        return loc + ("type",), (f"unknown property type {tag!r}: {hint}use one of "
                                 f"{_choices(DOC_BY_TYPE)}")
    if kind == "union_tag_not_found":
        return loc, f"property {name!r} has no type: add `type:` with one of {_choices(DOC_BY_TYPE)}"
    if kind == "model_attributes_type":
        return loc, f"property {name!r} must be a mapping such as {{type: rich_text}}"
    return None


def _explain_foreign_key(loc: tuple) -> tuple[tuple, str]:
    type_name, key = loc[2], loc[3]
    owners = keys_by_type().get(str(key))
    if key == "options":
        return loc, (f"options are only for select, multi_select and status properties, not "
                     f"{type_name}: remove them or change the type")
    if owners:
        return loc, (f"{key!r} does not apply to a {type_name} property (only to "
                     f"{', '.join(owners)}): remove it or change the type")
    return loc, f"unknown key {key!r} for a {type_name} property: remove it or check its spelling"
