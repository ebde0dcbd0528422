-- The lexical half of retrieval through its GIN index, planned for each question (issue #15: p95 under
-- 50 ms at 10k chunks). Two things kept the search reading every chunk of the knowledge base (about
-- 14 ms of PostgreSQL CPU per question at 10k chunks):
--  * The node caches prepared statements, and after a few runs PostgreSQL may keep a generic plan made
--    for any tsquery: one that cannot tell a rare term (the index) from a common one (the knowledge
--    base's rows, chunks_kb) takes the rows every time. EXECUTE plans with this question's terms.
--  * New chunks waited in the index's pending list until a vacuum merged it; every search reads that
--    list whole, and the planner, counting it, preferred the rows.
--  * Under the application role's row-level security the planner would not take the index for the
--    match (`@@` is not leakproof, so it may not run before the policy's condition): the same function
--    with the caller's rights scanned no index in LexicalSearchIndexTest, with sequential scans off.
-- So the function runs with the owning role's rights (its policy, owner_maintenance, puts no condition
-- in front) and filters by the caller's tenant itself, with the tenant_isolation policy's own
-- condition: app_tenant(), the calling transaction's tenant (NULL when none is set: no rows). Another
-- tenant's knowledge base therefore gives nothing, as under the policy; the test checks both.
CREATE FUNCTION chunk_lexical_hits(p_knowledge_base uuid, p_query tsquery, p_limit integer)
  RETURNS TABLE (id bigint, rank real)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
  AS $$
  BEGIN
    RETURN QUERY EXECUTE
      'SELECT c.id, ts_rank(c.lexical, $2) FROM chunks c '
      'WHERE c.tenant_id = app_tenant() AND c.knowledge_base_id = $1 AND c.lexical @@ $2 '
      'ORDER BY 2 DESC, c.id LIMIT $3'
      USING p_knowledge_base, p_query, p_limit;
  END $$;
REVOKE ALL ON FUNCTION chunk_lexical_hits(uuid, tsquery, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chunk_lexical_hits(uuid, tsquery, integer) TO deepchat_app;

-- New chunks go straight into the index (ingestion pays a little more per chunk); what waits now is
-- merged at once.
ALTER INDEX chunks_lexical SET (fastupdate = off);
SELECT gin_clean_pending_list('chunks_lexical'::regclass);
