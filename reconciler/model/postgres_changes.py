"""Postgres schema changes: tables and their members, and the objects beside them (enum types,
extensions, sequences, views, functions, default privileges). Verbs: Add / Drop / Modify /
Rename for schema elements (STYLE.md §8 rule 3); a modify carries both sides."""

from __future__ import annotations

from typing import ClassVar, Literal

from reconciler.model.change_base import Action, ChangeBase
from reconciler.model.postgres import (ColumnOn, ConstraintOn, ForeignKeyRef, GrantOn, IndexOn,
                                       PolicyOn, Table, TableAttrs, TableRef, TriggerOn)
from reconciler.model.postgres_objects import (DefaultPrivilege, EnumType, Extension, Function,
                                               Sequence, View)


class CreateTable(ChangeBase):
    """`after` is the table with its grants, without its foreign keys, indexes, policies and
    triggers (each is a change of its own, in a later phase)."""

    action: ClassVar[Action] = Action.CREATE
    kind: Literal["create_table"] = "create_table"
    after: Table


class DropTable(ChangeBase):
    """`referenced_by`: live foreign keys of other tables that point at it (dropped first)."""

    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_table"] = "drop_table"
    before: Table
    referenced_by: tuple[ForeignKeyRef, ...] = ()


class RenameTable(ChangeBase):
    action: ClassVar[Action] = Action.RENAME
    kind: Literal["rename_table"] = "rename_table"
    before: TableRef
    after: TableRef


class ModifyTable(ChangeBase):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_table"] = "modify_table"
    before: TableAttrs
    after: TableAttrs


class AddColumn(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_column"] = "add_column"
    after: ColumnOn


class DropColumn(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_column"] = "drop_column"
    before: ColumnOn


class RenameColumn(ChangeBase):
    action: ClassVar[Action] = Action.RENAME
    kind: Literal["rename_column"] = "rename_column"
    before: ColumnOn
    after: ColumnOn


class ModifyColumn(ChangeBase):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_column"] = "modify_column"
    before: ColumnOn
    after: ColumnOn


class AddConstraint(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_constraint"] = "add_constraint"
    after: ConstraintOn


class DropConstraint(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_constraint"] = "drop_constraint"
    before: ConstraintOn


class AddIndex(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_index"] = "add_index"
    after: IndexOn


class DropIndex(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_index"] = "drop_index"
    before: IndexOn


class AddPolicy(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_policy"] = "add_policy"
    after: PolicyOn


class DropPolicy(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_policy"] = "drop_policy"
    before: PolicyOn


class ModifyPolicy(ChangeBase):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_policy"] = "modify_policy"
    before: PolicyOn
    after: PolicyOn


class GrantPrivileges(ChangeBase):
    """A role gains privileges (and maybe loses some)."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["grant"] = "grant"
    before: GrantOn
    after: GrantOn


class RevokePrivileges(ChangeBase):
    """A role only loses privileges."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["revoke"] = "revoke"
    before: GrantOn
    after: GrantOn


class AddTrigger(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_trigger"] = "add_trigger"
    after: TriggerOn


class DropTrigger(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_trigger"] = "drop_trigger"
    before: TriggerOn


class ModifyTrigger(ChangeBase):
    """Re-created when its definition changed; only enabled / disabled otherwise."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_trigger"] = "modify_trigger"
    before: TriggerOn
    after: TriggerOn


# --- objects beside tables ---------------------------------------------------------------------


class AddEnum(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_enum"] = "add_enum"
    after: EnumType


class DropEnum(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_enum"] = "drop_enum"
    before: EnumType


class ModifyEnum(ChangeBase):
    """Values added (`ALTER TYPE … ADD VALUE`, in the desired order) and renamed (`RENAME
    VALUE`, from `after.renamed_values`). Postgres cannot remove a value: the diff plans a
    manual change for that instead."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_enum"] = "modify_enum"
    before: EnumType
    after: EnumType


class AddExtension(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_extension"] = "add_extension"
    after: Extension


class DropExtension(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_extension"] = "drop_extension"
    before: Extension


class ModifyExtension(ChangeBase):
    """A new version (`ALTER EXTENSION … UPDATE TO`) or schema (`SET SCHEMA`)."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_extension"] = "modify_extension"
    before: Extension
    after: Extension


class AddSequence(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_sequence"] = "add_sequence"
    after: Sequence


class DropSequence(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_sequence"] = "drop_sequence"
    before: Sequence


class ModifySequence(ChangeBase):
    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_sequence"] = "modify_sequence"
    before: Sequence
    after: Sequence


class AddView(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_view"] = "add_view"
    after: View


class DropView(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_view"] = "drop_view"
    before: View


class ModifyView(ChangeBase):
    """Dropped and created again (`CREATE OR REPLACE VIEW` cannot drop or retype columns)."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_view"] = "modify_view"
    before: View
    after: View


class AddFunction(ChangeBase):
    action: ClassVar[Action] = Action.CREATE
    kind: Literal["add_function"] = "add_function"
    after: Function


class DropFunction(ChangeBase):
    action: ClassVar[Action] = Action.DELETE
    kind: Literal["drop_function"] = "drop_function"
    before: Function


class ModifyFunction(ChangeBase):
    """`CREATE OR REPLACE FUNCTION`; dropped first when the arguments or the result type change
    (which OR REPLACE cannot do)."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_function"] = "modify_function"
    before: Function
    after: Function


class ModifyDefaultPrivileges(ChangeBase):
    """A grantee's default privileges on the objects a role creates in a schema gain or lose
    privileges (`before` and `after` name the same schema, owner, kind and grantee)."""

    action: ClassVar[Action] = Action.UPDATE
    kind: Literal["modify_default_privileges"] = "modify_default_privileges"
    before: DefaultPrivilege
    after: DefaultPrivilege


#: Every Postgres schema change class, in a stable order.
POSTGRES_CHANGES: tuple[type[ChangeBase], ...] = (
    CreateTable, DropTable, RenameTable, ModifyTable, AddColumn, DropColumn, RenameColumn,
    ModifyColumn, AddConstraint, DropConstraint, AddIndex, DropIndex, AddPolicy, DropPolicy,
    ModifyPolicy, GrantPrivileges, RevokePrivileges, AddTrigger, DropTrigger, ModifyTrigger,
    AddEnum, DropEnum, ModifyEnum, AddExtension, DropExtension, ModifyExtension, AddSequence,
    DropSequence, ModifySequence, AddView, DropView, ModifyView, AddFunction, DropFunction,
    ModifyFunction, ModifyDefaultPrivileges,
)
