-- Re-embedding a knowledge base into another embedding model while its index keeps serving (issue #16
-- item 4).
--
--  * chunks.pending_embedding holds a chunk's vector under the target model, written by the background
--    job; searches keep reading chunks.embedding (the knowledge base's model) until the switch, which
--    moves pending_embedding into embedding and changes knowledge_bases.embedding_model in one
--    transaction. A cancelled or failed job clears it.
--  * knowledge_bases.reembed_* is the job's state and progress (one job per knowledge base). A running
--    job renews reembed_heartbeat; a node that starts resumes the jobs whose heartbeat went stale.
--    Without reembed_auto_switch the job stops at 'ready' (new index built, not switched) so the new
--    model can be evaluated before the switch is asked for.
--  * No new table: the columns ride on the row-level security, grants and tenant-scoped keys that
--    chunks and knowledge_bases already have (V1, V8, V9).

ALTER TABLE chunks ADD COLUMN pending_embedding bytea;

ALTER TABLE knowledge_bases
  ADD COLUMN reembed_model     text,
  ADD COLUMN reembed_status    text CHECK (reembed_status IN ('running', 'ready', 'done', 'failed', 'cancelled')),
  ADD COLUMN reembed_done      integer NOT NULL DEFAULT 0,
  ADD COLUMN reembed_total     integer NOT NULL DEFAULT 0,
  ADD COLUMN reembed_error     text,
  ADD COLUMN reembed_heartbeat timestamptz,
  ADD COLUMN reembed_auto_switch boolean NOT NULL DEFAULT true;
