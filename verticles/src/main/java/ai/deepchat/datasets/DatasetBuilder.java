package ai.deepchat.datasets;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * Adds to a dataset the examples its filters select that it does not hold yet, as pending examples:
 *
 * <ul>
 *   <li>SFT: each complete assistant answer without negative feedback (with positive feedback when the
 *   dataset asks so), after the conversation's earlier turns (up to {@value #CONTEXT_TURNS} messages); and
 *   each staff agent's reply in a handed-off conversation the same way (staff notes never).</li>
 *   <li>Preference: each shadow-rollout pair where the candidate answered differently from the shown
 *   stable answer. Feedback on the shown answer chooses: thumbs up prefers it, thumbs down prefers the
 *   candidate's. A pair without feedback waits for a rater's choice.</li>
 * </ul>
 *
 * SFT examples come only from conversations whose latest visitor rating is at least min_rating when the
 * dataset sets one. Extension point, named for the work that feeds it: A/B pairs (the same question
 * answered by both arms) are a further source added beside {@link #sft} and {@link #preference}.
 * Each build adds at most {@value #BATCH} examples of each kind; building again continues.
 */
final class DatasetBuilder {

  static final int BATCH = 2000;
  static final int CONTEXT_TURNS = 20;

  /**
   * Earlier turns of the conversation of answer %1$s, oldest first: complete user/assistant/system messages
   * and staff agents' replies (as the assistant's); staff notes never.
   */
  private static final String CONTEXT = "LEFT JOIN LATERAL (SELECT jsonb_agg(jsonb_build_object('role', p.role, "
      + "'content', p.content) ORDER BY p.created_at) AS messages FROM (SELECT role, content, created_at FROM ("
      + "SELECT role, content, created_at FROM messages p WHERE p.conversation_id = %1$s.conversation_id "
      + "AND p.created_at < %1$s.created_at AND p.status = 'complete' AND p.content <> '' "
      + "AND p.role IN ('system', 'user', 'assistant') UNION ALL SELECT 'assistant', a.text, a.created_at "
      + "FROM handoff_messages a WHERE a.conversation_id = %1$s.conversation_id AND a.kind = 'agent' "
      + "AND a.created_at < %1$s.created_at AND a.text <> '') t ORDER BY created_at DESC LIMIT "
      + CONTEXT_TURNS + ") p) ctx ON true ";
  /** The conversation's latest visitor rating is at least $5 (no rating: not selected); $5 null: any. */
  private static final String RATED = "AND ($5::integer IS NULL OR (SELECT r.score FROM conversation_ratings r "
      + "WHERE r.conversation_id = %s.conversation_id ORDER BY r.created_at DESC, r.id LIMIT 1) >= $5) ";
  /** Time window on %1$s.created_at; the intent on %2$s (NULL::text for answers without an intent). */
  private static final String FILTERS = "AND ($2::timestamptz IS NULL OR %1$s.created_at >= $2) "
      + "AND ($3::timestamptz IS NULL OR %1$s.created_at < $3) AND ($4::text IS NULL OR %2$s = $4) ";

  record Added(int sft, int preference) {
  }

  private DatasetBuilder() {
  }

  static Future<Added> build(SqlConnection c, UUID datasetId, DatasetFilters f) {
    return sft(c, datasetId, f).compose(bot -> agentSft(c, datasetId, f).map(agent -> bot + agent))
        .compose(sft -> preference(c, datasetId, f).map(pref -> new Added(sft, pref)));
  }

  private static Future<Integer> sft(SqlConnection c, UUID datasetId, DatasetFilters f) {
    String sql = "SELECT m.id, m.conversation_id, m.content, ctx.messages FROM messages m " + CONTEXT.formatted("m")
        + "WHERE m.role = 'assistant' AND m.status = 'complete' AND m.content <> '' "
        + (f.positiveOnly() ? "AND m.feedback = 1 " : "AND m.feedback IS DISTINCT FROM -1 ")
        + FILTERS.formatted("m", "m.intent") + RATED.formatted("m")
        + "AND ctx.messages IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dataset_examples e WHERE e.dataset_id = $1 "
        + "AND e.kind = 'sft' AND e.message_id = m.id) ORDER BY m.created_at, m.id LIMIT " + BATCH;
    return sftExamples(c, datasetId, sql, f);
  }

  /**
   * Staff agents' replies in handed-off conversations, each after the conversation's turns up to it. Such a
   * reply has no intent and no feedback: a dataset filtered by intent or asking for positive feedback takes
   * none. Its example's message_id is the handoff message's id.
   */
  private static Future<Integer> agentSft(SqlConnection c, UUID datasetId, DatasetFilters f) {
    if (f.positiveOnly()) {
      return Future.succeededFuture(0);
    }
    String sql = "SELECT h.id, h.conversation_id, h.text AS content, ctx.messages FROM handoff_messages h "
        + CONTEXT.formatted("h") + "WHERE h.kind = 'agent' AND h.text <> '' " + FILTERS.formatted("h", "NULL::text")
        + RATED.formatted("h") + "AND ctx.messages IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dataset_examples e "
        + "WHERE e.dataset_id = $1 AND e.kind = 'sft' AND e.message_id = h.id) ORDER BY h.created_at, h.id LIMIT " + BATCH;
    return sftExamples(c, datasetId, sql, f);
  }

  private static Future<Integer> sftExamples(SqlConnection c, UUID datasetId, String sql, DatasetFilters f) {
    return c.preparedQuery(sql).execute(params(datasetId, f).addValue(f.minRating())).compose(rows -> offLoop(() -> {
      List<Tuple> inserts = new ArrayList<>();
      for (Row r : rows) {
        JsonObject content = ExampleContent.sft(messages(r), r.getString("content"));
        inserts.add(Tuple.of(datasetId, ExampleContent.SFT, r.getUUID("conversation_id"), r.getUUID("id"), null,
            null, content));
      }
      return inserts;
    })).compose(inserts -> insert(c, inserts));
  }

  private static Future<Integer> preference(SqlConnection c, UUID datasetId, DatasetFilters f) {
    // the shown answer is the conversation's assistant message holding the stable answer's text
    String sql = "SELECT s.id AS shadow_id, s.conversation_id, s.prompt, s.stable_answer, s.candidate_answer, "
        + "m.id, m.feedback, ctx.messages FROM shadow_answers s JOIN conversations cv ON cv.id = s.conversation_id "
        + "LEFT JOIN LATERAL (SELECT id, feedback, intent, conversation_id, created_at FROM messages a "
        + "WHERE a.conversation_id = s.conversation_id AND a.role = 'assistant' AND a.content = s.stable_answer "
        + "ORDER BY abs(extract(epoch FROM a.created_at - s.created_at)) LIMIT 1) m ON true " + CONTEXT.formatted("m")
        + "WHERE s.candidate_answer IS NOT NULL AND s.candidate_answer <> '' "
        + "AND btrim(s.candidate_answer) <> btrim(s.stable_answer) " + FILTERS.formatted("s", "m.intent")
        + "AND NOT EXISTS (SELECT 1 FROM dataset_examples e WHERE e.dataset_id = $1 AND e.kind = 'preference' "
        + "AND e.shadow_answer_id = s.id) ORDER BY s.id LIMIT " + BATCH;
    return c.preparedQuery(sql).execute(params(datasetId, f)).compose(rows -> offLoop(() -> {
      List<Tuple> inserts = new ArrayList<>();
      for (Row r : rows) {
        JsonArray input = r.getValue("messages") == null
            ? new JsonArray().add(new JsonObject().put("role", "user").put("content", r.getString("prompt")))
            : messages(r);
        Integer feedback = r.getInteger("feedback");
        boolean candidatePreferred = feedback != null && feedback < 0;
        JsonObject content = candidatePreferred
            ? ExampleContent.preference(input, r.getString("candidate_answer"), r.getString("stable_answer"))
            : ExampleContent.preference(input, r.getString("stable_answer"), r.getString("candidate_answer"));
        inserts.add(Tuple.of(datasetId, ExampleContent.PREFERENCE, r.getUUID("conversation_id"), r.getUUID("id"),
            r.getLong("shadow_id"), feedback == null ? null : "feedback", content));
      }
      return inserts;
    })).compose(inserts -> insert(c, inserts));
  }

  /** Masking thousands of conversations is CPU work: a worker thread does it, not the event loop. */
  private static <T> Future<T> offLoop(Callable<T> work) {
    Context context = Vertx.currentContext();
    if (context == null) {
      try {
        return Future.succeededFuture(work.call());
      } catch (Exception e) {
        return Future.failedFuture(e);
      }
    }
    return context.executeBlocking(work, false);
  }

  private static Tuple params(UUID datasetId, DatasetFilters f) {
    return Tuple.of(datasetId, f.from(), f.to(), f.intent());
  }

  private static JsonArray messages(Row r) {
    Object v = r.getValue("messages");
    return v instanceof JsonArray a ? a : new JsonArray(String.valueOf(v));
  }

  private static Future<Integer> insert(SqlConnection c, List<Tuple> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return c.preparedQuery("INSERT INTO dataset_examples (tenant_id, dataset_id, kind, conversation_id, message_id, "
            + "shadow_answer_id, chosen_by, original) VALUES (app_tenant(), $1, $2, $3, $4, $5, $6, $7) "
            + "ON CONFLICT DO NOTHING")
        .executeBatch(rows).map(ignored -> rows.size());
  }
}
