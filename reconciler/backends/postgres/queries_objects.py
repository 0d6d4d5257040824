"""Catalog queries for the objects beside tables, as named constants (like `queries.py`).

Objects that belong to an extension (a `pg_depend` row of deptype `e`, docs §53.18) are never
read: they are the extension's, not the project's. Parameters are bound (`%s`).
"""

#: Enum types of the given schemas, values in their sort order.
ENUMS = """
SELECT n.nspname, t.typname,
       ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid
             ORDER BY e.enumsortorder)
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND n.nspname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_type'::regclass
                  AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""

#: Installed extensions among the given names: schema and version.
EXTENSIONS = """
SELECT e.extname, n.nspname, e.extversion
FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = ANY(%s)
ORDER BY 1
"""

#: Sequences of their own (not owned by a serial or identity column, not an extension's).
SEQUENCES = """
SELECT n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart,
       s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                    AND (d.deptype = 'e' OR (d.deptype IN ('a', 'i') AND d.refobjsubid > 0)))
ORDER BY 1, 2
"""

#: Views: the query as the server prints it, the security_invoker option, the comment.
VIEWS = """
SELECT n.nspname, c.relname, pg_catalog.pg_get_viewdef(c.oid, true),
       coalesce((SELECT lower(o.option_value) IN ('true', 'on', '1', 'yes')
                 FROM pg_catalog.pg_options_to_table(c.reloptions) o
                 WHERE o.option_name = 'security_invoker'), false),
       pg_catalog.obj_description(c.oid, 'pg_class'),
       ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(a.grantee)
                    END || ':' || lower(a.privilege_type)
             FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
             WHERE a.grantee <> c.relowner)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v' AND n.nspname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""

#: Plain functions (not procedures or aggregates) besides the reconciler's own trigger function:
#: arguments and result as printed, language, source, volatility (`v`, `s`, `i`), SECURITY
#: DEFINER, `SET` options (`search_path=…`), comment, grants (`role:privilege`, the owner's
#: left out, PUBLIC as `public`; a NULL ACL is the default: PUBLIC may EXECUTE) and identity
#: arguments (the argument types, which tell overloads apart).
FUNCTIONS = """
SELECT n.nspname, p.proname, pg_catalog.pg_get_function_arguments(p.oid),
       pg_catalog.pg_get_function_result(p.oid), l.lanname, p.prosrc, p.provolatile,
       p.prosecdef, p.proconfig, pg_catalog.obj_description(p.oid, 'pg_proc'),
       ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(a.grantee)
                    END || ':' || lower(a.privilege_type)
             FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
             WHERE a.grantee <> p.proowner),
       pg_catalog.pg_get_function_identity_arguments(p.oid)
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE n.nspname = ANY(%s) AND p.prokind = 'f' AND p.proname <> %s
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""

#: Default privileges set for a schema: owner role, object kind (`r` tables, `S` sequences,
#: `f` functions), grantee (0 is PUBLIC) and privilege.
DEFAULT_ACL = """
SELECT n.nspname, pg_catalog.pg_get_userbyid(d.defaclrole), d.defaclobjtype,
       CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
       lower(a.privilege_type)
FROM pg_catalog.pg_default_acl d
JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) a
WHERE n.nspname = ANY(%s) AND d.defaclobjtype IN ('r', 'S', 'f')
ORDER BY 1, 2, 3, 4, 5
"""

#: How the server prints a probe function's arguments and result (see `canonical_objects`).
PROBE_FUNCTION = """
SELECT pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid),
       pg_catalog.pg_get_function_identity_arguments(p.oid)
FROM pg_catalog.pg_proc p
WHERE p.proname = %s AND p.pronamespace = pg_catalog.pg_my_temp_schema()
"""
