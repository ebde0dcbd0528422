-- Issue #25, PostgreSQL's CPU per turn: the same_tenant_reference triggers (V9, V26, V38) ran their
-- PL/pgSQL function on every insert, and the function builds and plans a dynamic statement each time just
-- to read the reference column, even when it is NULL, which is every time for most rows (a turn's
-- messages carry no picture; most conversations and messages no pinned model version). A NULL reference
-- has nothing to check and the function returns the row unchanged, so each trigger now fires only when its
-- column is set (a WHEN condition costs no function call). What is checked, and when, is otherwise the same.
DO $$
DECLARE
  t record;
  col text;
BEGIN
  FOR t IN SELECT tg.oid, tg.tgname, tg.tgrelid::regclass AS tbl, pg_get_triggerdef(tg.oid) AS def
           FROM pg_trigger tg
           WHERE tg.tgfoid = 'same_tenant_reference'::regproc AND NOT tg.tgisinternal AND tg.tgqual IS NULL
  LOOP
    col := substring(t.def FROM $re$same_tenant_reference\('([^']+)'$re$);
    IF col IS NULL OR position(' FOR EACH ROW ' IN t.def) = 0 THEN
      RAISE EXCEPTION 'unexpected trigger definition: %', t.def;
    END IF;
    EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.tbl);
    EXECUTE replace(t.def, ' FOR EACH ROW ', format(' FOR EACH ROW WHEN (NEW.%I IS NOT NULL) ', col));
  END LOOP;
END $$;
