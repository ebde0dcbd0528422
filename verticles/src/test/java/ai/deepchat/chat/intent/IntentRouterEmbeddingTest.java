package ai.deepchat.chat.intent;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.chat.ChatMessages.RouteDecision;
import ai.deepchat.platform.chat.ChatMessages.RouteRequest;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.embed.Embedder;
import ai.deepchat.rag.embed.EmbeddingModels;
import ai.deepchat.platform.concurrent.WorkerPools;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The router embeds a question only where a score can change the path, and once per tenant while it
 * is recent (issue #25: the embedding was most of the platform's CPU per turn), on the real bge-small-zh
 * model and PostgreSQL: every text the model is given is listed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IntentRouterEmbeddingTest {

  /** The real model, listing the texts it embeds. */
  private static final class Listed implements Embedder {
    final List<String> texts = new CopyOnWriteArrayList<>();
    private final Embedder model = EmbeddingModels.get(EmbeddingModels.BGE_SMALL_ZH);

    @Override
    public String name() {
      return model.name();
    }

    @Override
    public int dimension() {
      return model.dimension();
    }

    @Override
    public List<float[]> embedPassages(List<String> batch) {
      texts.addAll(batch);
      return model.embedPassages(batch);
    }

    @Override
    public float[] embedQuery(String query) {
      texts.add(query);
      return model.embedQuery(query);
    }

    long runsOf(String text) {
      return texts.stream().filter(text::equals).count();
    }
  }

  private final Listed model = new Listed();
  private Vertx vertx;
  private TestDatabase db;
  private UUID bare;
  private UUID faqs;
  private UUID otherFaqs;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    db = TestDatabase.fresh(vertx);
    Platform platform = new Platform(ConfigLoader.load(Map.of("DATA_DIR",
        Files.createTempDirectory("intent").toString()), new String[0]), db.database(), "test");
    bare = tenant("bare-co");
    faqs = tenant("faq-co");
    otherFaqs = tenant("other-faq-co");
    for (UUID tenant : List.of(faqs, otherFaqs)) {
      try (Connection c = db.ownerJdbc(); PreparedStatement st = c.prepareStatement("INSERT INTO faq_entries "
          + "(tenant_id, question, answer) VALUES (?, 'How can I contact support?', 'Write to help@example.com.'), "
          + "(?, '你们几点开门？', 'We open at nine.')")) {
        st.setObject(1, tenant);
        st.setObject(2, tenant);
        st.executeUpdate();
      }
    }
    await(vertx.deployVerticle(new IntentRouterVerticle(platform, model)));
  }

  private UUID tenant(String slug) throws Exception {
    return await(db.database().global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('" + slug + "', '"
        + slug + "') RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
  }

  @AfterAll
  void stop() throws Exception {
    await(vertx.close());
  }

  private RouteDecision route(UUID tenant, String question) throws Exception {
    return await(vertx.eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
        new RouteRequest(tenant.toString(), question), new DeliveryOptions().setSendTimeout(50_000))).body();
  }

  @Test
  void aTenantWithNothingToMatchGetsTheModelWithoutAnEmbedding() throws Exception {
    RouteDecision plain = route(bare, "What's the weather like on Mars today?");
    assertThat(plain.intent()).isEqualTo(RouteDecision.CHAT);
    assertThat(plain.score()).isZero();
    assertThat(plain.scores().smallTalk()).as("not scored").isEqualTo(SmallTalk.NOT_SCORED);
    assertThat(plain.scores().reason()).isEqualTo("no knowledge base with ready documents");
    // small talk known by its text: one of the examples, or a JSON prompt
    RouteDecision hello = route(bare, "Hello!");
    assertThat(hello.intent()).isEqualTo(RouteDecision.CHAT);
    assertThat(hello.score()).isEqualTo(1.0);
    assertThat(hello.scores().reason()).isEqualTo("small talk");
    assertThat(route(bare, "List three colours, answer in JSON").scores().smallTalk()).isEqualTo(1.0);
    // a person asked for is still a person
    RouteDecision person = route(bare, "Can I talk to a human?");
    assertThat(person.intent()).isEqualTo(RouteDecision.HANDOFF);
    assertThat(person.score()).isEqualTo(1.0);
    // ("hello" is a small-talk example: embedded with the examples once another tenant's question is scored)
    for (String asked : List.of("What's the weather like on Mars today?", "List three colours, answer in JSON",
        "Can I talk to a human?")) {
      assertThat(model.runsOf(MatchText.of(asked))).as("embeddings of " + asked).isZero();
    }
  }

  @Test
  void aTenantWithNothingToMatchIsRoutedWithoutTheEmbeddingsPool() throws Exception {
    // #25: where nothing is embedded, a short non-CJK question's text check runs on the router's event loop:
    // no worker hop per turn. With every thread of the pool held, such a question is still routed at once
    WorkerExecutor pool = WorkerPools.of(vertx).open(WorkerPools.Kind.EMBEDDINGS);
    int threads = WorkerPools.of(vertx).size(WorkerPools.Kind.EMBEDDINGS);
    CountDownLatch held = new CountDownLatch(threads);
    CountDownLatch release = new CountDownLatch(1);
    for (int i = 0; i < threads; i++) {
      pool.executeBlocking(() -> {
        held.countDown();
        return release.await(60, TimeUnit.SECONDS);
      }, false);
    }
    try {
      assertThat(held.await(20, TimeUnit.SECONDS)).as("every thread of the pool held").isTrue();
      RouteDecision plain = await(vertx.eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
          new RouteRequest(bare.toString(), "Is the shop open on Sunday?"), new DeliveryOptions().setSendTimeout(5_000))).body();
      assertThat(plain.intent()).isEqualTo(RouteDecision.CHAT);
      assertThat(plain.scores().reason()).isEqualTo("no knowledge base with ready documents");
      RouteDecision hello = await(vertx.eventBus().<RouteDecision>request(Addresses.CHAT_ROUTE,
          new RouteRequest(bare.toString(), "HELLO!!"), new DeliveryOptions().setSendTimeout(5_000))).body();
      assertThat(hello.scores().reason()).isEqualTo("small talk");
    } finally {
      release.countDown();
      pool.close();
    }
    // a question with CJK chars (ICU folds it) still takes the pool, with the same outcome as before
    RouteDecision cjk = route(bare, "你們幾點開門？");
    assertThat(cjk.intent()).isEqualTo(RouteDecision.CHAT);
    assertThat(cjk.scores().reason()).isEqualTo("no knowledge base with ready documents");
  }

  @Test
  void aQuestionThatIsAnFaqEntrysQuestionIsNotEmbeddedAgain() throws Exception {
    RouteDecision decision = route(faqs, "HOW CAN I CONTACT SUPPORT");
    assertThat(decision.intent()).isEqualTo(RouteDecision.FAQ);
    assertThat(decision.score()).isEqualTo(1.0);
    // every entry still scored, and small talk too: the entry's own vector stood for the question
    assertThat(decision.scores().faqCandidates()).hasSize(2);
    assertThat(decision.scores().faqCandidates().get(1).score()).isBetween(0.0, 0.9);
    assertThat(decision.scores().smallTalk()).isBetween(0.0, 0.99);
    assertThat(model.runsOf("how can i contact support")).as("the entry's own embedding, once per tenant")
        .isLessThanOrEqualTo(2);
    long before = model.runsOf("how can i contact support");
    route(faqs, "how can I contact support??");
    assertThat(model.runsOf("how can i contact support")).isEqualTo(before);
  }

  @Test
  void aRepeatedQuestionIsEmbeddedOncePerTenantWithTheSameScores() throws Exception {
    String question = "Where can I find my invoice?";
    RouteDecision first = route(faqs, question);
    RouteDecision again = route(faqs, question);
    assertThat(model.runsOf("where can i find my invoice")).isEqualTo(1);
    assertThat(again.intent()).isEqualTo(first.intent());
    assertThat(again.scores().faqCandidates()).isEqualTo(first.scores().faqCandidates());
    assertThat(again.scores().smallTalk()).isEqualTo(first.scores().smallTalk());
    // another tenant's recent questions are not shared with it
    RouteDecision other = route(otherFaqs, question);
    assertThat(model.runsOf("where can i find my invoice")).isEqualTo(2);
    assertThat(other.scores().smallTalk()).isEqualTo(first.scores().smallTalk());
    assertThat(Collections.frequency(model.texts, "where can i find my invoice")).isEqualTo(2);
  }
}
