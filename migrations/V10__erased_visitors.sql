-- Visitors erased through DELETE /v1/visitors/{id}. Their widget tokens (valid 30 days) must stop
-- working, so the visitor-token check looks here. Only a SHA-256 of the id is kept: the id may be a
-- tenant-chosen identifier, and the erasure should not keep it in clear.
CREATE TABLE erased_visitors (
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  visitor_hash  bytea NOT NULL,
  erased_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, visitor_hash)
);

ALTER TABLE erased_visitors ENABLE ROW LEVEL SECURITY;
ALTER TABLE erased_visitors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON erased_visitors TO deepchat_app
  USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON erased_visitors TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

GRANT SELECT, INSERT ON erased_visitors TO deepchat_app;
