-- WeChat Official Account and WeCom channels (issue #19).
--
--  * channels: a tenant's accounts. app_secret, token and encoding_aes_key are secrets: the API never
--    returns them (only whether they are set). WeChat pushes to /channels/<kind>/<id>: the id names the
--    channel, channel_tenant() finds its tenant (the push carries no credential of ours; its signature,
--    made with the channel's token, is checked before anything else happens).
--  * channel_messages: every accepted push, once (the primary key dedupes WeChat's retries and duplicate
--    pushes across the cluster), and the durable outbox of its answer: a node leases the row while it
--    answers; when the node dies, another takes the row over after the lease and sends the answer once
--    (parts_sent counts what already went out).
--  * Both tables are tenant-owned: row-level security as V1, tenant-scoped foreign keys as V9.
--  * conversations.channel admits the two new channels.

CREATE TABLE channels (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  kind              text NOT NULL CHECK (kind IN ('wechat', 'wecom')),
  name              text NOT NULL,
  app_id            text NOT NULL,
  agent_id          text,
  app_secret        text NOT NULL,
  token             text NOT NULL,
  encoding_aes_key  text CHECK (encoding_aes_key IS NULL OR length(encoding_aes_key) = 43),
  mode              text NOT NULL DEFAULT 'safe' CHECK (mode IN ('plaintext', 'compatible', 'safe')),
  welcome_message   text NOT NULL DEFAULT '',
  enabled           boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  CHECK (mode = 'plaintext' OR encoding_aes_key IS NOT NULL)
);

CREATE TABLE channel_messages (
  id            uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  channel_id    uuid NOT NULL,
  dedupe_key    text NOT NULL,
  open_id       text NOT NULL,
  msg_type      text NOT NULL,
  question      text NOT NULL,
  status        text NOT NULL DEFAULT 'received'
                CHECK (status IN ('received', 'answered', 'replied', 'sent', 'failed')),
  answer        text,
  parts_sent    integer NOT NULL DEFAULT 0,
  attempts      integer NOT NULL DEFAULT 0,
  error         text,
  lease_owner   text,
  lease_until   timestamptz,
  received_at   timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, channel_id, dedupe_key),
  FOREIGN KEY (tenant_id, channel_id) REFERENCES channels (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX channel_messages_due ON channel_messages (lease_until) WHERE status IN ('received', 'answered');
CREATE INDEX channel_messages_user ON channel_messages (tenant_id, open_id);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['channels', 'channel_messages']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO deepchat_app '
                   'USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    EXECUTE format('CREATE POLICY owner_maintenance ON %I TO %I USING (true) WITH CHECK (true)',
                   t, current_user);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON channels, channel_messages TO deepchat_app;

ALTER TABLE conversations DROP CONSTRAINT conversations_channel_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_channel_check
  CHECK (channel IN ('api', 'widget', 'console', 'wechat', 'wecom'));

-- The tenant of the channel a push names (its id only; the push is then handled under that tenant).
CREATE FUNCTION channel_tenant(p_channel uuid) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT c.tenant_id FROM channels c WHERE c.id = p_channel $$;

-- Messages whose answer is owed and whose lease ran out (the node answering them died), across
-- tenants: what each node's sweep asks. It names ids only; the work runs under the row's tenant.
CREATE FUNCTION due_channel_messages(p_limit integer)
  RETURNS TABLE (tenant_id uuid, id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ SELECT m.tenant_id, m.id FROM channel_messages m WHERE m.status IN ('received', 'answered')
        AND m.lease_until < now() ORDER BY m.lease_until LIMIT p_limit $$;

REVOKE ALL ON FUNCTION channel_tenant(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION due_channel_messages(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION channel_tenant(uuid) TO deepchat_app;
GRANT EXECUTE ON FUNCTION due_channel_messages(integer) TO deepchat_app;
