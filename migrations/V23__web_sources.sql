-- Web and site import (issue #16 item 2): a knowledge base's web sources (one URL, or a site crawled from
-- a start URL) and the pages each sync found, with the content hash that decides whether a page is
-- re-embedded.
--
--  * A source's sync is leased (lease_owner, lease_until): in a cluster the node that claims the lease
--    runs it, others skip it until the lease expires (a node that died mid-sync frees it that way).
--  * Pages point at the documents they were imported as; deleting the document forgets the page.
--  * Both tables are tenant-owned: row-level security as V1, tenant-scoped foreign keys as V9.

CREATE TABLE web_sources (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id              uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  knowledge_base_id      uuid NOT NULL,
  start_url              text NOT NULL,
  whole_site             boolean NOT NULL,
  max_depth              integer NOT NULL,
  max_pages              integer NOT NULL,
  sync_interval_minutes  integer CHECK (sync_interval_minutes IS NULL OR sync_interval_minutes > 0),
  status                 text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'syncing', 'ready', 'failed')),
  error                  text,
  pages_found            integer NOT NULL DEFAULT 0,
  pages_done             integer NOT NULL DEFAULT 0,
  pages_added            integer NOT NULL DEFAULT 0,
  pages_updated          integer NOT NULL DEFAULT 0,
  pages_unchanged        integer NOT NULL DEFAULT 0,
  pages_removed          integer NOT NULL DEFAULT 0,
  pages_failed           integer NOT NULL DEFAULT 0,
  last_synced_at         timestamptz,
  next_sync_at           timestamptz,
  lease_owner            text,
  lease_until            timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, knowledge_base_id, start_url),
  FOREIGN KEY (tenant_id, knowledge_base_id) REFERENCES knowledge_bases (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX web_sources_due ON web_sources (next_sync_at) WHERE next_sync_at IS NOT NULL;

CREATE TABLE web_source_pages (
  id               uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  source_id        uuid NOT NULL,
  url              text NOT NULL,
  depth            integer NOT NULL,
  document_id      uuid,
  content_hash     text,
  status           text NOT NULL CHECK (status IN ('added', 'updated', 'unchanged', 'skipped', 'failed')),
  error            text,
  fetched_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, source_id, url),
  FOREIGN KEY (tenant_id, source_id) REFERENCES web_sources (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['web_sources', 'web_source_pages']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO deepchat_app '
                   'USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    EXECUTE format('CREATE POLICY owner_maintenance ON %I TO %I USING (true) WITH CHECK (true)',
                   t, current_user);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON web_sources, web_source_pages TO deepchat_app;

-- Sources whose scheduled sync is due and not leased, across tenants: what each node's sync timer asks
-- every half minute in one statement, instead of one query per tenant. It names ids only; the sync itself
-- runs under the source's tenant (row-level security as everywhere).
CREATE FUNCTION due_web_sources(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT s.tenant_id, s.id FROM web_sources s WHERE s.next_sync_at <= now()
        AND (s.lease_until IS NULL OR s.lease_until < now()) ORDER BY s.next_sync_at LIMIT p_limit $$;
REVOKE ALL ON FUNCTION due_web_sources(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION due_web_sources(integer) TO deepchat_app;
