-- Issue #17 item 6: an idempotent replay returns exactly the stored response, finish_reason included
-- ("length" after max_tokens, "content_filter" after a refusal); before, every replay said "stop".
-- A column of messages: the row's tenant_id, its row-level security and the app role's table grants
-- cover it. Rows written before this migration have none and replay as before ("stop", or
-- "content_filter" for a blocked row).
ALTER TABLE messages ADD COLUMN finish_reason text;
