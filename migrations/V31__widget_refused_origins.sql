-- Origins the widget was refused on (issue #22 item 2): a tenant's console lists the recent ones with a
-- one-click "allow", so a site owner who forgot to allow-list a page sees why the widget did not appear.
--
--  * One row per (tenant, origin) with a count and first/last time; the node batches refusals in memory
--    and writes them every few seconds, and keeps the 50 most recent origins per tenant, so a page that
--    sends forged Origin headers can neither grow the table nor cost a write per request.
--  * Tenant-owned: row-level security as V1, grants as V8.

CREATE TABLE widget_refused_origins (
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  origin      text NOT NULL CHECK (length(origin) <= 300),
  refusals    bigint NOT NULL CHECK (refusals > 0),
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, origin)
);
CREATE INDEX widget_refused_origins_recent ON widget_refused_origins (tenant_id, last_seen DESC);

ALTER TABLE widget_refused_origins ENABLE ROW LEVEL SECURITY;
ALTER TABLE widget_refused_origins FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON widget_refused_origins TO deepchat_app
  USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON widget_refused_origins TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON widget_refused_origins TO deepchat_app;
