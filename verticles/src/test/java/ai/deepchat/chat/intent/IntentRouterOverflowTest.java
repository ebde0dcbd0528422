package ai.deepchat.chat.intent;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.concurrent.BusyDefaultWorkers;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.rag.embed.EmbeddingModels;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stored regex rule that overflows java.util.regex's recursion on a long question (written before
 * rules were checked, or on a thread with a smaller stack): every question is still routed, and the
 * log gets one short line for the pattern instead of a 1,024-frame StackOverflowError per message.
 * And FAQ matching embeds on the node's embeddings pool: with every thread of Vert.x's default worker
 * pool held, questions are still matched and a new entry's embedding is computed and stored.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IntentRouterOverflowTest {

  private Vertx vertx;
  private TestDatabase db;
  private UUID tenant;
  private UUID faqTenant;
  private UUID faq;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    db = TestDatabase.fresh(vertx);
    Platform platform = new Platform(ConfigLoader.load(Map.of("DATA_DIR",
        Files.createTempDirectory("intent").toString()), new String[0]), db.database(), "test");
    tenant = await(db.database().global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('intent-co', 'intent-co') RETURNING id")
        .execute().map(rows -> rows.iterator().next().getUUID(0))));
    try (Connection c = db.ownerJdbc(); PreparedStatement st = c.prepareStatement("INSERT INTO intent_rules "
        + "(tenant_id, intent, kind, pattern, priority) VALUES (?, 'chat', 'regex', '(.|\\s)*refund', 5)")) {
      st.setObject(1, tenant);
      st.executeUpdate();
    }
    faqTenant = await(db.database().global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('faq-co', 'faq-co') RETURNING id")
        .execute().map(rows -> rows.iterator().next().getUUID(0))));
    try (Connection c = db.ownerJdbc(); PreparedStatement st = c.prepareStatement("INSERT INTO faq_entries "
        + "(tenant_id, question, answer) VALUES (?, '你们几点开门？', 'We open at nine.') RETURNING id")) {
      st.setObject(1, faqTenant);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        faq = rs.getObject(1, UUID.class);
      }
    }
    await(vertx.deployVerticle(new IntentRouterVerticle(platform, EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH))));
  }

  @AfterAll
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void longQuestionsAreRoutedAndTheOverflowIsLoggedOnceBriefly() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    root.addAppender(logs);
    try {
      String question = "please help me with my order ".repeat(7_000);
      for (int i = 0; i < 3; i++) {
        RouteDecision decision = await(vertx.eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
            new RouteRequest(tenant.toString(), question))).body();
        assertThat(decision.intent()).isEqualTo(RouteDecision.CHAT);
        assertThat(decision.score()).as("not forced by the skipped rule").isZero();
      }
      // a short question still meets the rule, which forces the model (score 1)
      RouteDecision forced = await(vertx.eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
          new RouteRequest(tenant.toString(), "I want a refund"))).body();
      assertThat(forced.intent()).isEqualTo(RouteDecision.CHAT);
      assertThat(forced.score()).isEqualTo(1.0);
    } finally {
      root.detachAppender(logs);
    }
    assertThat(logs.list).noneMatch(e -> e.getThrowableProxy() != null);
    assertThat(logs.list).filteredOn(e -> e.getFormattedMessage().contains("overflowed the stack")).hasSize(1);
  }

  @Test
  void faqQuestionsAreMatchedWhileTheDefaultWorkerPoolIsFull() throws Exception {
    try (BusyDefaultWorkers ignored = BusyDefaultWorkers.hold(vertx)) {
      // first question: the entry's embedding is filled, then the question matched against it
      for (String question : new String[] {"你们几点开门？", "你们几点开门"}) {
        RouteDecision decision = await(vertx.eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
            new RouteRequest(faqTenant.toString(), question), new DeliveryOptions().setSendTimeout(50_000))).body();
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
}
