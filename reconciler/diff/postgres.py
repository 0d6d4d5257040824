"""Pure diff of Postgres tables: desired vs live → typed changes (the SQL is compiled later).

Tables and columns are matched by name, then by `renamed_from` (so a rename is `ALTER … RENAME`,
never drop and add); keys, checks and indexes by their definition (so generated names never
cause a diff); policies by name; grants by role. Both sides are in the canonical spelling of
`model.postgres` (types, defaults), so the plan after an apply is empty.

Ordering is carried by `Phase` (the lead sorts by (phase, address, kind)): everything that must
go before column changes — renames of columns, drops of constraints, indexes and policies — is
in `Phase.TABLE` at an address under its table, after the table's own create/rename.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reconciler.diff.match import Matching, match
from reconciler.model.changes import (AddColumn, AddConstraint, AddIndex, AddPolicy, AddTrigger,
                                      ChangeBase, CreateTable, DropColumn, DropConstraint,
                                      DropIndex, DropPolicy, DropTable, DropTrigger,
                                      GrantPrivileges, ModifyColumn, ModifyPolicy, ModifyTable,
                                      ModifyTrigger, Phase, RenameColumn, RenameTable,
                                      RevokePrivileges)
from reconciler.model.postgres import (
    PRIVILEGES, SERIAL_TYPES, Column, ColumnOn, Constraint, ConstraintOn, ForeignKeyRef, Grant,
    GrantOn, IndexOn, Policy, PolicyOn, Table, TableAttrs, TableRef, TriggerOn, member_address,
    normalise_default, normalise_type,
)

#: (from, to) type changes that keep every value (Postgres docs §8: the wider type holds the
#: narrower one's range). Any other type change counts as narrowing, hence destructive.
WIDENING: frozenset[tuple[str, str]] = frozenset({
    ("smallint", "integer"), ("smallint", "bigint"), ("integer", "bigint"),
    ("smallint", "numeric"), ("integer", "numeric"), ("bigint", "numeric"),
    ("real", "double precision"), ("character varying", "text"), ("character", "text"),
    ("date", "timestamptz"), ("date", "timestamp"), ("timestamp", "timestamptz"),
    ("json", "jsonb"),
})
TABLE_ATTRS = ("comment", "rls", "force_rls", "realtime", "touch_updated_at")
COLUMN_ATTRS = ("type", "nullable", "default", "comment", "identity")


def diff_tables(desired: Sequence[Table], live: Sequence[Table]) -> list[ChangeBase]:
    """Every change from `live` to `desired`, with destructive flags.

    Live tables in the desired tables' schemas that are not declared are dropped (Atlas's
    behaviour; apply refuses destructive changes without --allow-destroy). Pure; never raises for
    differences. Output is sorted by `Change.sort_key`."""
    schemas = {t.schema_name for t in desired}
    scoped = [t for t in live if t.schema_name in schemas]
    m = _match_tables(desired, scoped)
    renamed = {(h.schema_name, h.name): w.name for w, h in m.pairs if w.name != h.name}
    if renamed:
        m = _match_tables(desired, [_with_renamed_references(t, renamed) for t in scoped])
    changes: list[ChangeBase] = []
    for table in m.added:
        changes += create_table(table)
    for table in m.removed:
        changes.append(drop_table(table, scoped))
    for want, have in m.pairs:
        changes += compare_table(want, have)
    return sorted(changes, key=lambda c: c.sort_key)


def _with_renamed_references(table: Table, renamed: dict[tuple[str, str], str]) -> Table:
    """`table` with its foreign keys pointing at the new names of tables renamed in this plan."""
    fks = tuple(f.model_copy(update={"ref_table": renamed.get((f.ref_schema, f.ref_table),
                                                              f.ref_table)})
                for f in table.foreign_keys)
    return table.model_copy(update={"foreign_keys": fks})


def _qualified(t: Table) -> str:
    return f"{t.schema_name}.{t.name}"


def _ref(t: Table) -> TableRef:
    return TableRef(schema_name=t.schema_name, table=t.name)


def _bare(item: Any) -> Any:
    """A column or table as a change carries it: without the spec's `renamed_from`."""
    return item.model_copy(update={"renamed_from": ()})


def create_table(table: Table) -> list[ChangeBase]:
    """`create_table` with columns, primary key, uniques, checks, comment, RLS, trigger and
    grants (a new table's grants are part of its creation, not updates of it), then one change
    per foreign key, index, policy and trigger (later phases)."""
    core = table.model_copy(update={
        "foreign_keys": (), "indexes": (), "policies": (), "triggers": (), "renamed_from": (),
        "mirror": None, "primary_key_name": None,
        "columns": tuple(_bare(c) for c in table.columns)})
    note = f"mirrors notion.{table.mirror}" if table.mirror else None
    changes: list[ChangeBase] = [CreateTable(address=table.address, phase=Phase.TABLE,
                                             after=core, note=note)]
    empty = Table(schema_name=table.schema_name, name=table.name)
    changes += compare_foreign_keys(table, empty)
    changes += compare_indexes(table, empty)
    changes += compare_policies(table, empty)
    changes += compare_triggers(table, empty)
    return changes


def drop_table(table: Table, live: Sequence[Table]) -> ChangeBase:
    """`drop_table`; `referenced_by` lists the live foreign keys of other tables that point at it
    (dropped first, so tables can be dropped in any order)."""
    refs = tuple(ForeignKeyRef(schema_name=t.schema_name, table=t.name, name=fk.name)
                 for t in live if t is not table for fk in t.foreign_keys
                 if (fk.ref_schema, fk.ref_table) == (table.schema_name, table.name))
    return DropTable(address=table.address, phase=Phase.TABLE, before=table,
                     referenced_by=refs, destructive=True,
                     note="drops the table and every row in it")


def compare_table(want: Table, have: Table) -> list[ChangeBase]:
    """Changes that turn the live table `have` into `want` (same table, maybe renamed)."""
    changes: list[ChangeBase] = []
    if want.name != have.name:
        changes.append(RenameTable(
            address=want.address, phase=Phase.TABLE, before=_ref(have), after=_ref(want),
            note=f"renamed from {have.name!r} (renamed_from)"))
    changes += compare_table_attrs(want, have)
    changes += compare_columns(want, have)
    have = with_renamed_columns(have, column_renames(want, have))
    changes += compare_primary_key(want, have)
    changes += compare_constraints(want, have)
    changes += compare_foreign_keys(want, have)
    changes += compare_indexes(want, have)
    changes += compare_policies(want, have)
    changes += compare_grants(want, have)
    changes += compare_triggers(want, have)
    return changes


def _match_tables(desired: Sequence[Table], live: Sequence[Table]) -> Matching:
    return match(desired, live, name=_qualified,
                 former_names=lambda t: [f"{t.schema_name}.{n}" for n in t.renamed_from])


def live_tables(desired: Sequence[Table], live: Sequence[Table]) -> dict[str, Table]:
    """Desired table address → its live table, paired as `diff_tables` pairs them (by name,
    then by `renamed_from`): a table whose rename is pending is found under its live name."""
    return {want.address: have for want, have in _match_tables(desired, live).pairs}


def column_renames(want: Table, have: Table) -> dict[str, str]:
    """`{live name: desired name}` for the columns that `renamed_from` renames."""
    m = match(want.columns, have.columns, name=lambda c: c.name,
              former_names=lambda c: c.renamed_from)
    return {old.name: new.name for new, old in m.pairs if new.name != old.name}


def with_renamed_columns(table: Table, renames: dict[str, str]) -> Table:
    """`table` as it will be once the column renames ran: keys, foreign keys and indexes name
    the new columns, so a rename alone never re-creates them."""
    if not renames:
        return table
    cols = lambda names: tuple(renames.get(n, n) for n in names)  # noqa: E731
    return table.model_copy(update={
        "primary_key": cols(table.primary_key),
        "uniques": tuple(u.model_copy(update={"columns": cols(u.columns)}) for u in table.uniques),
        "foreign_keys": tuple(f.model_copy(update={"columns": cols(f.columns)})
                              for f in table.foreign_keys),
        "indexes": tuple(i.model_copy(update={"columns": cols(i.columns)}) for i in table.indexes),
    })


def compare_table_attrs(want: Table, have: Table) -> list[ChangeBase]:
    """`modify_table` for comment, row level security (and FORCE), membership in Supabase's
    realtime publication (when the spec manages it) and the updated_at trigger (which the live
    side only has when it is present, enabled and runs the reconciler's own body)."""
    before = _attrs(want, have)
    after = _attrs(want, want).model_copy(update={
        "realtime": before.realtime if want.realtime is None else want.realtime})
    if before == after:
        return []
    changed = [k for k in TABLE_ATTRS if getattr(before, k) != getattr(after, k)]
    note = "changes " + ", ".join(changed)
    if after.touch_updated_at and not before.touch_updated_at and want.name == have.name:
        note += ("; the updated_at trigger is missing, disabled or its function was rewritten: "
                 "it is created again")
    return [ModifyTable(address=want.address, phase=Phase.TABLE, before=before, after=after,
                        note=note)]


def _attrs(table: Table, source: Table) -> TableAttrs:
    return TableAttrs(schema_name=table.schema_name, table=table.name,
                      **{k: getattr(source, k) for k in TABLE_ATTRS})


def _column_on(table: Table, column: Column) -> ColumnOn:
    return ColumnOn(schema_name=table.schema_name, table=table.name, column=_bare(column))


def compare_columns(want: Table, have: Table) -> list[ChangeBase]:
    """add / drop / rename / modify_column; renames go in Phase.TABLE, before other changes."""
    m = match(want.columns, have.columns, name=lambda c: c.name,
              former_names=lambda c: c.renamed_from)
    changes: list[ChangeBase] = []
    for col in m.added:
        changes.append(AddColumn(address=member_address(want, "column", col.name),
                                 phase=Phase.COLUMN, after=_column_on(want, col)))
    for col in m.removed:
        changes.append(DropColumn(address=member_address(want, "column", col.name),
                                  phase=Phase.COLUMN, before=_column_on(want, col),
                                  destructive=True, note="drops the column and its values"))
    for new, old in m.pairs:
        if new.name != old.name:
            changes.append(RenameColumn(
                address=member_address(want, "column", new.name), phase=Phase.TABLE,
                before=_column_on(want, old),
                after=_column_on(want, old.model_copy(update={"name": new.name})),
                note=f"renamed from {old.name!r} (renamed_from)"))
        changes += compare_column(want, new, old)
    return changes


def compare_column(table: Table, want: Column, have: Column) -> list[ChangeBase]:
    """`modify_column` when type, nullability, default or comment differ; destructive when the
    type narrows (see `is_narrowing`)."""
    have = have.model_copy(update={"name": want.name})
    changed = [a for a in COLUMN_ATTRS if _column_attr(want, a) != _column_attr(have, a)]
    if not changed:
        return []
    narrowing = "type" in changed and is_narrowing(have.type, want.type)
    return [ModifyColumn(address=member_address(table, "column", want.name), phase=Phase.COLUMN,
                         before=_column_on(table, have), after=_column_on(table, want),
                         destructive=narrowing,
                         note="changes " + ", ".join(changed)
                         + ("; the new type is narrower: values may be lost" if narrowing
                            else ""))]


def _column_attr(col: Column, attr: str) -> Any:
    value = getattr(col, attr)
    if attr == "type":
        return normalise_type(value)
    return normalise_default(value) if attr == "default" else value


def is_narrowing(old: str, new: str) -> bool:
    """True unless `old` → `new` keeps every value: a `WIDENING` pair, a longer varchar, an
    unconstrained numeric/varchar, or anything to text."""
    old, new = normalise_type(old), normalise_type(new)
    old, new = SERIAL_TYPES.get(old, old), SERIAL_TYPES.get(new, new)
    base = lambda t: t.split("(")[0]  # noqa: E731
    if new == "text" or (base(old), base(new)) in WIDENING:
        return False
    if base(old) == base(new):
        if "(" not in new:
            return False
        mods = lambda t: [int(x) for x in t.split("(")[1].rstrip(")[]").split(",")]  # noqa: E731
        return "(" not in old or any(n < o for n, o in zip(mods(new), mods(old)))
    return True


def _members(want: Table, have: Table, element: str, items_want: Sequence,
             items_have: Sequence, key: Callable[[Any], Any],
             locate: Callable[[Table, Any], Any], add: type[ChangeBase], drop: type[ChangeBase],
             phase: Phase) -> list[ChangeBase]:
    """add/drop changes for members matched by `key` (drops in Phase.TABLE, before columns).
    `locate(table, item)` gives the member with its table (`IndexOn`, `ConstraintOn`, …)."""
    have_keys = {key(i): i for i in items_have}
    want_keys = {key(i): i for i in items_want}
    changes: list[ChangeBase] = [
        add(address=member_address(want, element, i.name), phase=phase, after=locate(want, i))
        for k, i in want_keys.items() if k not in have_keys]
    changes += [drop(address=member_address(want, element, i.name), phase=Phase.TABLE,
                     before=locate(want, i))
                for k, i in have_keys.items() if k not in want_keys]
    return changes


def _constraint_on(table: Table, item: Any) -> ConstraintOn:
    return ConstraintOn(schema_name=table.schema_name, table=table.name,
                        constraint=item if isinstance(item, Constraint) else Constraint.of(item))


def compare_primary_key(want: Table, have: Table) -> list[ChangeBase]:
    """The primary key as the constraint `<table>_pkey`, compared by its columns."""
    if want.primary_key == have.primary_key:
        return []
    address = member_address(want, "constraint", f"{want.name}_pkey")
    pk = lambda t: Constraint(type="primary_key",  # noqa: E731
                              name=t.primary_key_name or f"{t.name}_pkey",
                              columns=t.primary_key)
    changes: list[ChangeBase] = []
    if have.primary_key:
        changes.append(DropConstraint(address=address, phase=Phase.TABLE,
                                      before=_constraint_on(want, pk(have))))
    if want.primary_key:
        changes.append(AddConstraint(address=address, phase=Phase.CONSTRAINT,
                                     after=_constraint_on(want, pk(want))))
    return changes


def compare_constraints(want: Table, have: Table) -> list[ChangeBase]:
    """Unique and check constraints, matched by definition."""
    return (_members(want, have, "constraint", want.uniques, have.uniques, lambda u: u.signature,
                     _constraint_on, AddConstraint, DropConstraint, Phase.CONSTRAINT)
            + _members(want, have, "constraint", want.checks, have.checks, lambda c: c.signature,
                       _constraint_on, AddConstraint, DropConstraint, Phase.CONSTRAINT))


def compare_foreign_keys(want: Table, have: Table) -> list[ChangeBase]:
    return _members(want, have, "constraint", want.foreign_keys, have.foreign_keys,
                    lambda f: f.signature, _constraint_on, AddConstraint, DropConstraint,
                    Phase.CONSTRAINT)


def _index_on(table: Table, index: Any) -> IndexOn:
    return IndexOn(schema_name=table.schema_name, table=table.name, index=index)


def _policy_on(table: Table, policy: Policy) -> PolicyOn:
    return PolicyOn(schema_name=table.schema_name, table=table.name, policy=policy)


def compare_indexes(want: Table, have: Table) -> list[ChangeBase]:
    return _members(want, have, "index", want.indexes, have.indexes, lambda i: i.signature,
                    _index_on, AddIndex, DropIndex, Phase.INDEX)


def compare_policies(want: Table, have: Table) -> list[ChangeBase]:
    """add / drop / modify_policy by name."""
    changes = _members(want, have, "policy", want.policies, have.policies, lambda p: p.name,
                       _policy_on, AddPolicy, DropPolicy, Phase.POLICY)
    live = {p.name: p for p in have.policies}
    for policy in want.policies:
        old: Policy | None = live.get(policy.name)
        if old is not None and old != policy:
            changes.append(ModifyPolicy(
                address=member_address(want, "policy", policy.name), phase=Phase.POLICY,
                before=_policy_on(want, old), after=_policy_on(want, policy)))
    return changes


def compare_grants(want: Table, have: Table) -> list[ChangeBase]:
    """`grant` when a role gains privileges (and maybe loses some), `revoke` when it only loses.
    Roles the spec does not mention are left alone (Supabase grants its own defaults)."""
    live = {g.role: set(g.privileges) for g in have.grants}
    changes: list[ChangeBase] = []
    for grant in want.grants:
        old, new = live.get(grant.role, set()), set(grant.privileges)
        if old == new:
            continue
        cls = GrantPrivileges if new - old else RevokePrivileges
        on = lambda g: GrantOn(schema_name=want.schema_name, table=want.name, grant=g)  # noqa
        changes.append(cls(
            address=member_address(want, "grant", grant.role), phase=Phase.GRANT,
            before=on(Grant(role=grant.role, privileges=_ordered(old))), after=on(grant)))
    return changes


def _ordered(privileges: set[str]) -> tuple[str, ...]:
    return tuple(p for p in PRIVILEGES if p in privileges)


def _trigger_on(table: Table, trigger: Any) -> TriggerOn:
    return TriggerOn(schema_name=table.schema_name, table=table.name, trigger=trigger)


def compare_triggers(want: Table, have: Table) -> list[ChangeBase]:
    """add / drop / modify_trigger by name (the reconciler's own updated_at trigger is a table
    attribute, not in `triggers`). Drops go first (Phase.TABLE); adds after the functions."""
    changes = _members(want, have, "trigger", want.triggers, have.triggers, lambda t: t.name,
                       _trigger_on, AddTrigger, DropTrigger, Phase.TRIGGER)
    live = {t.name: t for t in have.triggers}
    for trigger in want.triggers:
        old = live.get(trigger.name)
        if old is not None and old != trigger:
            changes.append(ModifyTrigger(
                address=member_address(want, "trigger", trigger.name), phase=Phase.TRIGGER,
                before=_trigger_on(want, old), after=_trigger_on(want, trigger)))
    return changes
