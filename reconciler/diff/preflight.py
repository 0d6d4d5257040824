"""Preflight at plan time: content rows against what only the live database knows. Pure.

`validate` already checks every content value against the *declared* column (type, length,
NOT NULL, CHECKs: `project.content` with `model.column_values`). What the spec cannot show is
the labels of an enum type the table uses by name (`type: mood`, created outside the spec):
they are read from the catalog (`Column.enum_values` of a live table, the live enum types for
a table the plan creates); the labels of an enum type the spec declares are checked by
`validate`. `content_problems` checks the rows of
every Postgres content set against them, so a value outside the enum fails the plan before
any write, instead of failing the insert after the Notion side was written (issue 9).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.errors import SpecProblem
from reconciler.model.column_values import value_problem
from reconciler.model.content import ContentSet
from reconciler.model.postgres import Table
from reconciler.model.postgres_objects import SchemaObjects


def content_problems(content: Iterable[ContentSet], live: Sequence[Table],
                     desired: Sequence[Table] = (), live_objects: SchemaObjects | None = None,
                     declared: SchemaObjects | None = None) -> list[SpecProblem]:
    """Every row value of a `supabase.*` content set outside the labels of its column's enum
    type as the live database has them, located at the row's source (`file:line`, column 1).

    The labels come from the live column, or, for a table the plan creates, from the live enum
    type of that name (`live_objects`). An enum type the spec declares (`declared`) is left
    out: `validate` checked the rows against its declared labels, which the plan makes live
    first. So is a column whose desired type differs from the live one (the plan retypes it)."""
    live_by = {t.address: t for t in live}
    desired_by = {t.address: t for t in desired}
    own = declared.enum_names() if declared is not None else frozenset()
    problems = []
    for content in content:
        table = live_by.get(content.address)
        if table is None and live_objects is not None and content.address in desired_by:
            table = live_objects.with_enum_labels((desired_by[content.address],))[0]
        if table is None:
            continue
        columns = {c.name: c for c in table.columns if c.enum_values
                   and c.type.removesuffix("[]") not in own
                   and _same_type(c.name, c.type, desired_by.get(content.address))}
        for row in content.rows:
            for name, column in columns.items():
                problem = value_problem(column, row.values.get(name))
                if problem and row.values.get(name) is not None:
                    file, line = _where(row.source)
                    problems.append(SpecProblem(file, line, 1, f"row {row.key!r}: {name} {problem} "
                                                f"(live column {content.address}.{name})"))
    return problems


def _same_type(name: str, live_type: str, desired: Table | None) -> bool:
    column = desired.column(name) if desired is not None else None
    return column is None or column.type == live_type


def _where(source: str) -> tuple[str, int]:
    """`file:line` or `file` → (file, line)."""
    head, _, tail = source.rpartition(":")
    return (head, int(tail)) if head and tail.isdigit() else (source, 1)
