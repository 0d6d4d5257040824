"""Catalog queries as named constants (Atlas `sql/postgres/inspect.go` keeps them the same way).

All read `pg_catalog` directly (Postgres docs, chapter 53 "System Catalogs"); `format_type`,
`pg_get_expr`, `pg_get_indexdef` and `aclexplode` are documented in §9.26 "System Information
Functions". Parameters are bound (`%s`), never formatted in.
"""

import re

#: Ordinary and partitioned tables of the given schemas.
TABLES = """
SELECT c.oid, n.nspname, c.relname, obj_description(c.oid, 'pg_class'), c.relrowsecurity,
       c.relforcerowsecurity
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)
ORDER BY n.nspname, c.relname
"""

#: Columns in declaration order, with the printed type, default, comment, identity (`a`
#: always, `d` by default), the sequence the column owns (a serial's `OWNED BY`, deptype `a`, or
#: an identity's, deptype `i`: docs §53.18 "pg_depend") and, for an enum type (or an array of
#: one), its labels in sort order (`pg_enum`, docs §53.20). The sequence is found from the column
#: (`refclassid`, `refobjid`, `refobjsubid`: pg_depend's reference index), not by scanning every
#: sequence for each column: 8 ms instead of 35 ms for the bundled example's 243 columns.
COLUMNS = """
SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid), pg_catalog.col_description(a.attrelid, a.attnum),
       a.attidentity,
       (SELECT s.oid::regclass::text FROM pg_catalog.pg_depend dep
        JOIN pg_catalog.pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
        WHERE dep.refclassid = 'pg_catalog.pg_class'::regclass AND dep.refobjid = a.attrelid
          AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_catalog.pg_class'::regclass
          AND dep.deptype IN ('a', 'i') LIMIT 1),
       ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e
             WHERE e.enumtypid = COALESCE(NULLIF(t.typelem, 0), a.atttypid)
             ORDER BY e.enumsortorder)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

#: Primary key, unique, foreign key and check constraints with their columns in key order.
CONSTRAINTS = """
SELECT con.conrelid, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.i),
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.i),
       con.confdeltype, pg_catalog.pg_get_expr(con.conbin, con.conrelid)
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.conrelid, con.conname
"""

#: The key columns of index `i`, numbered `k` from 1 (its INCLUDE columns left out). Not
#: `generate_series(1, i.indnkeyatts)`: the planner takes a set-returning function it cannot size
#: for 1,000 rows, which put the index queries' cost above `jit_above_cost` (docs §20.7.4), and
#: the server then compiled them with JIT on every read (75 of the 80 ms the probe's index query
#: took here). `unnest` of an array is sized at 10.
INDEX_KEYS = ("unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY key(attnum, n), "
              "pg_catalog.int4(n) k WHERE k <= i.indnkeyatts")

#: Per key column of index `i` (access method `am`), what `pg_get_indexdef(oid, k)` leaves out
#: (it prints only the column or expression): a collation other than the column's (or, for an
#: expression, its type's), an operator class that is not the default one (schema-qualified
#: when not on the search path), `DESC` and a `NULLS` order other than the default (btree);
#: '' when there is none (docs §53.26 "pg_index": indclass, indcollation, indoption).
INDEX_SUFFIXES = """ARRAY(SELECT concat_ws(' ',
    CASE WHEN i.indcollation[k - 1] <> 0 AND i.indcollation[k - 1] <> COALESCE(
              (SELECT a.attcollation FROM pg_catalog.pg_attribute a
               WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]),
              (SELECT t.typcollation FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
               WHERE a.attrelid = i.indexrelid AND a.attnum = k))
         THEN 'COLLATE ' || (SELECT CASE WHEN pg_catalog.pg_collation_is_visible(co.oid)
                                         THEN quote_ident(co.collname)
                                         ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                             FROM pg_catalog.pg_collation co
                             JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                             WHERE co.oid = i.indcollation[k - 1]) END,
    (SELECT CASE WHEN pg_catalog.pg_opclass_is_visible(oc.oid) THEN quote_ident(oc.opcname)
                 ELSE quote_ident(on_.nspname) || '.' || quote_ident(oc.opcname) END
     FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_namespace on_ ON on_.oid = oc.opcnamespace
     WHERE oc.oid = i.indclass[k - 1] AND NOT oc.opcdefault),
    CASE WHEN am.amname = 'btree' AND i.indoption[k - 1] & 1 = 1 THEN 'DESC' END,
    CASE WHEN am.amname = 'btree' AND (i.indoption[k - 1] & 2 = 2) <> (i.indoption[k - 1] & 1 = 1)
         THEN CASE WHEN i.indoption[k - 1] & 2 = 2 THEN 'NULLS FIRST' ELSE 'NULLS LAST' END END)
  FROM """ + INDEX_KEYS + """ ORDER BY k)"""

#: Indexes that do not back a primary key, unique or exclusion constraint.
INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique, am.amname,
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
             FROM """ + INDEX_KEYS + """ ORDER BY k),
       pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
       """ + INDEX_SUFFIXES + """
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                  WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                    AND c.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname
"""

#: Row level security policies; role 0 is PUBLIC.
POLICIES = """
SELECT p.polrelid, p.polname, p.polcmd, p.polpermissive,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r) END
             FROM unnest(p.polroles) r ORDER BY 1),
       pg_catalog.pg_get_expr(p.polqual, p.polrelid),
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_catalog.pg_policy p
WHERE p.polrelid = ANY(%s)
ORDER BY p.polrelid, p.polname
"""

#: Table privileges per grantee (grantee 0 is PUBLIC).
GRANTS = """
SELECT c.oid, CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,
       lower(a.privilege_type)
FROM pg_catalog.pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE c.oid = ANY(%s)
ORDER BY 1, 2, 3
"""

#: User triggers of the tables: name, `tgtype` bits (docs: `pg_trigger.tgtype`; ROW 1,
#: BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32, INSTEAD 64), `tgenabled` (`D`
#: disabled), the function and its source, and the definition as the server prints it (for the
#: WHEN condition).
TRIGGERS = """
SELECT t.tgrelid, t.tgname, t.tgtype, t.tgenabled, fn.nspname || '.' || p.proname, p.prosrc,
       pg_catalog.pg_get_triggerdef(t.oid, true)
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_namespace fn ON fn.oid = p.pronamespace
WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname
"""

#: Tables in Supabase Realtime's publication (or every table, for a FOR ALL TABLES one).
REALTIME = """
SELECT c.oid FROM pg_catalog.pg_class c
WHERE c.oid = ANY(%s) AND EXISTS (
  SELECT 1 FROM pg_catalog.pg_publication p
  WHERE p.pubname = %s AND (p.puballtables OR EXISTS (
    SELECT 1 FROM pg_catalog.pg_publication_rel r WHERE r.prpubid = p.oid AND r.prrelid = c.oid)))
"""

#: Which of the given roles exist in the cluster.
ROLES = "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)"

#: Probe results (`canonical.probe_all`): the scratch tables that could be made (oid, name),
#: then the default, check, policy and index expressions of all of them, as printed.
PROBE_TABLES = """
SELECT c.oid, c.relname FROM pg_catalog.pg_class c
WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND c.relname = ANY(%s) AND c.relkind = 'r'
"""
PROBE_DEFAULTS = """
SELECT d.adrelid, a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
FROM pg_catalog.pg_attrdef d
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = ANY(%s::oid[])
"""
PROBE_CHECKS = """
SELECT conrelid, conname, pg_catalog.pg_get_expr(conbin, conrelid)
FROM pg_catalog.pg_constraint WHERE conrelid = ANY(%s::oid[]) AND contype = 'c'
"""
PROBE_POLICIES = """
SELECT polrelid, polname, pg_catalog.pg_get_expr(polqual, polrelid),
       pg_catalog.pg_get_expr(polwithcheck, polrelid)
FROM pg_catalog.pg_policy WHERE polrelid = ANY(%s::oid[])
"""
PROBE_INDEXES = """
SELECT i.indrelid, ic.relname,
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
             FROM """ + INDEX_KEYS + """ ORDER BY k),
       pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
       """ + INDEX_SUFFIXES + """
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%s::oid[])
"""
#: The WHEN condition in a trigger definition as `pg_get_triggerdef` prints it.
TRIGGER_WHEN = re.compile(r" WHEN \((?P<when>.*)\) EXECUTE (?:FUNCTION|PROCEDURE) ", re.DOTALL)
PROBE_TRIGGERS = """
SELECT tgrelid, tgname, pg_catalog.pg_get_triggerdef(oid, true)
FROM pg_catalog.pg_trigger WHERE tgrelid = ANY(%s::oid[]) AND NOT tgisinternal
"""

#: Session-independent key of the apply lock: hashtext('reconciler.apply') would do, but a
#: fixed constant is easier to look up in pg_locks (classid/objid of an advisory lock).
LOCK_KEY = 0x7265636F6E63696C  # "reconcil"
TRY_LOCK = "SELECT pg_catalog.pg_try_advisory_xact_lock(%s)"
