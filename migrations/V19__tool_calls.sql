-- Issue #17 item 1: OpenAI tool calling. An assistant answer keeps the tool calls the model made
-- (tool_calls: [{id, name, arguments}], null when none), so an idempotent replay returns exactly the
-- stored response; a turn that brings a tool's result stores it as a 'tool' message with the call it
-- answers. Columns of messages: the row's tenant_id, its row-level security and the app role's table
-- grants cover them.
ALTER TABLE messages ADD COLUMN tool_calls jsonb;
ALTER TABLE messages ADD COLUMN tool_call_id text;
ALTER TABLE messages DROP CONSTRAINT messages_role_check;
ALTER TABLE messages ADD CONSTRAINT messages_role_check CHECK (role IN ('system', 'user', 'assistant', 'tool'));
