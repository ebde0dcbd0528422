-- References between tenant-owned rows carry tenant_id (issue #14 item 6): a row can point only at a
-- row of its own tenant. Foreign keys are checked with the owner's rights, past row-level security, so
-- before this a tenant that knew another tenant's ids could attach its rows to that tenant's rows.
--
--  * ON DELETE CASCADE and NO ACTION references become composite foreign keys on (tenant_id, ref).
--  * ON DELETE SET NULL references keep their foreign key (PostgreSQL 14 cannot null one column of a
--    composite key) and gain a trigger that checks the tenant of each row written.
--  * Existing rows are validated; a database that holds cross-tenant references (only a misuse could
--    have made them) still migrates, with a warning naming the constraint, and new rows are checked.

ALTER TABLE model_versions  ADD CONSTRAINT model_versions_tenant_id_id_key  UNIQUE (tenant_id, id);
ALTER TABLE conversations   ADD CONSTRAINT conversations_tenant_id_id_key   UNIQUE (tenant_id, id);
ALTER TABLE messages        ADD CONSTRAINT messages_tenant_id_id_key        UNIQUE (tenant_id, id);
ALTER TABLE knowledge_bases ADD CONSTRAINT knowledge_bases_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE documents       ADD CONSTRAINT documents_tenant_id_id_key       UNIQUE (tenant_id, id);

DO $$
DECLARE
  r record;
  fk text;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('rollouts', 'stable_version_id', 'model_versions', 'NO ACTION'),
      ('rollouts', 'candidate_version_id', 'model_versions', 'NO ACTION'),
      ('messages', 'conversation_id', 'conversations', 'CASCADE'),
      ('messages', 'reply_to', 'messages', 'CASCADE'),
      ('documents', 'knowledge_base_id', 'knowledge_bases', 'CASCADE'),
      ('chunks', 'knowledge_base_id', 'knowledge_bases', 'CASCADE'),
      ('chunks', 'document_id', 'documents', 'CASCADE')) AS t(tbl, col, ref, on_delete)
  LOOP
    fk := r.tbl || '_' || r.col || '_tenant_fkey';
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT IF EXISTS %I', r.tbl, r.tbl || '_' || r.col || '_fkey');
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (tenant_id, %I) REFERENCES %I (tenant_id, id) '
                   'ON DELETE %s NOT VALID', r.tbl, fk, r.col, r.ref, r.on_delete);
    BEGIN
      EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', r.tbl, fk);
    EXCEPTION WHEN foreign_key_violation THEN
      RAISE WARNING '%.% holds references to rows of another tenant: kept, and % checks new rows only',
        r.tbl, r.col, fk;
    END;
  END LOOP;
END $$;

-- TG_ARGV: the referencing column, the referenced table. Runs with the writer's rights: under
-- row-level security the referenced row must also be visible to the writing tenant.
CREATE FUNCTION same_tenant_reference() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp
  AS $$
  DECLARE
    ref uuid;
    found boolean;
  BEGIN
    EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO ref USING NEW;
    IF ref IS NOT NULL THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1 AND tenant_id = $2)', TG_ARGV[1])
        INTO found USING ref, NEW.tenant_id;
      IF NOT found THEN
        RAISE EXCEPTION '%.% = % is not a row of tenant %', TG_TABLE_NAME, TG_ARGV[0], ref, NEW.tenant_id
          USING ERRCODE = 'foreign_key_violation';
      END IF;
    END IF;
    RETURN NEW;
  END $$;
REVOKE ALL ON FUNCTION same_tenant_reference() FROM PUBLIC;

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('api_keys', 'created_by', 'users'),
      ('conversations', 'model_version_id', 'model_versions'),
      ('messages', 'model_version_id', 'model_versions'),
      ('tenant_settings', 'default_knowledge_base_id', 'knowledge_bases')) AS t(tbl, col, ref)
  LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OF tenant_id, %I ON %I FOR EACH ROW '
                   'EXECUTE FUNCTION same_tenant_reference(%L, %L)',
                   r.tbl || '_' || r.col || '_same_tenant', r.col, r.tbl, r.col, r.ref);
  END LOOP;
END $$;
