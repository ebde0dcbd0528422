-- Human handoff (issue #18): a visitor's conversation handed to tenant staff, the agents' presence, their
-- replies and internal notes, canned replies, per-tenant handoff settings and tickets left outside
-- business hours.
--
--  * handoffs: one row per escalation of a conversation (queued -> assigned -> resolved); at most one
--    open (queued or assigned) per conversation. Ratings (V27) refer to a resolved row.
--  * handoff_messages: staff text in a conversation: 'agent' replies (sent to the visitor) and 'note's
--    (staff only). client_id is unique per conversation, so a retried reply is stored once.
--  * agent_presence: an agent's online/away choice and the heartbeat of the node holding the agent's
--    inbox stream; an assigned handoff whose agent has no heartbeat for the configured timeout is queued
--    again (handoff_requeue_stale, run by every node).
--  * users may have the role 'agent' (the inbox only); intent rules may force 'handoff'.
--  * Every table is tenant-owned: row-level security as V1, tenant-scoped foreign keys as V9; all of it
--    goes when its conversation goes (visitor erasure, retention).

ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('owner', 'admin', 'editor', 'viewer', 'agent'));
ALTER TABLE users ADD CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id);

ALTER TABLE intent_rules DROP CONSTRAINT IF EXISTS intent_rules_intent_check;
ALTER TABLE intent_rules ADD CONSTRAINT intent_rules_intent_check
  CHECK (intent IN ('faq', 'knowledge', 'chat', 'handoff'));

CREATE TABLE handoff_settings (
  tenant_id       uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  assignment      text NOT NULL DEFAULT 'round_robin' CHECK (assignment IN ('round_robin', 'pick')),
  agent_cap       integer NOT NULL DEFAULT 5 CHECK (agent_cap BETWEEN 1 AND 100),
  time_zone       text NOT NULL DEFAULT 'UTC',
  -- {"mon": [["09:00", "18:00"]], ...}; null: always open
  business_hours  jsonb,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE handoffs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id  uuid NOT NULL,
  visitor_id       text,
  state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'assigned', 'resolved')),
  reason           text NOT NULL,
  agent_id         uuid,
  resolution       text CHECK (resolution IN ('bot', 'closed')),
  queued_at        timestamptz NOT NULL DEFAULT now(),
  assigned_at      timestamptz,
  first_reply_at   timestamptz,
  resolved_at      timestamptz,
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, agent_id) REFERENCES users (tenant_id, id) ON DELETE NO ACTION
);
CREATE UNIQUE INDEX handoffs_open ON handoffs (tenant_id, conversation_id) WHERE state <> 'resolved';
CREATE INDEX handoffs_queue ON handoffs (tenant_id, queued_at) WHERE state = 'queued';
CREATE INDEX handoffs_agent ON handoffs (tenant_id, agent_id) WHERE state = 'assigned';

CREATE TABLE handoff_messages (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id  uuid NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('agent', 'note')),
  author_id        uuid,
  text             text NOT NULL,
  client_id        text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, conversation_id, client_id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX handoff_messages_conversation ON handoff_messages (tenant_id, conversation_id, created_at);

CREATE TABLE agent_presence (
  tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id           uuid NOT NULL,
  presence          text NOT NULL DEFAULT 'away' CHECK (presence IN ('online', 'away')),
  last_seen         timestamptz NOT NULL DEFAULT now(),
  last_assigned_at  timestamptz NOT NULL DEFAULT '-infinity',
  PRIMARY KEY (tenant_id, user_id),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE canned_replies (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  title       text NOT NULL,
  text        text NOT NULL,
  created_by  uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, title)
);
CREATE TRIGGER canned_replies_created_by_same_tenant BEFORE INSERT OR UPDATE OF tenant_id, created_by
  ON canned_replies FOR EACH ROW EXECUTE FUNCTION same_tenant_reference('created_by', 'users');
ALTER TABLE canned_replies ADD CONSTRAINT canned_replies_created_by_fkey
  FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL;

CREATE TABLE tickets (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id  uuid NOT NULL,
  visitor_id       text,
  message          text NOT NULL,
  name             text,
  email            text,
  phone            text,
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tickets_tenant_created ON tickets (tenant_id, created_at DESC);
CREATE INDEX tickets_visitor ON tickets (tenant_id, visitor_id);

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['handoff_settings', 'handoffs', 'handoff_messages', 'agent_presence', 'canned_replies',
                           'tickets']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO deepchat_app '
                   'USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', t);
    EXECUTE format('CREATE POLICY owner_maintenance ON %I TO %I USING (true) WITH CHECK (true)',
                   t, current_user);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON handoff_settings, handoffs, agent_presence, canned_replies, tickets
  TO deepchat_app;
-- staff messages are a record: written once, never edited (erasure deletes them with the conversation)
GRANT SELECT, INSERT ON handoff_messages TO deepchat_app;

-- Assigned handoffs whose agent's inbox has sent no heartbeat for p_timeout, across tenants, put back in
-- the queue in one statement (every node runs it every few seconds; each row is taken by one of them).
-- Names what it moved, so the node can tell the staff and the visitors.
CREATE FUNCTION handoff_requeue_stale(p_timeout interval)
  RETURNS TABLE (tenant_id uuid, conversation_id uuid, visitor_id text, agent_id uuid)
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
    WITH stale AS (
      SELECT h.id, h.agent_id FROM handoffs h
      LEFT JOIN agent_presence p ON p.tenant_id = h.tenant_id AND p.user_id = h.agent_id
      WHERE h.state = 'assigned' AND (p.last_seen IS NULL OR p.last_seen < now() - p_timeout)
      FOR UPDATE OF h SKIP LOCKED)
    UPDATE handoffs h SET state = 'queued', agent_id = NULL, assigned_at = NULL
      FROM stale WHERE h.id = stale.id
      RETURNING h.tenant_id, h.conversation_id, h.visitor_id, stale.agent_id $$;
REVOKE ALL ON FUNCTION handoff_requeue_stale(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION handoff_requeue_stale(interval) TO deepchat_app;
