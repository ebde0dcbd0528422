-- Issue #22 item 3: the console's overview measured "response time" as the gap between a visitor's
-- message and the assistant row, which is written when generation starts (0-1 ms), not when the
-- answer arrived. The pipeline now stores, per answer, milliseconds from the turn's arrival to its
-- first token (a FAQ or cached answer: to the whole answer) and to its end. Columns of messages: the
-- row's tenant_id, its row-level security and the app role's table grants cover them. Older rows
-- have none and are left out of the figures.
ALTER TABLE messages
  ADD COLUMN first_token_ms integer CHECK (first_token_ms >= 0),
  ADD COLUMN answer_ms integer CHECK (answer_ms >= 0);
