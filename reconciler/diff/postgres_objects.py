"""Pure diff of the objects beside tables: enum types, extensions, sequences, views, functions
and default privileges (desired vs live → typed changes).

Objects are matched by schema and name. A kind of object is managed once the project declares
one of that kind: then live objects of that kind in the schemas the project declares, that the
spec does not declare, are dropped, as undeclared tables are (Atlas's behaviour); a project
that declares no view (say) leaves the live views alone, so adopting the reconciler never
drops what was made by hand in the dashboard. Extensions are database-wide and shared with
the platform (Supabase installs several), so only those marked `absent: true` are dropped.
Grantees of default privileges the spec does not name are left alone, as table grants are;
so are the grantees of a view or function the spec does not name in its `grants:`.

A function is one signature per name: a live overload of a declared function (same name, other
argument types, made by hand) is a manual change naming its signature, never dropped or
replaced in silence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.addresses import child
from reconciler.model.changes import (AddEnum, AddExtension, AddFunction, AddSequence, AddView,
                                      ChangeBase, DropEnum, DropExtension, DropFunction,
                                      DropSequence, DropView, ManualChange, ModifyDefaultPrivileges,
                                      ModifyEnum, ModifyExtension, ModifyFunction, ModifySequence,
                                      ModifyView, Phase)
from reconciler.model.postgres import Grant
from reconciler.model.postgres_objects import (DEFAULT_PRIVILEGES, DefaultPrivilege, EnumType,
                                               Extension, Function, SchemaObjects, View)
from reconciler.model.postgres_types import normalise_sql

#: What `compare_functions` compares (the body by `normalise_sql`; grants for the roles the
#: spec names).
FUNCTION_ATTRS = ("arguments", "returns", "language", "body", "volatility", "security_definer",
                  "search_path", "comment", "grants")


#: The kinds whose undeclared live objects are dropped once the project declares one of them.
MANAGED_KINDS = ("enums", "sequences", "views", "functions")


def diff_objects(desired: SchemaObjects, live: SchemaObjects) -> list[ChangeBase]:
    """Every change from `live` to `desired` objects (of the kinds the project manages, see
    the module docstring). Pure; never raises for differences."""
    live = live.model_copy(update={kind: () for kind in MANAGED_KINDS
                                   if not getattr(desired, kind)})
    changes: list[ChangeBase] = []
    changes += compare_enums(desired.enums, live.enums)
    changes += compare_extensions(desired.extensions, live.extensions)
    changes += _keyed(desired.sequences, live.sequences, AddSequence, DropSequence,
                      ModifySequence, Phase.SEQUENCE, drop_phase=Phase.CLEANUP,
                      destructive_drop="drops the sequence and its current value")
    changes += [_recreate_note(c) for c in _keyed(
        desired.views, live.views, AddView, DropView, ModifyView, Phase.VIEW,
        drop_phase=Phase.TABLE, same=_same_view)]
    functions, overloads = _split_overloads(desired.functions, live.functions)
    changes += overloads
    changes += [_recreate_note(c) for c in _keyed(
        desired.functions, functions, AddFunction, DropFunction, ModifyFunction, Phase.FUNCTION,
        drop_phase=Phase.CLEANUP, same=_same_function)]
    changes += compare_default_privileges(desired.default_privileges, live.default_privileges)
    return sorted(changes, key=lambda c: c.sort_key)


def _keyed(want: Sequence[Any], have: Sequence[Any], add: type, drop: type, modify: type,
           phase: Phase, *, drop_phase: Phase, destructive_drop: str | None = None,
           same: Callable[[Any, Any], bool] = lambda a, b: a == b) -> list[ChangeBase]:
    """add / drop / modify of objects matched by (schema, name)."""
    key = lambda o: (o.schema_name, o.name)  # noqa: E731
    live = {key(o): o for o in have}
    wanted = {key(o) for o in want}
    changes: list[ChangeBase] = []
    for item in want:
        old = live.get(key(item))
        if old is None:
            changes.append(add(address=item.address, phase=phase, after=item))
        elif not same(item, old):
            changes.append(modify(address=item.address, phase=phase, before=old, after=item))
    for old in have:
        if key(old) not in wanted:
            changes.append(drop(address=old.address, phase=drop_phase, before=old,
                                destructive=destructive_drop is not None,
                                note=destructive_drop or "not declared in the spec"))
    return changes


def _same_view(want: View, have: View) -> bool:
    return not view_recreated(want, have) and not grant_changes(want.grants, have.grants)


def view_recreated(want: View, have: View) -> bool:
    """Whether `have` must be dropped and created again to become `want` (anything but its
    grants differs)."""
    plain = lambda v: v.model_copy(update={"definition": normalise_sql(v.definition),  # noqa
                                           "grants": ()})
    return plain(want) != plain(have)


def function_recreated(want: Function, have: Function) -> bool:
    """Whether `have` must be dropped and created again to become `want` (CREATE OR REPLACE
    cannot change the arguments or the result type)."""
    return (want.arguments, want.returns) != (have.arguments, have.returns)


def grant_changes(want: Sequence[Grant], have: Sequence[Grant]
                  ) -> dict[str, tuple[set[str], set[str]]]:
    """`{role: (privileges held, privileges wanted)}` for each role `want` names whose
    privileges differ from `have`'s (roles `want` does not name are left alone)."""
    live = {g.role: set(g.privileges) for g in have}
    return {g.role: (live.get(g.role, set()), set(g.privileges)) for g in want
            if live.get(g.role, set()) != set(g.privileges)}


def restored_grants(want: Sequence[Grant], have: Sequence[Grant]) -> tuple[Grant, ...]:
    """The grants an object dropped and created again must end with: the live ones (`have`),
    with the roles the spec names (`want`) as it names them; sorted by role."""
    merged = {g.role: g for g in have} | {g.role: g for g in want}
    return tuple(merged[r] for r in sorted(merged))


def _recreate_note(change: ChangeBase) -> ChangeBase:
    """A modify that drops and creates the object again says so, and which privileges it
    grants back (a new function would otherwise let PUBLIC execute it, a new view would lose
    hand-made grants)."""
    if isinstance(change, ModifyView):
        again = view_recreated(change.after, change.before)
    elif isinstance(change, ModifyFunction):
        again = function_recreated(change.after, change.before)
    else:
        return change
    notes = [] if not change.note else [change.note]
    if again:
        grants = restored_grants(change.after.grants, change.before.grants)
        held = "; ".join(f"{g.role}: {', '.join(g.privileges) or 'none'}" for g in grants)
        notes.append("dropped and created again; its privileges are set back as they were"
                     + (f" ({held})" if held else " (none but the owner's)"))
    else:
        diff = grant_changes(change.after.grants, change.before.grants)
        notes += [f"grants {role}: {', '.join(sorted(old)) or 'none'} -> "
                  f"{', '.join(sorted(new)) or 'none'}" for role, (old, new) in sorted(diff.items())]
    return change.model_copy(update={"note": "; ".join(notes) or None})


def _split_overloads(want: Sequence[Function], have: Sequence[Function]
                     ) -> tuple[list[Function], list[ChangeBase]]:
    """The live functions to diff (one per declared name: the declared signature when the
    database has several) and a manual change for each overload the spec does not declare."""
    declared = {(f.schema_name, f.name): f for f in want}
    by_key: dict[tuple[str, str], list[Function]] = {}
    for f in have:
        by_key.setdefault((f.schema_name, f.name), []).append(f)
    kept: list[Function] = []
    manual: list[ChangeBase] = []
    for key, found in by_key.items():
        if key not in declared or len(found) == 1:
            kept += found
            continue
        match = [f for f in found if f.identity is None][:1]
        kept += match
        for other in found:
            if other in match:
                continue
            sig = f"{other.schema_name}.{other.name}({other.identity or ''})"
            manual.append(ManualChange(
                address=child(declared[key].address, "overload", other.identity or ""),
                phase=Phase.FUNCTION,
                manual=f"the database has an overload of the declared function "
                       f"{key[0]}.{key[1]} that the spec does not declare: {sig}. A function "
                       f"file declares one signature per name: drop the overload (DROP FUNCTION "
                       f"{sig}) or rename it and declare it in a file of its own, then plan "
                       f"again" + ("" if match else
                                   "; the declared signature is not in the database yet"),
                before={"arguments": other.arguments, "returns": other.returns},
                after={"arguments": declared[key].arguments,
                       "returns": declared[key].returns}))
    return kept, manual


def _same_function(want: Function, have: Function) -> bool:
    return function_changes(want, have) == []


def function_changes(want: Function, have: Function) -> list[str]:
    """The attributes in which two versions of a function differ (`FUNCTION_ATTRS`)."""
    def value(f: Function, attr: str) -> Any:
        item = getattr(f, attr)
        return normalise_sql(item) if attr == "body" else item
    return [a for a in FUNCTION_ATTRS
            if (bool(grant_changes(want.grants, have.grants)) if a == "grants"
                else value(want, a) != value(have, a))]


def compare_enums(want: Sequence[EnumType], have: Sequence[EnumType]) -> list[ChangeBase]:
    """add / drop / modify_enum; a value Postgres cannot remove or reorder is a manual change."""
    live = {(e.schema_name, e.name): e for e in have}
    wanted = {(e.schema_name, e.name) for e in want}
    changes: list[ChangeBase] = []
    for enum in want:
        old = live.get((enum.schema_name, enum.name))
        if old is None:
            changes.append(AddEnum(address=enum.address, phase=Phase.TYPE, after=enum))
            continue
        changes += _enum_values(enum, old)
    changes += [DropEnum(address=e.address, phase=Phase.CLEANUP, before=e,
                         note="not declared in the spec")
                for e in have if (e.schema_name, e.name) not in wanted]
    return changes


def enum_plan(want: EnumType, have: EnumType) -> tuple[dict[str, str], list[str], list[str]]:
    """How `have` becomes `want`: `(renames {old: new}, values to add, values left over)`."""
    renames = {old: new for old, new in want.renamed_values
               if old in have.values and new not in have.values}
    current = [renames.get(v, v) for v in have.values]
    added = [v for v in want.values if v not in current]
    extra = [v for v in current if v not in want.values]
    return renames, added, extra


def _enum_values(want: EnumType, have: EnumType) -> list[ChangeBase]:
    renames, added, extra = enum_plan(want, have)
    changes: list[ChangeBase] = []
    if renames or added:
        changes.append(ModifyEnum(address=want.address, phase=Phase.TYPE, before=have,
                                  after=want, note=_enum_note(renames, added)))
    kept = [renames.get(v, v) for v in have.values if renames.get(v, v) in want.values]
    order = [v for v in want.values if v in kept]
    how = ("create a new type with the wanted values, move the columns to it (ALTER TABLE … "
           "ALTER COLUMN … TYPE new USING col::text::new), then drop the old type")
    for value in extra:
        changes.append(ManualChange(
            address=child(want.address, "value", value), phase=Phase.TYPE,
            manual=f"Postgres cannot remove the value {value!r} from the enum type "
                   f"{want.qualified}: {how}",
            before={"values": list(have.values)}, after={"values": list(want.values)}))
    if not extra and kept != order:
        changes.append(ManualChange(
            address=child(want.address, "values", "order"), phase=Phase.TYPE,
            manual=f"Postgres cannot reorder the values of the enum type {want.qualified}: {how}",
            before={"values": list(have.values)}, after={"values": list(want.values)}))
    return changes


def _enum_note(renames: dict[str, str], added: list[str]) -> str:
    parts = [f"renames {o!r} to {n!r}" for o, n in renames.items()]
    parts += [f"adds {v!r}" for v in added]
    return "; ".join(parts)


def compare_extensions(want: Sequence[Extension], have: Sequence[Extension]
                       ) -> list[ChangeBase]:
    """Declared extensions only: installed when missing, dropped when `absent: true`, moved or
    updated when a declared schema or version differs."""
    live = {e.name: e for e in have}
    changes: list[ChangeBase] = []
    for ext in want:
        old = live.get(ext.name)
        if ext.absent:
            if old is not None:
                changes.append(DropExtension(
                    address=ext.address, phase=Phase.CLEANUP, before=old, destructive=True,
                    note="drops the extension (absent: true)"))
        elif old is None:
            changes.append(AddExtension(address=ext.address, phase=Phase.EXTENSION, after=ext))
        elif (ext.schema_name not in (None, old.schema_name)
              or ext.version not in (None, old.version)):
            after = ext.model_copy(update={"schema_name": ext.schema_name or old.schema_name,
                                           "version": ext.version or old.version})
            changes.append(ModifyExtension(address=ext.address, phase=Phase.EXTENSION,
                                           before=old, after=after))
    return changes


def compare_default_privileges(want: Sequence[DefaultPrivilege],
                               have: Sequence[DefaultPrivilege]) -> list[ChangeBase]:
    """A grantee's default privileges that differ from the spec; grantees the spec does not
    name are left alone."""
    live = {d.address: d for d in have}
    changes: list[ChangeBase] = []
    for item in want:
        old = live.get(item.address) or item.model_copy(update={
            "grant": Grant(role=item.grant.role, privileges=())})
        if set(old.grant.privileges) != set(item.grant.privileges):
            order = DEFAULT_PRIVILEGES[item.on]
            old = old.model_copy(update={"grant": Grant(role=old.grant.role, privileges=tuple(
                p for p in order if p in old.grant.privileges))})
            changes.append(ModifyDefaultPrivileges(address=item.address,
                                                   phase=Phase.DEFAULT_PRIVILEGES,
                                                   before=old, after=item))
    return changes
