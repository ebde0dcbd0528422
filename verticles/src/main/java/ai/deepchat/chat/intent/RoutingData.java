package ai.deepchat.chat.intent;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.platform.embed.Vectors;
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
 * What the router needs of one tenant: FAQ threshold and entries (with embeddings), the default
 * knowledge base if it has ready documents, and the forcing rules in priority order.
 */
record RoutingData(double faqThreshold, String knowledgeBaseId, long knowledgeBaseVersion, boolean knowledgeReady,
                   List<Rule> rules, List<Faq> faqs) {

  record Rule(String intent, String kind, String pattern, Pattern regex) {
  }

  record Faq(String id, String question, String answer, float[] embedding) {
  }

  static final double DEFAULT_THRESHOLD = 0.80;

  /**
   * Loads the tenant's routing data; entries without an embedding get one of {@code faqModel} now (on
   * {@code embeddings}), stored.
   */
  static Future<RoutingData> load(WorkerExecutor embeddings, Embedder faqModel, Database db, UUID tenantId) {
    return db.inTenant(tenantId, c -> c.preparedQuery(
            "SELECT s.faq_threshold, s.default_knowledge_base_id, kb.version, "
                + "EXISTS (SELECT 1 FROM documents d WHERE d.knowledge_base_id = kb.id AND d.status = 'ready') AS ready "
                + "FROM tenant_settings s LEFT JOIN knowledge_bases kb ON kb.id = s.default_knowledge_base_id")
        .execute()
        .compose(settings -> c.preparedQuery("SELECT intent, kind, pattern FROM intent_rules "
                + "ORDER BY priority DESC, created_at, id").execute()
            .compose(rules -> c.preparedQuery("SELECT id, question, answer, embedding FROM faq_entries "
                    + "WHERE enabled ORDER BY created_at, id").execute()
                .map(faqs -> {
                  double threshold = DEFAULT_THRESHOLD;
                  String kbId = null;
                  long kbVersion = 0;
                  boolean ready = false;
                  if (settings.size() > 0) {
                    Row s = settings.iterator().next();
                    threshold = s.getFloat("faq_threshold");
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
                    faqList.add(new Faq(f.getUUID("id").toString(), f.getString("question"), f.getString("answer"),
                        emb == null ? null : Vectors.decode(emb)));
                  }
                  return new RoutingData(threshold, kbId, kbVersion, ready, List.copyOf(ruleList), faqList);
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
            filled.add(f.embedding() != null ? f : new Faq(f.id(), f.question(), f.answer(),
                faqModel.embed(f.question())));
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
              .executeBatch(updates).map(ignored -> new RoutingData(data.faqThreshold(), data.knowledgeBaseId(),
                  data.knowledgeBaseVersion(), data.knowledgeReady(), data.rules(), List.copyOf(filled)));
        }));
  }
}
