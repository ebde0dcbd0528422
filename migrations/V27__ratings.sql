-- Issue #18 items 4 and 6: the visitor's rating of a conversation after staff resolved it (1-5 and an
-- optional comment), and a free-text comment beside the thumbs on a single bot answer.
--
--  * conversation_ratings is tenant-owned like V1's tables (tenant_id, forced row-level security, the
--    app role's policy WITH CHECK) and points at its conversation with a tenant-scoped foreign key as
--    V9 does, ON DELETE CASCADE: erasing a visitor (DELETE /v1/visitors/{id}) or the retention job
--    deleting a conversation deletes its ratings with it.
--  * One rating per resolution: handoff_id names the resolved handoff (V26) rated, unique per tenant, with
--    a tenant-scoped foreign key to it (its deletion, with its conversation, deletes the rating too).
--  * messages.feedback_comment: the row's tenant_id, row-level security and grants cover the column.

CREATE TABLE conversation_ratings (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id  uuid NOT NULL,
  handoff_id       uuid NOT NULL,
  score            smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
  comment          text CHECK (char_length(comment) <= 2000),
  created_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT conversation_ratings_conversation_id_tenant_fkey FOREIGN KEY (tenant_id, conversation_id)
    REFERENCES conversations (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT conversation_ratings_handoff_id_tenant_fkey FOREIGN KEY (tenant_id, handoff_id)
    REFERENCES handoffs (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT conversation_ratings_once UNIQUE (tenant_id, handoff_id)
);
CREATE INDEX conversation_ratings_conversation ON conversation_ratings (tenant_id, conversation_id);
CREATE INDEX conversation_ratings_tenant_created ON conversation_ratings (tenant_id, created_at);

ALTER TABLE conversation_ratings ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_ratings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversation_ratings TO deepchat_app
  USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant());
DO $$
BEGIN
  EXECUTE format('CREATE POLICY owner_maintenance ON conversation_ratings TO %I USING (true) WITH CHECK (true)',
                 current_user);
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON conversation_ratings TO deepchat_app;

ALTER TABLE messages ADD COLUMN feedback_comment text CHECK (char_length(feedback_comment) <= 2000);
