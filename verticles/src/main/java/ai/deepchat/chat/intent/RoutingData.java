package ai.deepchat.chat.intent;

import ai.deepchat.platform.chat.ChatMessages.RouteThresholds;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;
import ai.deepchat.platform.rag.Confidence;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * What the router needs of one tenant: its thresholds, what to do with a question nothing answers
 * ({@code handoff}: {@code handoffReply}; else the model), FAQ entries (with embeddings of their
 * normalized questions), the default knowledge base if it has ready documents, the forcing rules in
 * priority order, and whether the tenant's model translates questions for retrieval ({@link QueryTranslator}).
 */
record RoutingData(RouteThresholds thresholds, boolean handoff, String handoffReply, String knowledgeBaseId,
                   long knowledgeBaseVersion, boolean knowledgeReady, List<Rule> rules, List<Faq> faqs,
                   boolean translateQueries) {

  record Rule(String intent, String kind, String pattern, Pattern regex) {
  }

  /** {@code matchText}: the question in {@link MatchText} form, which {@code embedding} embeds. */
  record Faq(String id, String question, String matchText, String answer, float[] embedding) {
  }

  /** Defaults of a tenant without a settings row (the columns' defaults, V12). */
  static final RouteThresholds DEFAULT_THRESHOLDS = Confidence.DEFAULT_THRESHOLDS;

  /**
   * Loads the tenant's routing data; entries without an embedding get one of {@code faqModel} now (on
   * {@code embeddings}), stored.
   */
  static Future<RoutingData> load(WorkerExecutor embeddings, Embedder faqModel, Database db, UUID tenantId) {
    return db.inTenant(tenantId, c -> c.preparedQuery(
            "SELECT s.faq_threshold, s.knowledge_threshold, s.citation_threshold, s.small_talk_threshold, "
                + "s.unanswered_action, s.handoff_reply, s.default_knowledge_base_id, kb.version, s.query_translation, "
                + "EXISTS (SELECT 1 FROM documents d WHERE d.knowledge_base_id = kb.id AND d.status = 'ready') AS ready "
                + "FROM tenant_settings s LEFT JOIN knowledge_bases kb ON kb.id = s.default_knowledge_base_id")
        .execute()
        .compose(settings -> c.preparedQuery("SELECT intent, kind, pattern FROM intent_rules "
                + "ORDER BY priority DESC, created_at, id").execute()
            .compose(rules -> c.preparedQuery("SELECT id, question, answer, embedding FROM faq_entries "
                    + "WHERE enabled ORDER BY created_at, id").execute()
                .map(faqs -> {
                  RouteThresholds thresholds = DEFAULT_THRESHOLDS;
                  boolean handoff = true;
                  String handoffReply = "";
                  String kbId = null;
                  long kbVersion = 0;
                  boolean ready = false;
                  boolean translate = false;
                  if (settings.size() > 0) {
                    Row s = settings.iterator().next();
                    thresholds = new RouteThresholds(s.getFloat("faq_threshold"), s.getFloat("knowledge_threshold"),
                        s.getFloat("citation_threshold"), s.getFloat("small_talk_threshold"));
                    handoff = "handoff".equals(s.getString("unanswered_action"));
                    handoffReply = s.getString("handoff_reply");
                    translate = s.getBoolean("query_translation");
                    UUID kb = s.getUUID("default_knowledge_base_id");
                    if (kb != null) {
                      kbId = kb.toString();
                      kbVersion = s.getLong("version");
                      ready = Boolean.TRUE.equals(s.getBoolean("ready"));
                    }
                  }
                  List<Rule> ruleList = new ArrayList<>();
                  for (Row r : rules) {
                    String kind = r.getString("kind");
                    Pattern regex = kind.equals("regex") ? BoundedRegex.compile(r.getString("pattern")).orElse(null) : null;
                    if (kind.equals("keyword") || regex != null) {
                      ruleList.add(new Rule(r.getString("intent"), kind, r.getString("pattern"), regex));
                    }
                  }
                  List<Faq> faqList = new ArrayList<>();
                  for (Row f : faqs) {
                    Buffer emb = f.getBuffer("embedding");
                    String question = f.getString("question");
                    faqList.add(new Faq(f.getUUID("id").toString(), question, MatchText.of(question),
                        f.getString("answer"), emb == null ? null : Vectors.decode(emb)));
                  }
                  return new RoutingData(thresholds, handoff, handoffReply, kbId, kbVersion, ready,
                      List.copyOf(ruleList), faqList, translate);
                }))))
        .compose(data -> fillEmbeddings(embeddings, faqModel, db, tenantId, data));
  }

  private static Future<RoutingData> fillEmbeddings(WorkerExecutor embeddings, Embedder faqModel, Database db,
                                                    UUID tenantId, RoutingData data) {
    List<Faq> missing = data.faqs().stream().filter(f -> f.embedding() == null).toList();
    if (missing.isEmpty()) {
      return Future.succeededFuture(data);
    }
    return embeddings.executeBlocking(() -> {
          List<Faq> filled = new ArrayList<>();
          for (Faq f : data.faqs()) {
            filled.add(f.embedding() != null ? f : new Faq(f.id(), f.question(), f.matchText(), f.answer(),
                faqModel.embed(f.matchText())));
          }
          return filled;
        }, false)
        .compose(filled -> db.inTenant(tenantId, c -> {
          List<Tuple> updates = new ArrayList<>();
          for (Faq f : filled) {
            if (missing.stream().anyMatch(m -> m.id().equals(f.id()))) {
              updates.add(Tuple.of(Vectors.encode(f.embedding()), UUID.fromString(f.id())));
            }
          }
          // only fill, never overwrite: an edit racing with us cleared the column and wins
          return c.preparedQuery("UPDATE faq_entries SET embedding = $1 WHERE id = $2 AND embedding IS NULL")
              .executeBatch(updates).map(ignored -> new RoutingData(data.thresholds(), data.handoff(),
                  data.handoffReply(), data.knowledgeBaseId(), data.knowledgeBaseVersion(), data.knowledgeReady(),
                  data.rules(), List.copyOf(filled), data.translateQueries()));
        }));
  }
}
