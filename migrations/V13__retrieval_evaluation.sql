-- Retrieval evaluation as a product feature (issue #15 item 4): a tenant's evaluation sets (questions
-- with the expected document and section) and the history of their runs against a knowledge base.
--
--  * Questions are stored as one jsonb array per set: a set is written once and read whole.
--  * A run keeps its figures in columns (the history lists them) and the per-question ranks as jsonb.
--  * Both tables are tenant-owned: row-level security as V1, tenant-scoped foreign keys as V9.

CREATE TABLE eval_sets (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  knowledge_base_id  uuid NOT NULL,
  name               text NOT NULL,
  questions          jsonb NOT NULL,
  question_count     integer NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, knowledge_base_id) REFERENCES knowledge_bases (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX eval_sets_knowledge_base ON eval_sets (tenant_id, knowledge_base_id, created_at);

CREATE TABLE eval_runs (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id              uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  knowledge_base_id      uuid NOT NULL,
  eval_set_id            uuid NOT NULL,
  status                 text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  error                  text,
  knowledge_base_version bigint,
  embedding_model        text,
  question_count         integer NOT NULL DEFAULT 0,
  recall_at_1            real,
  recall_at_5            real,
  mrr                    real,
  cross_language_count   integer,
  cross_recall_at_5      real,
  cross_mrr              real,
  p95_ms                 real,
  results                jsonb,
  started_at             timestamptz NOT NULL DEFAULT now(),
  finished_at            timestamptz,
  -- a candidate evaluated in place of the set's knowledge base (another embedding model or chunking)
  candidate_knowledge_base_id uuid,
  FOREIGN KEY (tenant_id, knowledge_base_id) REFERENCES knowledge_bases (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, eval_set_id) REFERENCES eval_sets (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, candidate_knowledge_base_id) REFERENCES knowledge_bases (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX eval_runs_knowledge_base ON eval_runs (tenant_id, knowledge_base_id, started_at);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['eval_sets', 'eval_runs']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO deepchat_app '
                   'USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    EXECUTE format('CREATE POLICY owner_maintenance ON %I TO %I USING (true) WITH CHECK (true)',
                   t, current_user);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON eval_sets, eval_runs TO deepchat_app;
