"""Live state of the objects beside tables: the catalog → `SchemaObjects`, and fingerprints.

Reads the enum types, sequences, views, functions and default privileges of the schemas the
project declares anything in, and the extensions it declares; a few catalog queries in all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence as Seq

import psycopg

from reconciler.backends.postgres import queries_objects as q
from reconciler.backends.postgres.ddl import TOUCH
from reconciler.digests import digest
from reconciler.model.postgres import Grant
from reconciler.model.postgres_types import normalise_search_path
from reconciler.model.postgres_objects import (DEFAULT_PRIVILEGES, DefaultPrivilege, EnumType,
                                               Extension, Function, SchemaObjects, Sequence, View)

VOLATILITY = {"v": "volatile", "s": "stable", "i": "immutable"}
DEFAULT_ON = {"r": "tables", "S": "sequences", "f": "functions"}


def read_objects(conn: psycopg.Connection, schemas: Seq[str], extensions: Seq[str]
                 ) -> SchemaObjects:
    """The objects of `schemas` and the installed extensions among `extensions`. Raises
    psycopg.Error (the caller turns it into ReadError)."""
    schemas = sorted(schemas)
    return SchemaObjects(
        enums=tuple(EnumType(schema_name=s, name=n, values=tuple(v))
                    for s, n, v in conn.execute(q.ENUMS, [schemas])),
        extensions=tuple(Extension(name=n, schema_name=s, version=v)
                         for n, s, v in conn.execute(q.EXTENSIONS, [sorted(extensions)])),
        sequences=tuple(Sequence(schema_name=s, name=n, type=t, start=st, increment=inc,
                                 min_value=lo, max_value=hi, cache=cache, cycle=cycle)
                        for s, n, t, st, inc, lo, hi, cache, cycle
                        in conn.execute(q.SEQUENCES, [schemas])),
        views=tuple(View(schema_name=s, name=n, definition=d, security_invoker=inv, comment=c,
                         grants=acl_grants(acl, DEFAULT_PRIVILEGES["tables"]))
                    for s, n, d, inv, c, acl in conn.execute(q.VIEWS, [schemas])),
        functions=tuple(_function(*row) for row in conn.execute(q.FUNCTIONS, [schemas, TOUCH])),
        default_privileges=_default_privileges(conn.execute(q.DEFAULT_ACL, [schemas])),
    )


def _function(schema: str, name: str, arguments: str, returns: str, language: str, body: str,
              volatility: str, definer: bool, config: list[str] | None,
              comment: str | None, acl: list[str], identity: str) -> Function:
    settings = dict(item.split("=", 1) for item in config or () if "=" in item)
    path = settings.get("search_path")
    return Function(schema_name=schema, name=name, arguments=arguments, returns=returns,
                    language=language, body=body, volatility=VOLATILITY[volatility],
                    security_definer=definer,
                    search_path=normalise_search_path(path), comment=comment,
                    grants=acl_grants(acl, DEFAULT_PRIVILEGES["functions"]), identity=identity)


def acl_grants(acl: list[str], order: Seq[str]) -> tuple[Grant, ...]:
    """`["anon:select", "public:execute", …]` (from `aclexplode`) → one `Grant` per role, sorted
    by role, privileges in `order` (others, such as a view's `maintain`, are left out)."""
    found: dict[str, set[str]] = defaultdict(set)
    for item in acl or ():
        role, _, privilege = item.rpartition(":")
        found[role].add(privilege)
    return tuple(Grant(role=role, privileges=tuple(p for p in order if p in privs))
                 for role, privs in sorted(found.items()))


def _default_privileges(rows) -> tuple[DefaultPrivilege, ...]:
    found: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for schema, owner, objtype, grantee, privilege in rows:
        found[(schema, owner, DEFAULT_ON[objtype], grantee)].add(privilege)
    return tuple(
        DefaultPrivilege(schema_name=schema, owner=owner, on=on, grant=Grant(
            role=grantee, privileges=tuple(p for p in DEFAULT_PRIVILEGES[on] if p in privs)))
        for (schema, owner, on, grantee), privs in sorted(found.items()))


def object_fingerprints(objects: SchemaObjects, desired: SchemaObjects) -> dict[str, str]:
    """`{address: "sha256:…" | "absent"}` for every live object and every desired one, so the
    stale-plan check covers each object a plan touches."""
    prints: dict[str, str] = {}
    for kind in ("enums", "extensions", "sequences", "views", "functions",
                 "default_privileges"):
        for item in getattr(desired, kind):
            prints[item.address] = "absent"
        for item in getattr(objects, kind):
            prints[item.address] = digest(item.model_dump(mode="json"))
    return prints
