-- Issue #15 item 5: the trace of a turn (routing scores, FAQ candidates, retrieval hits with their scores,
-- the model version and why, moderation hits, tokens, latency), stored with the answer it explains when
-- the turn asked for one (the console's playground, an API call with X-DeepChat-Trace: 1); null otherwise.
-- A column of messages: the row's tenant_id, its row-level security and the app role's table grants
-- cover it, and it goes when the message goes (retention, visitor erasure).
ALTER TABLE messages ADD COLUMN trace jsonb;
