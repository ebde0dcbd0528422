-- Issue #25: a turn's finish as one statement that needs no explicit transaction. The node ran it as
-- BEGIN, set_config('app.tenant_id', ...), the finish, COMMIT: four statements and four round trips per
-- finished answer (or per group-committed batch, FinishCommits). Called on its own (an implicit
-- transaction: committed at the protocol's Sync, which the client waits for) it is one of each; a batch of
-- calls sent before one Sync (executeBatch) is one implicit transaction, so group commit keeps working.
--
-- The tenant is set first, as a statement of its own, so RLS's STABLE app_tenant() in the update that
-- follows sees it (within one statement it could be evaluated before the set_config). SECURITY INVOKER: the
-- caller's role, deepchat_app, and its row-level security apply as in any other statement. The setting is
-- transaction-local, so it ends with the implicit transaction and never reaches the next user of the pooled
-- connection. Called inside a transaction already scoped to another tenant it refuses rather than switch it.

CREATE FUNCTION finish_answer(p_tenant uuid, p_answer uuid, p_status text, p_content text, p_reasoning text,
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
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
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
REVOKE ALL ON FUNCTION finish_answer(uuid, uuid, text, text, text, jsonb, text, real, integer, integer, jsonb,
  text, jsonb, integer, integer, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finish_answer(uuid, uuid, text, text, text, jsonb, text, real, integer, integer,
  jsonb, text, jsonb, integer, integer, uuid, uuid) TO deepchat_app;
