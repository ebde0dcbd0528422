package ai.deepchat.chat;

import ai.deepchat.platform.security.AuthChangeVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A turn's tenant settings (system prompt, message limit, sampling) come from the node's copy while it
 * listens (one statement less per turn); a change, even by plain SQL, reaches the next turns (V53's
 * notification).
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantSettingsCacheTest {

  private ChatHarness h;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new ChatHarness(vertx).start(java.util.Map.of("CHAT_REQUEST_TIMEOUT_MS", "15000"));
    await(vertx.deployVerticle(new AuthChangeVerticle(h.db)));
    until("listening", Duration.ofSeconds(5), () -> h.db.chatSettings().live());
  }

  private String lastPrompt() {
    return h.remote.requests.get(h.remote.requests.size() - 1).getJsonArray("messages").encode();
  }

  /**
   * With tenant_settings locked by another session a read would wait for the lock: the turn is answered all
   * the same; then a system prompt changed with plain SQL is in the next turns' prompts.
   */
  @Test
  void settingsAreReadOnceAndAChangeReachesTheNextTurn() throws Exception {
    ChatHarness.Tenant t = h.tenant("settings-cache");
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, t);
    List<JsonObject> seen = new ArrayList<>();
    v.say("What are your opening hours?", null);
    String conv = v.next("start", seen).getString("conversationId");
    v.next("done", seen);
    try (Connection c = h.testDb.ownerJdbc(); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("LOCK TABLE tenant_settings IN ACCESS EXCLUSIVE MODE");
      v.say("And on Sundays?", conv);
      assertThat(v.next("done", seen).getString("intent")).isEqualTo("chat");
      c.rollback();
    }
    h.execOwner("UPDATE tenant_settings SET system_prompt = 'You are the harbour office.' WHERE tenant_id = '"
        + t.id() + "'");
    until("the change announced", Duration.ofSeconds(5), () -> h.db.chatSettings().get(t.id()) == null);
    v.say("And on holidays?", conv);
    v.next("done", seen);
    assertThat(lastPrompt()).contains("You are the harbour office.");
  }
}
