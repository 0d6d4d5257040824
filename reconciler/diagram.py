"""A Mermaid ER diagram of the declared databases, tables and relations. Pure.

GitHub renders a fenced ```` ```mermaid ```` block as a diagram (Mermaid's `erDiagram`:
https://mermaid.js.org/syntax/entityRelationshipDiagram.html). One entity per Notion database
(`notion_<name>`) and per table (`supabase_<schema>_<table>`), one attribute row per property
or column (`type name "comment"`), one line per relation: a Notion relation `}o--o{` (two-way
relations once, from the side that declares them), a foreign key `||--o{` (one referenced row,
many referencing rows), a `mirror:` table `||..||` its database.

Names that Mermaid does not accept as identifiers (spaces, punctuation, non-ASCII letters) are
spelled with `_` and the real name is the row's comment. A compact diagram keeps only the rows
that link (for plans of large projects, whose report has a comment's room). Resources a plan
changes are marked:
the entity gets a first row `plan changes "~ N change(s)"`, and each changed property or column
its action symbol in its comment (`+` create, `~` update, `>` rename, `-` delete, `!` manual).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.addresses import parse

#: Change action → the mark a changed resource gets (the plan's own symbols).
MARKS = {"create": "+", "update": "~", "rename": ">", "delete": "-", "archive": "-",
         "manual": "!"}
_WORD = re.compile(r"[^A-Za-z0-9_]+")


def ident(text: str) -> str:
    """`text` as a Mermaid identifier: runs of other characters become `_`; never empty, never
    starting with a digit."""
    word = _WORD.sub("_", text).strip("_") or "x"
    return word if word[0].isalpha() or word[0] == "_" else f"_{word}"


def notion_entity(name: str) -> str:
    return ident(f"notion_{name}")


def table_entity(schema: str, name: str) -> str:
    return ident(f"supabase_{schema}_{name}")


def _comment(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def changed_marks(changes: Iterable[Mapping[str, Any] | Any]) -> dict[str, dict[str, str]]:
    """`{resource address: {element name or "": mark}}` from plan changes (models or plan-file
    dicts with `address` and `action`); content rows are left out (they change rows, not the
    schema). The resource is `notion.<db>` or `supabase.<schema>.<table>`; the element the
    first named part of the address (a property or column), `""` for the resource itself."""
    marks: dict[str, dict[str, str]] = defaultdict(dict)
    for change in changes:
        address = change["address"] if isinstance(change, Mapping) else change.address
        action = change["action"] if isinstance(change, Mapping) else change.action.value
        try:
            head, parts = parse(address)
        except ValueError:
            continue
        if parts and parts[0][0] in ("page", "row"):
            continue
        element = parts[0][1] if parts and parts[0][0] in ("property", "column") else ""
        resource = ".".join(head)
        marks[resource].setdefault(element, MARKS.get(action, "~"))
    return dict(marks)


def _entity(name: str, rows: list[str], marks: Mapping[str, str]) -> list[str]:
    lines = [f"    {name} {{"]
    if marks:
        lines.append(f'        plan changes {_comment(f"~ {len(marks)} change(s)")}')
    lines += [f"        {row}" for row in rows]
    return lines + ["    }"]


def _row(kind: str, name: str, marks: Mapping[str, str], key: str = "") -> str:
    note = " ".join(part for part in (marks.get(name, ""), name if ident(name) != name else "")
                    if part)
    return " ".join(part for part in (ident(kind), ident(name), key,
                                      _comment(note) if note else "") if part)


#: Property types a compact diagram keeps (what links databases), besides changed properties.
LINK_TYPES = ("title", "relation", "rollup")
#: The longest diagram a plan carries in full; a longer one is made compact (`er_diagram`).
PLAN_DIAGRAM_CHARS = 20_000


def er_diagram(databases: Sequence[Any], tables: Sequence[Any],
               changes: Iterable[Mapping[str, Any] | Any] = (), *, compact: bool = False) -> str:
    """The Mermaid source (without the code fence) for `databases` (`model.notion.Database`)
    and `tables` (`model.postgres.Table`), with the resources `changes` touch marked. Empty
    text when there is nothing declared. `compact`: only the rows that link (title, relation
    and rollup properties; key columns) and the changed ones."""
    if not databases and not tables:
        return ""
    marks = changed_marks(list(changes))
    lines = ["erDiagram"]
    links: list[str] = []
    for db in databases:
        mine = marks.get(f"notion.{db.name}", {})
        rows = [_row(p.type, p.name, mine) for p in db.properties
                if not compact or p.type in LINK_TYPES or p.name in mine]
        lines += _entity(notion_entity(db.name), rows, mine)
        for prop in db.properties:
            if prop.type == "relation" and prop.relation and not prop.synced_from \
                    and not prop.relation.database.startswith("data_source:"):
                links.append(f"    {notion_entity(db.name)} }}o--o{{ "
                             f"{notion_entity(prop.relation.database)} : {_comment(prop.name)}")
    for table in tables:
        mine = marks.get(table.address, {})
        pk, fks = set(table.primary_key), {c for fk in table.foreign_keys for c in fk.columns}
        rows = [_row(c.type, c.name, mine, ",".join(k for k, on in (("PK", c.name in pk),
                                                                     ("FK", c.name in fks)) if on))
                for c in table.columns
                if not compact or c.name in pk or c.name in fks or c.name in mine]
        entity = table_entity(table.schema_name, table.name)
        lines += _entity(entity, rows, mine)
        for fk in table.foreign_keys:
            links.append(f"    {table_entity(fk.ref_schema, fk.ref_table)} ||--o{{ {entity} : "
                         f"{_comment(', '.join(fk.columns))}")
        if table.mirror:
            links.append(f"    {notion_entity(table.mirror)} ||..|| {entity} : "
                         f"{_comment('mirror')}")
    return "\n".join(lines + links) + "\n"


def project_diagram(project: Any, changes: Iterable[Mapping[str, Any] | Any] = (), *,
                    max_chars: int | None = None) -> str:
    """`er_diagram` of a loaded project's Notion databases and Supabase tables; the compact
    one when the full one is longer than `max_chars`."""
    databases = tuple(getattr(getattr(project, "notion", None), "databases", ()) or ())
    tables = tuple(getattr(project, "supabase", ()) or ())
    changes = list(changes)
    text = er_diagram(databases, tables, changes)
    if max_chars is not None and len(text) > max_chars:
        text = er_diagram(databases, tables, changes, compact=True)
    return text
