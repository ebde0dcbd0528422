-- Issue #22 item 4: the Models page compares a rollout's stable and candidate versions over the
-- rollout's window. How each generation went is kept per rollout (only while a rollout of the tenant is
-- active): the stored answer rows cannot tell a candidate that failed before its first token, since
-- its stable fallback then answers the same row. The guard's in-memory window sees the same outcomes on
-- one node; this table gives every node the cluster-wide figures. Tenant-owned like V8/V9 tables.

ALTER TABLE rollouts ADD CONSTRAINT rollouts_tenant_id_id_key UNIQUE (tenant_id, id);

CREATE TABLE rollout_outcomes (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  rollout_id      uuid NOT NULL,
  version_id      uuid NOT NULL,
  role            text NOT NULL CHECK (role IN ('stable', 'candidate')),
  ok              boolean NOT NULL,
  error_code      text,
  first_token_ms  integer CHECK (first_token_ms >= 0),
  total_ms        integer NOT NULL CHECK (total_ms >= 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, rollout_id) REFERENCES rollouts (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, version_id) REFERENCES model_versions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX rollout_outcomes_rollout ON rollout_outcomes (tenant_id, rollout_id, version_id);

ALTER TABLE rollout_outcomes ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollout_outcomes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollout_outcomes TO deepchat_app
  USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON rollout_outcomes TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

-- written once, never changed; removed with the tenant or its rollout
GRANT SELECT, INSERT ON rollout_outcomes TO deepchat_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO deepchat_app;
