package ai.deepchat.chat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A turn in an existing conversation stores its question and answer without touching its tenant's row
 * (V52: a message's tenant is checked through its conversation only), so turns of one tenant no longer
 * all lock that one row; and a deleted tenant's messages still go with it.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TurnTenantRowLockTest {

  private ChatHarness h;
  private Vertx vertx;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    h = new ChatHarness(vertx).start(java.util.Map.of("CHAT_REQUEST_TIMEOUT_MS", "15000"));
  }

  private String conversationOfOneTurn(WidgetVisitorSocket v, List<JsonObject> seen) throws Exception {
    v.say("What are your opening hours?", null);
    String conv = v.next("start", seen).getString("conversationId");
    v.next("done", seen);
    return conv;
  }

  /** With the tenant's row locked by another session (FOR UPDATE), a foreign-key check of it would wait. */
  @Test
  void aTurnIsStoredWhileItsTenantsRowIsLocked() throws Exception {
    ChatHarness.Tenant t = h.tenant("row-lock");
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, t);
    List<JsonObject> seen = new ArrayList<>();
    String conv = conversationOfOneTurn(v, seen);
    try (Connection c = h.testDb.ownerJdbc(); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("SELECT 1 FROM tenants WHERE id = '" + t.id() + "' FOR UPDATE");
      v.say("And on Sundays?", conv);
      assertThat(v.next("done", seen).getString("intent")).isEqualTo("chat");
      c.rollback();
    }
    assertThat(h.count("SELECT count(*) FROM messages WHERE conversation_id = '" + conv + "' AND status = 'complete'"))
        .isEqualTo(4);
  }

  @Test
  void aDeletedTenantsMessagesGoWithIt() throws Exception {
    ChatHarness.Tenant t = h.tenant("deleted");
    WidgetVisitorSocket v = new WidgetVisitorSocket(h, vertx, t);
    conversationOfOneTurn(v, new ArrayList<>());
    assertThat(h.count("SELECT count(*) FROM messages WHERE tenant_id = '" + t.id() + "'")).isEqualTo(2);
    h.execOwner("DELETE FROM tenants WHERE id = '" + t.id() + "'");
    assertThat(h.count("SELECT count(*) FROM messages WHERE tenant_id = '" + t.id() + "'")).isZero();
  }
}
