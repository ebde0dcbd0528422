package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;

/**
 * The FAQ answers of {@code bench/load --mode faq}: the node gives the bench tenant these entries, and the
 * clients ask their questions word for word, so every turn is answered from the FAQ, without the model.
 * Distinct topics, so each question's nearest entry is its own.
 */
final class BenchFaq {

  private static final String[] TOPICS = {"opening hours", "return policy", "shipping costs", "payment methods",
      "warranty", "gift cards", "order tracking", "store locations", "password reset", "invoice copies",
      "student discounts", "newsletter sign-up", "account deletion", "price matching", "international delivery",
      "click and collect"};

  private BenchFaq() {
  }

  /** The first {@code n} questions (at most 16). */
  static List<String> questions(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < Math.min(n, TOPICS.length); i++) {
      out.add("What is your " + TOPICS[i] + "?");
    }
    return out;
  }

  /** Stores {@code n} FAQ entries for {@code tenant}. */
  static void create(Node node, UUID tenant, int n) throws Exception {
    List<Tuple> rows = new ArrayList<>();
    for (String q : questions(n)) {
      rows.add(Tuple.of(tenant, q, "Our " + q.substring(13, q.length() - 1) + ": see the help page, or ask us here."));
    }
    await(node.platform().database().inTenant(tenant, c -> c.preparedQuery("INSERT INTO faq_entries (tenant_id,"
        + " question, answer, enabled) VALUES ($1, $2, $3, true)").executeBatch(rows)));
  }
}
