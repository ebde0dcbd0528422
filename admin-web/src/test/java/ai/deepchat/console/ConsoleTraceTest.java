package ai.deepchat.console;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stored turn traces in the console over real HTTP and PostgreSQL: a workspace's staff read their
 * answers' traces (JSON and on the transcript), another workspace's staff get 404 for the same id; the
 * playground is for editors and up and answers bad input with a JSON error. The playground's answers
 * through the real pipeline are covered by the browser test (BrowserE2ETest, playground.e2e.js).
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleTraceTest {

  private static final String TRACE = "{\"routing\": {\"intent\": \"faq\", \"score\": 0.93, \"answered_from\": \"faq\"}, "
      + "\"faq_candidates\": [{\"faq_id\": \"f\", \"score\": 0.93, \"matched\": true}], "
      + "\"latency\": {\"queue_ms\": 1.5, \"total_ms\": 9.25}, \"marker\": \"<b>trace-marker</b>\"}";

  private ConsoleHarness h;
  private String traced;
  private String untraced;
  private String conversation;

  @BeforeAll
  void start(Vertx vertx, @TempDir Path dataDir) throws Exception {
    h = ConsoleHarness.start(vertx, dataDir); // one console and database for the class; the extension closes Vert.x
    conversation = one("INSERT INTO conversations (tenant_id, channel, title, visitor_id) VALUES ('" + h.alpha
        + "', 'console', 'Password help', 'staff:x') RETURNING id");
    String question = one("INSERT INTO messages (tenant_id, conversation_id, role, content, status) VALUES ('" + h.alpha
        + "', '" + conversation + "', 'user', 'How do I reset my password?', 'complete') RETURNING id");
    traced = one("INSERT INTO messages (tenant_id, conversation_id, role, content, status, reply_to, intent, trace) "
        + "VALUES ('" + h.alpha + "', '" + conversation + "', 'assistant', 'Open Settings.', 'complete', '" + question
        + "', 'faq', '" + TRACE + "'::jsonb) RETURNING id");
    untraced = one("INSERT INTO messages (tenant_id, conversation_id, role, content, status, intent) VALUES ('"
        + h.alpha + "', '" + conversation + "', 'assistant', 'Hello.', 'complete', 'chat') RETURNING id");
  }

  /** A playground message as the page's script sends it: JSON with the CSRF token in its header. */
  private HttpResponse<String> turn(ConsoleHarness.Browser b, String json) throws Exception {
    return b.http.send(HttpRequest.newBuilder(URI.create(h.base() + "/console/playground/turn"))
        .header("Content-Type", "application/json").header("X-CSRF-Token", b.csrf).header("Origin", h.base())
        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private String one(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  @Test
  void staffReadTheirOwnTracesAndAnotherWorkspaceGets404() throws Exception {
    var viewer = h.browser().signedIn("alpha", "viewer@alpha.test");
    HttpResponse<String> own = viewer.get("/console/messages/" + traced + "/trace");
    assertThat(own.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(own.body())).isEqualTo(new JsonObject(TRACE));
    assertThat(viewer.get("/console/messages/" + untraced + "/trace").statusCode()).isEqualTo(404);
    // the transcript shows the trace, as text
    String page = viewer.get("/console/conversations/" + conversation).body();
    assertThat(page).contains("class=\"trace\"").contains("answered_from").contains("&lt;b&gt;trace-marker")
        .doesNotContain("<b>trace-marker");

    var other = h.browser().signedIn("beta", "owner@beta.test");
    HttpResponse<String> foreign = other.get("/console/messages/" + traced + "/trace");
    assertThat(foreign.statusCode()).isEqualTo(404);
    assertThat(foreign.body()).doesNotContain("trace-marker").doesNotContain("answered_from");
    assertThat(new JsonObject(foreign.body()).getJsonObject("error").getString("code")).isEqualTo("not_found");
    assertThat(other.get("/console/messages/not-a-uuid/trace").statusCode()).isEqualTo(404);
  }

  @Test
  void thePlaygroundIsForEditorsAndAnswersBadInputWithAJsonError() throws Exception {
    var viewer = h.browser().signedIn("alpha", "viewer@alpha.test");
    assertThat(viewer.get("/console/playground").statusCode()).isEqualTo(403);
    assertThat(viewer.get("/console/conversations").body()).doesNotContain("/console/playground");
    assertThat(turn(viewer, new JsonObject().put("message", "hi").encode()).statusCode()).isEqualTo(403);

    var editor = h.browser().signedIn("alpha", "editor@alpha.test");
    HttpResponse<String> page = editor.get("/console/playground");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("id=\"playground-form\"").contains("id=\"trace-panel\"");
    for (String bad : List.of("{\"message\": \" \"}", "{\"message\": \"hi\", \"conversation\": \"nope\"}",
        "{\"message\": 7}", "not json", new JsonObject().put("message", "x".repeat(16_001)).encode())) {
      HttpResponse<String> r = turn(editor, bad);
      assertThat(r.statusCode()).as(bad + " " + r.body()).isEqualTo(400);
      assertThat(r.headers().firstValue("Content-Type").orElse("")).as(r.body()).startsWith("application/json");
      assertThat(new JsonObject(r.body()).getJsonObject("error").getString("code")).isEqualTo("invalid_request");
    }
    assertThat(one("SELECT count(*) FROM conversations WHERE tenant_id = '" + h.alpha + "'")).isEqualTo("1");
  }
}
