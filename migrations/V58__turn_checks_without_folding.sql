-- Issue #25, PostgreSQL's CPU per model turn (thirteenth session, helper "pgcpu"). Instruction counts of the
-- backend (callgrind, docs/performance.md) put about 30% of a turn's PostgreSQL work in the CHECK
-- constraints of messages and conversations: PostgreSQL reads each constraint's stored expression (stringToNode)
-- and plans it (expression_planner) again in every statement that inserts or updates the table, and an
-- IN (...) list is stored as an ARRAY[...] expression that the planner folds into a constant each time, which
-- costs more than the check itself. Three changes, each the same rules and outcomes as before:
--
--  * The IN lists are written as array constants ('{...}'::text[]): the same test (= ANY of the same values),
--    the same constraint names and error messages, nothing left to fold. A single ALTER TABLE per table, so each
--    table is read once to validate the new constraints (the old ones already held for every row).
--  * begin_turn inserts the question and its 'streaming' answer row with one INSERT of two rows instead of a CTE
--    of two INSERTs: the messages constraints and indexes are set up once per turn's begin instead of twice. The
--    rows, their ids (gen_random_uuid(), as the column default), created_at order and the one command id of both
--    rows are as before.
--  * The tenant is set by an assignment (a simple expression, evaluated without SPI or an executor) instead of
--    PERFORM, and the idempotency-key lookup runs only when there is a key: a keyless turn (most API turns) no
--    longer runs a query for a condition that is false. Same statements, same order, same outcomes.

ALTER TABLE messages
  DROP CONSTRAINT messages_status_check,
  DROP CONSTRAINT messages_role_check,
  DROP CONSTRAINT messages_feedback_check,
  ADD CONSTRAINT messages_status_check CHECK (status = ANY ('{complete,streaming,interrupted,blocked}'::text[])),
  ADD CONSTRAINT messages_role_check CHECK (role = ANY ('{system,user,assistant,tool}'::text[])),
  ADD CONSTRAINT messages_feedback_check CHECK (feedback = ANY ('{-1,1}'::integer[]));

ALTER TABLE conversations
  DROP CONSTRAINT conversations_channel_check,
  ADD CONSTRAINT conversations_channel_check CHECK (channel = ANY ('{api,widget,console,wechat,wecom}'::text[]));

CREATE OR REPLACE FUNCTION begin_turn(p_tenant uuid, p_conversation uuid, p_continuing boolean, p_channel text,
                           p_visitor text, p_title text, p_model_version uuid, p_role text, p_content text,
                           p_idempotency_key text, p_tool_call_id text, p_media uuid, p_check_key boolean,
                           p_history boolean, p_answer boolean,
                           OUT key_used boolean, OUT conversation_found boolean, OUT user_id uuid,
                           OUT answer_id uuid, OUT history_roles text[], OUT history_contents text[])
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
  AS $$
  DECLARE
    current_tenant text := current_setting('app.tenant_id', true);
    asked_at timestamptz;
  BEGIN
    IF p_tenant IS NULL THEN
      RAISE EXCEPTION 'begin_turn: no tenant' USING ERRCODE = '22004';
    END IF;
    IF current_tenant IS NOT NULL AND current_tenant <> '' AND current_tenant <> p_tenant::text THEN
      RAISE EXCEPTION 'begin_turn: the transaction belongs to another tenant' USING ERRCODE = '42501';
    END IF;
    current_tenant := set_config('app.tenant_id', p_tenant::text, true);
    key_used := false;
    conversation_found := true;
    IF p_check_key AND p_idempotency_key IS NOT NULL THEN
      IF EXISTS (SELECT 1 FROM messages WHERE idempotency_key = p_idempotency_key) THEN
        key_used := true;
        RETURN;
      END IF;
    END IF;
    IF p_continuing THEN
      -- the version answering now is the one the next turn is pinned to
      UPDATE conversations SET updated_at = now(), model_version_id = COALESCE(p_model_version, model_version_id)
        WHERE id = p_conversation AND channel = p_channel AND visitor_id IS NOT DISTINCT FROM p_visitor;
      IF NOT FOUND THEN
        conversation_found := false;
        RETURN;
      END IF;
    ELSE
      INSERT INTO conversations (id, tenant_id, visitor_id, channel, title, model_version_id)
        VALUES (p_conversation, app_tenant(), p_visitor, p_channel, p_title, p_model_version);
    END IF;
    IF p_history THEN
      -- newest first, as the index gives them (the caller reverses them); an ORDER BY inside each aggregate
      -- would sort twice per call. A subquery with LIMIT is never flattened: its rows reach the aggregates in
      -- its own order
      SELECT array_agg(h.role), array_agg(h.content) INTO history_roles, history_contents
        FROM (SELECT role, content FROM messages WHERE conversation_id = p_conversation
                AND status = 'complete' AND content <> '' AND role IN ('user', 'assistant')
                ORDER BY created_at DESC LIMIT 200) h;
    END IF;
    IF p_answer THEN
      -- both rows in one INSERT: one ModifyTable, so the table's CHECK constraints are read and compiled once per
      -- call, not once per row source (V55's CTE had two). The ids are made here (as the column default would) so
      -- the answer can reply to the question; the answer's created_at is kept after the question's even within one
      -- microsecond (history is ordered by it). The reply_to foreign key is checked at the statement's end, after
      -- both rows are in.
      user_id := gen_random_uuid();
      answer_id := gen_random_uuid();
      asked_at := clock_timestamp();
      INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, idempotency_key, tool_call_id,
                            media_id, reply_to, model_version_id, created_at)
        VALUES (user_id, app_tenant(), p_conversation, p_role, p_content, 'complete', p_idempotency_key,
                p_tool_call_id, p_media, NULL, NULL, asked_at),
               (answer_id, app_tenant(), p_conversation, 'assistant', '', 'streaming', NULL, NULL, NULL, user_id,
                p_model_version, greatest(clock_timestamp(), asked_at + interval '1 microsecond'));
    ELSE
      INSERT INTO messages (tenant_id, conversation_id, role, content, status, idempotency_key, tool_call_id,
                            media_id, created_at)
        VALUES (app_tenant(), p_conversation, p_role, p_content, 'complete', p_idempotency_key, p_tool_call_id,
                p_media, clock_timestamp())
        RETURNING id INTO user_id;
    END IF;
  END $$;
CREATE OR REPLACE FUNCTION finish_answer(p_tenant uuid, p_answer uuid, p_status text, p_content text, p_reasoning text,
                              p_citations jsonb, p_intent text, p_intent_score real, p_prompt_tokens integer,
                              p_completion_tokens integer, p_trace jsonb, p_finish_reason text,
                              p_tool_calls jsonb, p_first_token_ms integer, p_answer_ms integer,
                              p_conversation uuid, p_faq_entry uuid) RETURNS void
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
  AS $$
  DECLARE
    current_tenant text := current_setting('app.tenant_id', true);
  BEGIN
    IF p_tenant IS NULL THEN
      RAISE EXCEPTION 'finish_answer: no tenant' USING ERRCODE = '22004';
    END IF;
    IF current_tenant IS NOT NULL AND current_tenant <> '' AND current_tenant <> p_tenant::text THEN
      RAISE EXCEPTION 'finish_answer: the transaction belongs to another tenant' USING ERRCODE = '42501';
    END IF;
    current_tenant := set_config('app.tenant_id', p_tenant::text, true);
    -- the statement ConversationStore ran before (answer and conversation; both updates always run)
    WITH answer AS (
      UPDATE messages SET status = p_status, content = p_content, reasoning = p_reasoning,
        citations = p_citations, intent = p_intent, intent_score = p_intent_score,
        prompt_tokens = p_prompt_tokens, completion_tokens = p_completion_tokens, trace = p_trace,
        finish_reason = p_finish_reason, tool_calls = p_tool_calls, first_token_ms = p_first_token_ms,
        answer_ms = p_answer_ms, faq_entry_id = p_faq_entry, updated_at = now()
      WHERE id = p_answer AND status = 'streaming')
    UPDATE conversations SET updated_at = now() WHERE id = p_conversation;
  END $$;
