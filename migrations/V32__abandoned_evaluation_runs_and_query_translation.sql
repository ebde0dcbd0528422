-- Evaluation runs that a stopped node left "running" (issue #15): the node evaluating a run renews its
-- heartbeat_at every 10 s, and a node that starts fails, across tenants, the runs whose heartbeat went
-- stale, so a crash no longer leaves a run "running" until someone next reads its knowledge base.
--
--  * eval_run_abandoned() is the one definition of abandoned, used by that sweep and by the check made
--    when a knowledge base's runs are read or started (Evaluations).
--  * Runs without a heartbeat (started by a node of an earlier version) keep the earlier rule, 5 minutes
--    and 2 s per question after their start, so a rolling upgrade does not cut off a run still going.
--  * fail_abandoned_eval_runs() runs as the tables' owner because row-level security hides other tenants'
--    runs from the application role. It takes no argument and can only end runs that the rule calls
--    abandoned, with a fixed message: the application role gains nothing else. Its message is
--    Evaluations.STALE_ERROR.

ALTER TABLE eval_runs ADD COLUMN heartbeat_at timestamptz;

CREATE FUNCTION eval_run_abandoned(p_heartbeat_at timestamptz, p_started_at timestamptz, p_question_count integer)
  RETURNS boolean LANGUAGE sql STABLE
  AS $$ SELECT CASE WHEN p_heartbeat_at IS NULL
          THEN p_started_at < now() - (interval '5 minutes' + p_question_count * interval '2 seconds')
          ELSE p_heartbeat_at < now() - interval '30 seconds' END $$;

CREATE FUNCTION fail_abandoned_eval_runs() RETURNS integer
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
  AS $$ WITH failed AS (
          UPDATE eval_runs SET status = 'failed', finished_at = now(),
            error = 'the node running this evaluation stopped before it finished; run it again'
          WHERE status = 'running' AND eval_run_abandoned(heartbeat_at, started_at, question_count)
          RETURNING 1)
        SELECT count(*)::integer FROM failed $$;
REVOKE ALL ON FUNCTION fail_abandoned_eval_runs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fail_abandoned_eval_runs() TO deepchat_app;

-- Query translation (issue #15): a tenant that turns it on has its own serving model (when it is a real
-- model, never the bundled test model) translate a question for the knowledge base's other language
-- before retrieval. Off by default: it costs the tenant a short model call per new question.
ALTER TABLE tenant_settings ADD COLUMN query_translation boolean NOT NULL DEFAULT false;
