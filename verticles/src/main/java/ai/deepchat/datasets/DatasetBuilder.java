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
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * Adds to a dataset the examples its filters select that it does not hold yet, as pending examples:
 *
 * <ul>
 *   <li>SFT: each complete assistant answer without negative feedback (with positive feedback when the
 *   dataset asks so), after the conversation's earlier turns (up to {@value #CONTEXT_TURNS} messages); and
 *   each staff agent's reply in a handed-off conversation the same way (staff notes never).</li>
 *   <li>Preference: each shadow-rollout (or A/B pair-sampled) pair where the other answer differs from the
 *   shown one. Feedback on the shown answer chooses: thumbs up prefers it, thumbs down prefers the
 *   candidate's. A pair without feedback waits for a rater's choice.</li>
 *   <li>FAQ: each enabled FAQ entry's answer as staff last wrote it, after each of its question variants: the
 *   entry's own question and every distinct visitor question it answered. An edited answer makes new
 *   examples; pending ones of an answer that changed (or an entry disabled or deleted) are rejected, so a
 *   dataset never teaches two answers to one question unless a reviewer accepted the older one.</li>
 * </ul>
 *
 * SFT examples come only from conversations whose latest visitor rating is at least min_rating when the
 * dataset sets one. A/B rollouts with pair sampling store their pairs as shadow pairs (the shown arm as
 * stable), so {@link #preference} takes them too. A dataset naming its sources (filters.sources) builds from
 * those only.
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

  record Added(int sft, int preference, int faqSuperseded) {
  }

  private DatasetBuilder() {
  }

  /**
   * A staff-written FAQ answer after each of its question variants: the entry's own question (no conversation)
   * and each distinct visitor question it answered (the earliest asker's). Only enabled entries, within the
   * time window on the answer's last edit; as intent "faq".
   */
  private static final String FAQ = "SELECT f.id AS faq_id, md5(f.answer) AS answer_md5, f.answer AS content, "
      + "v.message_id, v.conversation_id, v.question FROM faq_entries f CROSS JOIN LATERAL ("
      + "SELECT NULL::uuid AS message_id, NULL::uuid AS conversation_id, f.question, NULL::timestamptz AS asked_at "
      + "UNION ALL (SELECT DISTINCT ON (lower(btrim(u.content))) u.id, u.conversation_id, u.content, u.created_at "
      + "FROM messages a JOIN messages u ON u.id = a.reply_to WHERE a.faq_entry_id = f.id AND a.role = 'assistant' "
      + "AND a.status = 'complete' AND u.role = 'user' AND btrim(u.content) <> '' "
      + "AND lower(btrim(u.content)) <> lower(btrim(f.question)) "
      + "ORDER BY lower(btrim(u.content)), u.created_at, u.id)) v "
      + "WHERE f.enabled AND btrim(f.answer) <> '' AND ($2::timestamptz IS NULL OR f.updated_at >= $2) "
      + "AND ($3::timestamptz IS NULL OR f.updated_at < $3) AND ($4::text IS NULL OR $4 = 'faq') "
      + "AND NOT EXISTS (SELECT 1 FROM dataset_examples e WHERE e.dataset_id = $1 AND e.source = 'faq' "
      + "AND e.faq_entry_id = f.id AND e.faq_answer_md5 = md5(f.answer) AND e.message_id IS NOT DISTINCT FROM "
      + "v.message_id) ORDER BY f.created_at, f.id, v.asked_at NULLS FIRST, v.message_id LIMIT " + BATCH;
  /** Pending FAQ examples whose answer is no longer the entry's (edited, disabled or deleted since). */
  private static final String FAQ_SUPERSEDED = "UPDATE dataset_examples e SET status = 'rejected', "
      + "reviewed_by = 'build: FAQ answer changed', reviewed_at = now() WHERE e.dataset_id = $1 AND e.source = 'faq' "
      + "AND e.status = 'pending' AND NOT EXISTS (SELECT 1 FROM faq_entries f WHERE f.id = e.faq_entry_id "
      + "AND f.enabled AND md5(f.answer) = e.faq_answer_md5)";

  static Future<Added> build(SqlConnection c, UUID datasetId, DatasetFilters f) {
    return from(f, "answers", () -> sft(c, datasetId, f))
        .compose(n -> from(f, "agents", () -> agentSft(c, datasetId, f)).map(m -> n + m))
        .compose(n -> from(f, "faq", () -> faq(c, datasetId, f)).map(m -> n + m))
        .compose(sft -> from(f, "shadow", () -> preference(c, datasetId, f))
            .compose(pref -> from(f, "faq", () -> superseded(c, datasetId)).map(old -> new Added(sft, pref, old))));
  }

  /** What {@code work} adds when the dataset draws on {@code source}; nothing otherwise. */
  private static Future<Integer> from(DatasetFilters f, String source, Supplier<Future<Integer>> work) {
    return f.uses(source) ? work.get() : Future.succeededFuture(0);
  }

  private static Future<Integer> sft(SqlConnection c, UUID datasetId, DatasetFilters f) {
    String sql = "SELECT m.id, m.conversation_id, m.content, ctx.messages FROM messages m " + CONTEXT.formatted("m")
        + "WHERE m.role = 'assistant' AND m.status = 'complete' AND m.content <> '' "
        + (f.positiveOnly() ? "AND m.feedback = 1 " : "AND m.feedback IS DISTINCT FROM -1 ")
        + FILTERS.formatted("m", "m.intent") + RATED.formatted("m")
        + "AND ctx.messages IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dataset_examples e WHERE e.dataset_id = $1 "
        + "AND e.kind = 'sft' AND e.message_id = m.id) ORDER BY m.created_at, m.id LIMIT " + BATCH;
    return sftExamples(c, datasetId, sql, f, "answers");
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
    return sftExamples(c, datasetId, sql, f, "agents");
  }

  private static Future<Integer> faq(SqlConnection c, UUID datasetId, DatasetFilters f) {
    return c.preparedQuery(FAQ).execute(params(datasetId, f)).compose(rows -> offLoop(() -> {
      List<Tuple> inserts = new ArrayList<>();
      for (Row r : rows) {
        JsonArray question = new JsonArray().add(new JsonObject().put("role", "user").put("content", r.getString("question")));
        inserts.add(example(datasetId, ExampleContent.SFT, "faq", r.getUUID("conversation_id"), r.getUUID("message_id"),
            null, null, ExampleContent.sft(question, r.getString("content")), r.getUUID("faq_id"),
            r.getString("answer_md5")));
      }
      return inserts;
    })).compose(inserts -> insert(c, inserts));
  }

  private static Future<Integer> superseded(SqlConnection c, UUID datasetId) {
    return c.preparedQuery(FAQ_SUPERSEDED).execute(Tuple.of(datasetId)).map(rows -> rows.rowCount());
  }

  private static Future<Integer> sftExamples(SqlConnection c, UUID datasetId, String sql, DatasetFilters f,
                                             String source) {
    return c.preparedQuery(sql).execute(params(datasetId, f).addValue(f.minRating())).compose(rows -> offLoop(() -> {
      List<Tuple> inserts = new ArrayList<>();
      for (Row r : rows) {
        JsonObject content = ExampleContent.sft(messages(r), r.getString("content"));
        inserts.add(example(datasetId, ExampleContent.SFT, source, r.getUUID("conversation_id"), r.getUUID("id"), null,
            null, content, null, null));
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
        inserts.add(example(datasetId, ExampleContent.PREFERENCE, "shadow", r.getUUID("conversation_id"), r.getUUID("id"),
            r.getLong("shadow_id"), feedback == null ? null : "feedback", content, null, null));
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

  /** One row for {@link #insert}. */
  private static Tuple example(UUID datasetId, String kind, String source, UUID conversationId, UUID messageId,
                               Long shadowId, String chosenBy, JsonObject content, UUID faqId, String faqAnswerMd5) {
    return Tuple.tuple(Arrays.asList(datasetId, kind, source, conversationId, messageId, shadowId, chosenBy,
        content, faqId, faqAnswerMd5));
  }

  private static Future<Integer> insert(SqlConnection c, List<Tuple> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(0);
    }
    return c.preparedQuery("INSERT INTO dataset_examples (tenant_id, dataset_id, kind, source, conversation_id, "
            + "message_id, shadow_answer_id, chosen_by, original, faq_entry_id, faq_answer_md5) VALUES (app_tenant(), "
            + "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING")
        .executeBatch(rows).map(ignored -> rows.size());
  }
}
