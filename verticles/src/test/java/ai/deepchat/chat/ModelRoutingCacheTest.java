package ai.deepchat.chat;

import ai.deepchat.platform.security.AuthChangeVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A turn's model version (the tenant's serving stable version and its rollout candidate, or a version asked for
 * by name) comes from the node's copy while it listens (one statement less per turn); a version, rollout or
 * rollback written even by plain SQL reaches the next turn (V54's notification), and with the LISTEN down every
 * turn reads them.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelRoutingCacheTest {

  private ChatHarness h;
  private Vertx vertx;
  private String listener;
  private ChatHarness.Tenant t;
  private WidgetVisitorSocket v;
  private String conv;
  private final List<JsonObject> seen = new ArrayList<>();

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new ChatHarness(vertx).start(Map.of("CHAT_REQUEST_TIMEOUT_MS", "15000"));
    listener = await(vertx.deployVerticle(new AuthChangeVerticle(h.db)));
    until("listening", Duration.ofSeconds(5), () -> h.db.modelRouting().live());
    t = h.tenant("routing-cache");
    v = new WidgetVisitorSocket(h, vertx, t);
  }

  /** The model the last turn asked the (emulated) upstream for. */
  private String lastModel() {
    return h.remote.requests.get(h.remote.requests.size() - 1).getString("model");
  }

  private String turn(String question) throws Exception {
    v.say(question, conv);
    JsonObject start = v.next("start", seen);
    conv = start.getString("conversationId");
    v.next("done", seen);
    return lastModel();
  }

  /** An API completion asking for {@code model} by name; returns the HTTP status. */
  private int complete(String model, String question) {
    return h.postJson("/v1/chat/completions", t.apiKey(), new JsonObject().put("model", model)
        .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", question)))
        .encode()).statusCode();
  }

  private void announced() throws Exception {
    until("the change announced", Duration.ofSeconds(5), () -> h.db.modelRouting().get(t.id()) == null);
  }

  private UUID version(String name, String state) {
    return UUID.fromString(h.string("INSERT INTO model_versions (tenant_id, name, backend, location, params, state) "
        + "VALUES ('" + t.id() + "', '" + name + "', 'openai', '', '{\"model\": \"" + name + "\"}', '" + state
        + "') RETURNING id"));
  }

  /**
   * With the node's role unable to read model_versions (a lock would do, but the message insert takes one too) a
   * read would fail: the turn is answered all the same; then a stable version, a canary rollout of a candidate and its rollback, each by plain SQL, decide the
   * next turn's model.
   */
  @Test
  @Order(1)
  void theVersionIsReadOnceAndEveryChangeReachesTheNextTurn() throws Exception {
    assertThat(turn("What are your opening hours?")).isEqualTo("deepseek-chat");
    assertThat(complete("deepseek-chat", "Where is the harbour?")).isEqualTo(200); // the name OpenAI clients send
    h.execOwner("REVOKE SELECT ON model_versions FROM deepchat_app");
    try {
      assertThat(turn("And on Sundays?")).isEqualTo("deepseek-chat");
      assertThat(complete("deepseek-chat", "And the ferry?")).isEqualTo(200);
      assertThat(lastModel()).isEqualTo("deepseek-chat");
    } finally {
      h.execOwner("GRANT SELECT ON model_versions TO deepchat_app");
    }
    UUID stable = version("harbour-v1", "stable");
    announced();
    assertThat(turn("And on holidays?")).isEqualTo("harbour-v1");

    UUID candidate = version("harbour-v2", "canary");
    announced(); // (the version alone changes nothing: it serves nobody yet)
    assertThat(turn("Is the ferry running?")).isEqualTo("harbour-v1");
    h.execOwner("INSERT INTO rollouts (tenant_id, mode, stable_version_id, candidate_version_id, percentage) "
        + "VALUES ('" + t.id() + "', 'canary', '" + stable + "', '" + candidate + "', 100)");
    announced();
    assertThat(turn("And tomorrow?")).isEqualTo("harbour-v2");

    h.execOwner("UPDATE rollouts SET state = 'rolled_back' WHERE tenant_id = '" + t.id() + "'");
    announced();
    assertThat(turn("And the day after?")).isEqualTo("harbour-v1");

    // a version asked for by name: remembered, and gone from the copy with the change that retires it
    assertThat(complete("harbour-v2", "Is the candidate there?")).isEqualTo(200);
    assertThat(lastModel()).isEqualTo("harbour-v2");
    h.execOwner("UPDATE model_versions SET state = 'retired' WHERE id = '" + candidate + "'");
    announced();
    assertThat(complete("harbour-v2", "Is it still there?")).isEqualTo(404);
  }

  /** Not listening, nothing is served from the node's copy: a change is in the very next turn. */
  @Test
  @Order(2)
  void withTheListenDownEveryTurnReadsTheVersions() throws Exception {
    assertThat(turn("Any news?")).isEqualTo("harbour-v1");
    await(vertx.undeploy(listener));
    assertThat(h.db.modelRouting().live()).isFalse();
    h.execOwner("UPDATE model_versions SET params = '{\"model\": \"harbour-v3\"}' WHERE tenant_id = '" + t.id()
        + "' AND name = 'harbour-v1'");
    assertThat(turn("Any news now?")).isEqualTo("harbour-v3");
    assertThat(h.db.modelRouting().get(t.id())).isNull();
  }
}
