-- Issue #25: a turn's begin as one statement that needs no explicit transaction, as V55 did for the finish.
-- The node ran BEGIN, set_config('app.tenant_id', ...), [the idempotency-key lookup], the conversation's
-- insert or update, [the history read], the question and 'streaming' answer rows, COMMIT: four to six
-- statements per turn. Where the Java before them needs no statement (the tenant's settings and the model
-- version from the node's copies, the length and context checks, the token count) the node calls this alone:
-- one statement, its own implicit transaction, committed at the protocol's Sync before PostgreSQL answers it,
-- so an acknowledged turn is stored as before. Rarer paths (a retry, an FAQ answer stored whole, a cold
-- cache) call it as one statement of their own tenant transaction; it then holds the only copy of these writes.
--
-- As finish_answer: SECURITY INVOKER (deepchat_app's row-level security applies), the tenant set first as a
-- statement of its own so the STABLE app_tenant() of the statements after it sees it, transaction-local (it
-- ends with the transaction and never reaches the next user of a pooled connection), and it refuses inside a
-- transaction scoped to another tenant rather than switch it.
--
-- Outcomes that write nothing are returned, not raised: key_used (p_check_key and a message of this tenant
-- already carries the key: the caller takes its replay/retry path, which locks and reads that row) and
-- conversation_found false (a continuing turn on a conversation that is not this visitor's on this
-- channel). Anything raised (a second request with the same key racing this one: unique violation) rolls
-- the whole call back. p_answer false: only the question is inserted (the caller inserts its known answer).
-- The history (p_history) is read after the conversation's statement and before the question's insert, as
-- the node did; newest first, at most 200.

CREATE FUNCTION begin_turn(p_tenant uuid, p_conversation uuid, p_continuing boolean, p_channel text,
                           p_visitor text, p_title text, p_model_version uuid, p_role text, p_content text,
                           p_idempotency_key text, p_tool_call_id text, p_media uuid, p_check_key boolean,
                           p_history boolean, p_answer boolean,
                           OUT key_used boolean, OUT conversation_found boolean, OUT user_id uuid,
                           OUT answer_id uuid, OUT history_roles text[], OUT history_contents text[])
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp
  AS $$
  DECLARE
    current_tenant text := current_setting('app.tenant_id', true);
  BEGIN
    IF p_tenant IS NULL THEN
      RAISE EXCEPTION 'begin_turn: no tenant' USING ERRCODE = '22004';
    END IF;
    IF current_tenant IS NOT NULL AND current_tenant <> '' AND current_tenant <> p_tenant::text THEN
      RAISE EXCEPTION 'begin_turn: the transaction belongs to another tenant' USING ERRCODE = '42501';
    END IF;
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    key_used := false;
    conversation_found := true;
    IF p_check_key AND p_idempotency_key IS NOT NULL
       AND EXISTS (SELECT 1 FROM messages WHERE idempotency_key = p_idempotency_key) THEN
      key_used := true;
      RETURN;
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
      -- the answer is read from the question's insert, so it follows it; its created_at is kept after the
      -- question's even within one microsecond (history is ordered by it)
      WITH question AS (
        INSERT INTO messages (tenant_id, conversation_id, role, content, status, idempotency_key, tool_call_id,
                              media_id, created_at)
          VALUES (app_tenant(), p_conversation, p_role, p_content, 'complete', p_idempotency_key, p_tool_call_id,
                  p_media, clock_timestamp())
          RETURNING id, created_at)
      INSERT INTO messages (tenant_id, conversation_id, role, content, status, reply_to, model_version_id, created_at)
        SELECT app_tenant(), p_conversation, 'assistant', '', 'streaming', question.id, p_model_version,
               greatest(clock_timestamp(), question.created_at + interval '1 microsecond') FROM question
        RETURNING reply_to, id INTO user_id, answer_id;
    ELSE
      INSERT INTO messages (tenant_id, conversation_id, role, content, status, idempotency_key, tool_call_id,
                            media_id, created_at)
        VALUES (app_tenant(), p_conversation, p_role, p_content, 'complete', p_idempotency_key, p_tool_call_id,
                p_media, clock_timestamp())
        RETURNING id INTO user_id;
    END IF;
  END $$;
REVOKE ALL ON FUNCTION begin_turn(uuid, uuid, boolean, text, text, text, uuid, text, text, text, text, uuid, boolean,
  boolean, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION begin_turn(uuid, uuid, boolean, text, text, text, uuid, text, text, text, text, uuid,
  boolean, boolean, boolean) TO deepchat_app;
