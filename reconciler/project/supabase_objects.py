"""Object files under `schemas/supabase/` (`kind: enum | extension | sequence | view | function
| default_privileges`) → `model.postgres_objects`, with every problem located.

Each file declares one object, named by the file's stem unless `name:` says otherwise (like
table files). Never raises for bad content: problems come back as `SpecProblem`s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence as Seq
from typing import Any

from reconciler.errors import SpecProblem
from reconciler.model.postgres import Grant
from reconciler.model.postgres_objects import (DEFAULT_PRIVILEGES, OBJECT_PRIVILEGES,
                                               DefaultPrivilege, EnumType, Extension, Function,
                                               SchemaObjects, Sequence, View)
from reconciler.model.postgres_types import normalise_search_path
from reconciler.project.supabase_docs import (DefaultPrivilegesDoc, EnumDoc, EnumValueDoc,
                                              ExtensionDoc, FunctionDoc, SequenceDoc, ViewDoc)
from reconciler.project.yaml import Loaded

#: Bounds of each sequence type (Postgres docs, "CREATE SEQUENCE": the defaults for an
#: ascending sequence are 1 and the type's maximum; for a descending one its minimum and -1).
SEQUENCE_BOUNDS = {"smallint": (-32768, 32767), "integer": (-2147483648, 2147483647),
                   "bigint": (-9223372036854775808, 9223372036854775807)}



def _enum(item: Loaded[EnumDoc], problems: list[SpecProblem]) -> EnumType:
    doc = item.doc
    values = [v if isinstance(v, EnumValueDoc) else EnumValueDoc(name=v) for v in doc.values]
    names = [v.name for v in values]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(item.problem(("values",), f"enum value {dup!r} appears twice"))
    if not names:
        problems.append(item.problem(("values",), "an enum needs at least one value"))
    renames = tuple((old, v.name) for v in values for old in v.renamed_from)
    return EnumType(schema_name=doc.schema_, name=doc.name or item.name, values=tuple(names),
                    renamed_values=renames)


def _extension(item: Loaded[ExtensionDoc], problems: list[SpecProblem]) -> Extension:
    doc = item.doc
    return Extension(name=doc.name or item.name, schema_name=doc.schema_, version=doc.version,
                     absent=doc.absent)


def _sequence(item: Loaded[SequenceDoc], problems: list[SpecProblem]) -> Sequence:
    doc = item.doc
    low, high = SEQUENCE_BOUNDS[doc.as_]
    if doc.increment == 0:
        problems.append(item.problem(("increment",), "increment must not be 0"))
    up = doc.increment > 0
    lo = doc.min if doc.min is not None else (1 if up else low)
    hi = doc.max if doc.max is not None else (high if up else -1)
    start = doc.start if doc.start is not None else (lo if up else hi)
    if not lo <= start <= hi:
        problems.append(item.problem(("start",), f"start {start} is outside [{lo}, {hi}]"))
    return Sequence(schema_name=doc.schema_, name=doc.name or item.name, type=doc.as_,
                    start=start, increment=doc.increment, min_value=lo, max_value=hi,
                    cache=doc.cache, cycle=doc.cycle)


def _view(item: Loaded[ViewDoc], problems: list[SpecProblem]) -> View:
    doc = item.doc
    if not doc.query.strip():
        problems.append(item.problem(("query",), "the view's query is empty"))
    return View(schema_name=doc.schema_, name=doc.name or item.name,
                definition=doc.query.strip().rstrip(";").strip(),
                security_invoker=doc.security_invoker, comment=doc.comment,
                grants=_grants(item, "view", problems))


def _function(item: Loaded[FunctionDoc], problems: list[SpecProblem]) -> Function:
    doc = item.doc
    if not doc.body.strip():
        problems.append(item.problem(("body",), "the function's body is empty"))
    return Function(schema_name=doc.schema_, name=doc.name or item.name,
                    arguments=" ".join(doc.arguments.split()), returns=" ".join(doc.returns.split()),
                    language=doc.language.lower(), body=doc.body, volatility=doc.volatility,
                    security_definer=doc.security_definer,
                    search_path=normalise_search_path(doc.search_path), comment=doc.comment,
                    grants=_grants(item, "function", problems))


def _grants(item: Loaded[Any], kind: str, problems: list[SpecProblem]) -> tuple[Grant, ...]:
    """`grants: {role: [privilege, …] | all}` of a view (table privileges) or a function
    (`execute`), as table files write them; `public: []` revokes what PUBLIC holds."""
    allowed = OBJECT_PRIVILEGES[kind]
    out = []
    for role, privs in sorted(item.doc.grants.items()):
        wanted = {p.lower() for p in privs}
        wanted = set(allowed) if "all" in wanted else wanted
        unknown = sorted(wanted - set(allowed))
        if unknown:
            problems.append(item.problem(("grants", role), f"grants: unknown privilege(s) "
                                         f"{', '.join(unknown)} on a {kind} (allowed: all, "
                                         f"{', '.join(allowed)})"))
        out.append(Grant(role=role.lower() if role.lower() == "public" else role,
                         privileges=tuple(p for p in allowed if p in wanted)))
    return tuple(out)


def _default_privileges(item: Loaded[DefaultPrivilegesDoc], problems: list[SpecProblem]
                        ) -> list[DefaultPrivilege]:
    doc, out = item.doc, []
    for on, allowed in DEFAULT_PRIVILEGES.items():
        for role, privs in sorted(getattr(doc, on).items()):
            wanted = {p.lower() for p in privs}
            wanted = set(allowed) if "all" in wanted else wanted
            unknown = sorted(wanted - set(allowed))
            if unknown:
                problems.append(item.problem((on, role), f"{on}: unknown privilege(s) "
                                             f"{', '.join(unknown)} (allowed: all, "
                                             f"{', '.join(allowed)})"))
            out.append(DefaultPrivilege(
                schema_name=doc.schema_, owner=doc.owner, on=on,  # type: ignore[arg-type]
                grant=Grant(role=role, privileges=tuple(p for p in allowed if p in wanted))))
    return out


#: kind → (SchemaObjects field, resolver returning one object or a list of them).
RESOLVERS: dict[str, tuple[str, Callable[[Any, list[SpecProblem]], Any]]] = {
    "enum": ("enums", _enum), "extension": ("extensions", _extension),
    "sequence": ("sequences", _sequence), "view": ("views", _view),
    "function": ("functions", _function),
    "default_privileges": ("default_privileges", _default_privileges),
}


def resolve_objects(loaded: Seq[Loaded[Any]]) -> tuple[SchemaObjects, dict[str, str],
                                                         list[SpecProblem]]:
    """Object documents → `SchemaObjects`, `{address: "file:line:col"}` and problems (two
    objects with one address are reported)."""
    fields: dict[str, list[Any]] = {field: [] for field, _ in RESOLVERS.values()}
    locations: dict[str, str] = {}
    problems: list[SpecProblem] = []
    for item in loaded:
        field, resolve = RESOLVERS[item.doc.kind]
        made = resolve(item, problems)
        for obj in made if isinstance(made, list) else [made]:
            if obj.address in locations:
                problems.append(item.problem(("name",), f"{obj.address} is already declared in "
                                             f"{locations[obj.address].rsplit(':', 2)[0]}"))
                continue
            line, col = item.yaml.locate(())
            locations[obj.address] = f"{item.file}:{line}:{col}"
            fields[field].append(obj)
    objects = SchemaObjects(**{k: tuple(v) for k, v in fields.items()})
    return objects, locations, problems
