package ai.deepchat.chat.intent;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.concurrent.BusyDefaultWorkers;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FAQ matching embeds on the node's embeddings pool, not on Vert.x's default worker pool: with every
 * default worker thread held (blocking work of any other kind), questions are still matched, and the
 * missing embedding of a new entry is computed and stored.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaqRoutingPoolTest {

  private Vertx vertx;
  private TestDatabase db;
  private UUID tenant;
  private UUID faq;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    db = TestDatabase.fresh(vertx);
    Platform platform = new Platform(ConfigLoader.load(Map.of("DATA_DIR",
        Files.createTempDirectory("faq-pool").toString()), new String[0]), db.database(), "test");
    tenant = await(db.database().global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('faq-co', 'faq-co') RETURNING id")
        .execute().map(rows -> rows.iterator().next().getUUID(0))));
    try (Connection c = db.ownerJdbc(); PreparedStatement st = c.prepareStatement("INSERT INTO faq_entries "
        + "(tenant_id, question, answer) VALUES (?, '你们几点开门？', 'We open at nine.') RETURNING id")) {
      st.setObject(1, tenant);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        faq = rs.getObject(1, UUID.class);
      }
    }
    await(vertx.deployVerticle(new IntentRouterVerticle(platform)));
  }

  @AfterAll
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void questionsAreMatchedWhileTheDefaultWorkerPoolIsFull() throws Exception {
    try (BusyDefaultWorkers ignored = BusyDefaultWorkers.hold(vertx)) {
      // first question: the entry's embedding is filled, then the question matched against it
      for (String question : new String[] {"你们几点开门？", "你们几点开门"}) {
        RouteDecision decision = await(vertx.eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
            new RouteRequest(tenant.toString(), question), new DeliveryOptions().setSendTimeout(60_000))).body();
        assertThat(decision.intent()).isEqualTo(RouteDecision.FAQ);
        assertThat(decision.faqId()).isEqualTo(faq.toString());
        assertThat(decision.score()).isGreaterThanOrEqualTo(0.8);
      }
    }
    try (Connection c = db.ownerJdbc(); PreparedStatement st = c.prepareStatement(
        "SELECT length(embedding) FROM faq_entries WHERE id = ?")) {
      st.setObject(1, faq);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        assertThat(rs.getInt(1)).as("512 float32 values, stored").isEqualTo(512 * 4);
      }
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
  }
}
