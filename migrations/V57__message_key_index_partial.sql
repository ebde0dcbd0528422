-- Issue #25: the executor cost of a turn's question-and-answer insert. messages' unique index on
-- (tenant_id, idempotency_key) (V1's UNIQUE constraint) took an entry for every row, the key NULL included:
-- every answer row and every question sent without a key (most API turns) wrote one btree entry and its WAL
-- record for nothing, since NULL keys are never looked up and never conflict. The same uniqueness as a
-- partial unique index holds only rows with a key. Every lookup is by key (`idempotency_key = $1`, which
-- implies NOT NULL), so each can still use it; an ON CONFLICT on the key names the index's predicate
-- (Handoffs).
CREATE UNIQUE INDEX messages_tenant_idempotency_key ON messages (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_idempotency_key_key;
