-- Query translation's model calls in the tenant's usage (issue #15): a tenant that turned translation on
-- pays its own serving model a short call per new question (a cached question costs nothing). Chat
-- usage is counted per answer in messages (prompt_tokens, completion_tokens); a translation belongs to
-- no answer (it also runs for evaluation runs), so its calls are counted per tenant and day here:
-- calls asked of the model (failed and timed-out ones included) and the tokens the model reported.
CREATE TABLE query_translation_usage (
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  day               date NOT NULL,
  calls             integer NOT NULL DEFAULT 0,
  prompt_tokens     bigint NOT NULL DEFAULT 0,
  completion_tokens bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day)
);

ALTER TABLE query_translation_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE query_translation_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON query_translation_usage TO deepchat_app
  USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
DO $$ BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON query_translation_usage TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

GRANT SELECT, INSERT, UPDATE ON query_translation_usage TO deepchat_app;

-- Evaluation runs can search each question with its translation (issue #15), so a tenant measures query
-- translation before turning it on; a run records whether it did (null: a run from before this column).
ALTER TABLE eval_runs ADD COLUMN query_translation boolean;
