"""Live Postgres tables → the documents of `schemas/supabase/*.yaml` (docs/supabase.md). Pure.

Each `model.postgres.Table` the catalog reader built (`backends.postgres.reader.read_catalog`)
becomes the document `project.supabase` resolves back into an equal table: columns with their
canonical types and defaults (as `default_sql`, the text the server prints), NOT NULL, comments;
the primary key, unique groups and checks at table level (the diff compares them by
definition, so generated names do not matter); single-column foreign keys as `references:`;
indexes (with their live name when it is not the generated one), row level security, policies
and grants. What the document cannot say is a finding (the plan would show it as a change).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.importer.names import slug, unique_name
from reconciler.importer.notion_docs import Finding
from reconciler.model.postgres import (PRIVILEGES, SERIAL_TYPES, Column, ForeignKey, Index, Policy,
                                       Table, Trigger, object_name)


def table_file_name(table: Table, taken: Iterable[str]) -> str:
    """The file stem: the table name (prefixed with its schema outside `public`), as a logical
    name, unique among `taken`."""
    base = table.name if table.schema_name == "public" else f"{table.schema_name}_{table.name}"
    return unique_name(slug(base, fallback="table"), taken)


def _column(column: Column, primary: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"type": column.type}
    if column.identity is not None:
        data["identity"] = column.identity
    generated = column.identity is not None or column.type in SERIAL_TYPES
    if not column.nullable and not primary and not generated:
        data["nullable"] = False
    if column.default is not None:
        data["default_sql"] = column.default
    if column.comment:
        data["comment"] = column.comment
    return data


def _reference(fk: ForeignKey, schema: str) -> dict[str, Any]:
    data: dict[str, Any] = {"table": fk.ref_table, "column": fk.ref_columns[0]}
    if fk.ref_schema != schema:
        data["schema"] = fk.ref_schema
    if fk.on_delete != "no action":
        data["on_delete"] = fk.on_delete
    return data


def _index(table: Table, index: Index) -> dict[str, Any]:
    data: dict[str, Any] = {"columns": list(index.columns)}
    parts = ["".join(ch if ch.isalnum() else "_" for ch in c).strip("_") for c in index.columns]
    if index.name != object_name(table.name, parts, "idx"):
        data["name"] = index.name
    if index.unique:
        data["unique"] = True
    if index.method != "btree":
        data["method"] = index.method
    if index.where:
        data["where"] = index.where
    return data


def _policy(policy: Policy) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if policy.command != "all":
        data["command"] = policy.command
    data["roles"] = list(policy.roles)
    if not policy.permissive:
        data["as"] = "restrictive"
    if policy.using:
        data["using"] = policy.using
    if policy.with_check:
        data["with_check"] = policy.with_check
    return data


def _trigger(trigger: Trigger, schema: str) -> dict[str, Any]:
    """A trigger as `triggers:` declares it, defaults left out."""
    data: dict[str, Any] = {"function": trigger.function.removeprefix(f"{schema}.")}
    defaults = Trigger(name=trigger.name, function=trigger.function)
    for field in ("timing", "events", "for_each", "when", "enabled"):
        value = getattr(trigger, field)
        if value != getattr(defaults, field):
            data[field] = list(value) if isinstance(value, tuple) else value
    return data


def table_document(table: Table, file_name: str, *, owner: str | None = None
                   ) -> tuple[dict[str, Any], list[Finding]]:
    """`schemas/supabase/<file_name>.yaml` for the live `table`. Grants of `owner` (who holds
    every privilege anyway) are left out; so are roles the spec does not mention, which the
    diff leaves alone."""
    findings: list[Finding] = []
    data: dict[str, Any] = {}
    if table.schema_name != "public":
        data["schema"] = table.schema_name
    if table.name != file_name:
        data["name"] = table.name
    if table.comment:
        data["comment"] = table.comment
    single_fks = {fk.columns[0]: fk for fk in table.foreign_keys if len(fk.columns) == 1}
    for fk in table.foreign_keys:
        if len(fk.columns) > 1:
            findings.append(Finding(table.address, f"the foreign key {fk.name} on "
                                    f"({', '.join(fk.columns)}) spans several columns, which the "
                                    "spec cannot declare yet: a plan proposes dropping it"))
    columns: dict[str, Any] = {}
    for column in table.columns:
        doc = _column(column, column.name in table.primary_key)
        if column.name in single_fks:
            doc["references"] = _reference(single_fks[column.name], table.schema_name)
        columns[column.name] = doc
    data["columns"] = columns
    if table.primary_key:
        data["primary_key"] = list(table.primary_key)
    if table.uniques:
        data["unique"] = [list(u.columns) for u in table.uniques]
    if table.checks:
        data["checks"] = [c.expression for c in table.checks]
    if table.indexes:
        data["indexes"] = [_index(table, i) for i in table.indexes]
    if table.rls:
        data["rls"] = True
    if table.force_rls:
        data["force_rls"] = True
    if table.realtime:
        data["realtime"] = True
    if table.triggers:
        data["triggers"] = {t.name: _trigger(t, table.schema_name) for t in table.triggers}
    if table.policies:
        data["policies"] = {p.name: _policy(p) for p in table.policies}
    grants = {g.role: ["all"] if set(g.privileges) == set(PRIVILEGES) else list(g.privileges)
              for g in table.grants if g.role != owner and g.privileges}
    if grants:
        data["grants"] = grants
    default_trigger = any(c.name == "updated_at" and c.type == "timestamptz" for c in table.columns)
    if table.touch_updated_at != default_trigger:
        data["updated_at_trigger"] = table.touch_updated_at
    return data, findings
