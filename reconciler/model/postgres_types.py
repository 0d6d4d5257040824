"""Postgres type names and default expressions in one canonical spelling, and the type names a
spec may use.

`normalise_type` / `normalise_default` make equal things compare equal whichever side produced
them (the YAML loader or the catalog reader). `known_type` tells a misspelt type from a real
one before anything is written (issue 12, bug 6): the built-in types (Postgres docs §8 "Data
Types", table 8.1, and `SELECT typname FROM pg_type WHERE typnamespace = 'pg_catalog'` on
PostgreSQL 15), the enum types the project declares and the types of the extensions it enables.
"""

from __future__ import annotations

import difflib
import re

#: Aliases → canonical type names (Postgres docs §8 "Data Types", table 8.1 lists the aliases).
#: `serial` / `bigserial` / `smallserial` are kept: they mean "integer with its own sequence"
#: (docs §8.1.4 "Serial Types"), which the reader recognises on live columns.
TYPE_ALIASES: dict[str, str] = {
    "int": "integer", "int4": "integer", "integer": "integer",
    "int8": "bigint", "bigint": "bigint", "int2": "smallint", "smallint": "smallint",
    "serial": "serial", "serial4": "serial", "bigserial": "bigserial", "serial8": "bigserial",
    "smallserial": "smallserial", "serial2": "smallserial",
    "bool": "boolean", "boolean": "boolean",
    "float8": "double precision", "double precision": "double precision",
    "float4": "real", "real": "real",
    "decimal": "numeric", "numeric": "numeric",
    "varchar": "character varying", "character varying": "character varying",
    "char": "character", "character": "character", "bpchar": "character",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "timetz": "timetz", "time with time zone": "timetz",
    "time": "time", "time without time zone": "time",
    "varbit": "bit varying", "bit varying": "bit varying",
    "text": "text", "uuid": "uuid", "jsonb": "jsonb", "json": "json", "date": "date",
    "bytea": "bytea", "interval": "interval", "inet": "inet",
}
#: Serial pseudo-types → the integer type of their column (docs §8.1.4).
SERIAL_TYPES: dict[str, str] = {"serial": "integer", "bigserial": "bigint",
                                "smallserial": "smallint"}
#: Built-in base types of PostgreSQL 15 that a column may have, besides `TYPE_ALIASES`.
BUILTIN_TYPES: frozenset[str] = frozenset({
    "bit", "box", "cidr", "circle", "datemultirange", "daterange", "int4multirange",
    "int4range", "int8multirange", "int8range", "jsonpath", "line", "lseg", "macaddr",
    "macaddr8", "money", "name", "nummultirange", "numrange", "oid", "path", "point", "polygon",
    "regclass", "regconfig", "regrole", "regtype", "tsmultirange", "tsquery", "tsrange",
    "tstzmultirange", "tstzrange", "tsvector", "txid_snapshot", "xml", "xid8", "pg_lsn",
    "pg_snapshot", "float",
}) | frozenset(TYPE_ALIASES)
#: Types an extension adds (each extension's documentation; pgvector's README for vector,
#: halfvec and sparsevec; PostGIS's for geometry and geography).
EXTENSION_TYPES: dict[str, tuple[str, ...]] = {
    "vector": ("vector", "halfvec", "sparsevec"),
    "citext": ("citext",), "hstore": ("hstore",), "ltree": ("ltree", "lquery", "ltxtquery"),
    "cube": ("cube",), "seg": ("seg",), "isn": ("isbn", "isbn13", "ismn", "issn", "ean13", "upc"),
    "postgis": ("geometry", "geography", "box2d", "box3d"),
}

_TYPE = re.compile(r"^(?P<base>[a-z][a-z0-9_ ]*?)\s*(?P<mod>\(\s*\d+(?:\s*,\s*\d+)?\s*\))?"
                   r"(?P<arr>(?:\s*\[\s*\d*\s*\])*)$")


_PLAIN_TYPE = re.compile(r'^[A-Za-z_][A-Za-z0-9_ ."]*(\(\s*\d+(\s*,\s*\d+)?\s*\))?(\[\])*$')


def plain_type(text: str) -> str:
    """`text` when it is a plain type name (`name[(p[,s])][[]…]`, safe to write into SQL as
    it is); raises ValueError otherwise."""
    if not _PLAIN_TYPE.match(text) or "--" in text or text.count('"') % 2:
        raise ValueError(f"not a plain type name: {text!r}")
    return text


_PRECISION_INSIDE = re.compile(r"^(timestamp|time)\s*(\(\s*\d+\s*\))\s+(with|without) time zone")


def normalise_type(text: str) -> str:
    """The canonical spelling of a type: `INT4` → `integer`, `decimal(10, 2)` → `numeric(10,2)`,
    `timestamp with time zone` → `timestamptz`, `timestamp(0) with time zone` →
    `timestamptz(0)`, `_text`/`text ARRAY` → `text[]`.

    Unknown names (enums, domains, quoted user types) are returned with whitespace collapsed."""
    raw = " ".join(text.strip().split())
    lowered = raw.lower().replace(" array", "[]")
    # Postgres prints a precision inside the name: `timestamp(0) with time zone`
    lowered = _PRECISION_INSIDE.sub(r"\1 \3 time zone\2", lowered)
    if lowered.startswith("_") and lowered[1:] in TYPE_ALIASES:
        lowered = lowered[1:] + "[]"
    m = _TYPE.match(lowered)
    if not m or m.group("base") not in TYPE_ALIASES:
        return raw
    base = TYPE_ALIASES[m.group("base")]
    mod = (m.group("mod") or "").replace(" ", "")
    dims = "[]" * m.group("arr").count("[")
    return f"{base}{mod}{dims}"


def base_name(text: str) -> str:
    """The type's name without modifiers and array brackets: `varchar(20)[]` → `varchar`."""
    return re.sub(r"\s*(\(.*\))?\s*(\[\s*\d*\s*\])*\s*$", "", text.strip()).lower()


def known_type(text: str, declared: frozenset[str] = frozenset()) -> bool:
    """Whether `text` names a type a column can have: a built-in one, one of `declared` (enum
    types of the project and types of its extensions), or a schema-qualified or quoted name
    (made outside the spec: the dev database checks those)."""
    name = base_name(text)
    return name in BUILTIN_TYPES or name in declared or "." in name or '"' in name


#: How alike (difflib's ratio) an unknown name must be to a known type to be taken for a
#: misspelling of it: `txet`/`text` 0.75, `varchr`/`varchar` 0.92; `mood`/`money` 0.67 is not.
SUGGEST_CUTOFF = 0.75


def suggest_type(text: str, declared: frozenset[str] = frozenset()) -> str | None:
    """The known type closest to a misspelt one, with the original modifiers:
    `varchr(20)` → `varchar(20)`, `txet` → `text`; None when nothing is close."""
    name = base_name(text)
    found = difflib.get_close_matches(name, sorted(BUILTIN_TYPES | declared), n=1,
                                      cutoff=SUGGEST_CUTOFF)
    if not found:
        return None
    return found[0] + text.strip()[len(name):]


def extension_of(type_name: str) -> str | None:
    """The extension that adds the type `type_name`, when it is a known one."""
    name = base_name(type_name)
    return next((ext for ext, types in EXTENSION_TYPES.items() if name in types), None)


_CAST = re.compile(r"^(?P<lit>'(?:[^']|'')*')::[a-z][a-z0-9_ ]*(?:\(\d+(?:,\d+)?\))?(?:\[\])*$",
                   re.IGNORECASE)
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_FUNCTIONS = {"now()": "now()", "current_timestamp": "CURRENT_TIMESTAMP",
              "current_date": "CURRENT_DATE", "gen_random_uuid()": "gen_random_uuid()",
              "true": "true", "false": "false"}


def normalise_default(expr: str | None) -> str | None:
    """The canonical spelling of a default expression, as `pg_get_expr` would print it modulo
    casts: `'Active'::text` → `'Active'`, `'-1'::integer` → `-1`, `NOW()` → `now()`.

    Anything else is returned with whitespace collapsed; the reader also spells a live default the
    way the spec does when the server finds them equivalent (see reader `canonicalise`)."""
    if expr is None:
        return None
    text = " ".join(expr.strip().split())
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    m = _CAST.match(text)
    if m:
        text = m.group("lit")
    if text.startswith("'") and _NUMBER.match(text[1:-1]):
        text = text[1:-1]
    return _FUNCTIONS.get(text.lower(), text)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def normalise_sql(text: str | None) -> str | None:
    """A SQL body compared as text: whitespace collapsed, surrounding blank space and trailing
    semicolons dropped, `--` line comments removed (function bodies, view definitions)."""
    if text is None:
        return None
    lines = [re.sub(r"--[^\n']*$", "", line) for line in text.splitlines()]
    return " ".join(" ".join(lines).split()).rstrip("; ").strip()


def normalise_search_path(text: str | None) -> str | None:
    """A function's search path in one spelling: `public, "extensions"` → `public, extensions`;
    an empty one (`""` or `''`) → the empty string; None stays None (not set)."""
    if text is None:
        return None
    parts = [p.strip().strip('"').strip("'") for p in text.split(",")]
    return ", ".join(p for p in parts if p)
