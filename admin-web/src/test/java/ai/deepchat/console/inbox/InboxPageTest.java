package ai.deepchat.console.inbox;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.util.List;

import static ai.deepchat.platform.testing.Await.await;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The inbox page over real HTTP: agents, admins and owners get it (an agent's menu holds the inbox
 * only), viewers do not, its script and style are served, and the conversation it shows carries what the
 * page draws: the bot's citations and who of the staff wrote each reply and note (what the page does with
 * them is the browser scenario inbox.e2e.js).
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InboxPageTest {

  private HandoffHarness h;
  private HandoffHarness.Tenant t;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = HandoffHarness.start(vertx);
    t = h.tenant("inbox-page");
  }

  @Test
  void agentsAdminsAndOwnersGetThePageWithTheirIdentity() throws Exception {
    HandoffHarness.Staff ann = h.new Staff(t, "ann@inbox-page.test");
    HttpResponse<String> page = ann.page("/console/inbox");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("id=\"inbox\"", "data-me=\"" + h.userId(t, "ann@inbox-page.test") + "\"",
        "src=\"/console/static/inbox.js\"", "href=\"/console/static/inbox.css\"", "href=\"/console/inbox\"");
    assertThat(page.body()).as("an agent's menu: the inbox only").doesNotContain("href=\"/console/kb\"",
        "href=\"/console/settings\"");
    assertThat(ann.page("/console/").headers().firstValue("Location")).hasValue("/console/inbox");

    for (String email : new String[] {"admin@inbox-page.test", "owner@inbox-page.test"}) {
      HttpResponse<String> admin = h.new Staff(t, email).page("/console/inbox");
      assertThat(admin.statusCode()).as(email).isEqualTo(200);
      assertThat(admin.body()).as(email).contains("href=\"/console/inbox\"", "href=\"/console/kb\"");
    }
  }

  @Test
  void viewersNeitherGetThePageNorSeeItInTheMenu() throws Exception {
    HandoffHarness.Staff viewer = h.new Staff(t, "viewer@inbox-page.test");
    assertThat(viewer.page("/console/inbox").statusCode()).isEqualTo(403);
    HttpResponse<String> overview = viewer.page("/console/");
    assertThat(overview.statusCode()).isEqualTo(200);
    assertThat(overview.body()).contains("href=\"/console/kb\"").doesNotContain("href=\"/console/inbox\"");
  }

  @Test
  void theScriptAndStyleAreServed() throws Exception {
    HandoffHarness.Staff ann = h.new Staff(t, "ann@inbox-page.test");
    HttpResponse<String> script = ann.page("/console/static/inbox.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.body()).contains("/console/api/inbox", "EventSource");
    assertThat(ann.page("/console/static/inbox.css").statusCode()).isEqualTo(200);
  }

  @Test
  void aConversationAndItsEventsCarryTheBotsCitationsAndTheStaffAuthors() throws Exception {
    HandoffHarness.Visitor v = h.visitor(t);
    String conv = v.conversation.toString();
    JsonArray cites = new JsonArray().add(new JsonObject().put("n", 1).put("title", "Returns policy").put("section", "Refunds"));
    await(h.db.inTenant(t.id(), c -> c.preparedQuery("UPDATE messages SET citations = $1 WHERE conversation_id = $2 "
        + "AND role = 'assistant'").execute(Tuple.of(cites, v.conversation))));
    assertThat(v.post("/widget/handoff", new JsonObject().put("conversation_id", conv)).statusCode()).isEqualTo(200);
    HandoffHarness.Staff ann = h.new Staff(t, "ann@inbox-page.test").listen();
    ann.ok(ann.post("/console/api/inbox/" + conv + "/claim", new JsonObject()));
    ann.ok(ann.post("/console/api/inbox/" + conv + "/reply", new JsonObject().put("text", "Hello").put("client_id", "c-1")));
    ann.ok(ann.post("/console/api/inbox/" + conv + "/note", new JsonObject().put("text", "VIP").put("client_id", "c-2")));

    List<JsonObject> history = ann.ok(ann.page("/console/api/inbox/" + conv)).getJsonArray("messages").stream()
        .map(JsonObject.class::cast).toList();
    JsonObject answer = history.stream().filter(m -> "assistant".equals(m.getString("role"))).findFirst().orElseThrow();
    assertThat(answer.getJsonArray("citations").getJsonObject(0).getString("title")).isEqualTo("Returns policy");
    String annId = h.userId(t, "ann@inbox-page.test").toString();
    // the live events name the author too, so a reply another tab or agent sees is labelled at once
    assertThat(ann.next("message", m -> "agent".equals(m.getString("role"))).getString("agent_id")).isEqualTo(annId);
    assertThat(ann.next("message", m -> "note".equals(m.getString("role"))).getString("agent_id")).isEqualTo(annId);
    assertThat(history.stream().filter(m -> List.of("agent", "note").contains(m.getString("role"))))
        .hasSize(2).allSatisfy(m -> {
          assertThat(m.getString("agent_id")).isEqualTo(annId);
          assertThat(m.getString("agent_name")).isEqualTo("Ann");
        });
    assertThat(history.stream().filter(m -> "visitor".equals(m.getString("role")))).allSatisfy(m ->
        assertThat(m.containsKey("agent_name")).isFalse());
  }
}
