package ai.deepchat.console;

import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #18 in the console, from rows of known values: the overview's satisfaction (mean and
 * distribution of visitors' ratings) and its per-model-version figures, and the conversation export
 * behind the conversations page (admins only, audited, the workspace's rows only).
 */
@ExtendWith(VertxExtension.class)
class ConsoleSatisfactionTest extends ConsoleTestBase {

  private static final String TENANT = "(SELECT id FROM tenants WHERE slug = 'csat-co')";

  @BeforeAll
  static void data() throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenants (slug, name) VALUES ('csat-co', 'CSAT Co')");
      for (String role : new String[] {"owner", "viewer"}) {
        st.execute("INSERT INTO users (tenant_id, email, password_hash, role) SELECT " + TENANT + ", '" + role
            + "@csat.test', password_hash, '" + role + "' FROM users WHERE email = 'owner@alpha.test'");
      }
      st.execute("INSERT INTO model_versions (tenant_id, name, backend, location, state) VALUES (" + TENANT
          + ", 'v-stable', 'openai', 'http://127.0.0.1:1/v1', 'stable'), (" + TENANT
          + ", 'v-canary', 'openai', 'http://127.0.0.1:1/v1', 'canary')");
      // version, intent of its answer, feedback, first token ms, rating (0: none), its handoff, seconds to a
      // first staff reply: rated conversations went to staff (resolved), one waits in the queue now
      Object[][] conversations = {{"v-stable", "knowledge", 1, 100, 5, "resolved", 40},
          {"v-stable", "faq", 1, 300, 4, "resolved", 60}, {"v-stable", "handoff", -1, 200, 0, "queued", 0},
          {"v-canary", "knowledge", -1, 1000, 1, "resolved", 80}, {"v-canary", "handoff", 0, 900, 2, "resolved", 100},
          {"v-stable", "knowledge", 0, 400, 0, null, 0}, {"v-canary", "chat", 0, 800, 0, null, 0}};
      int i = 0;
      for (Object[] cv : conversations) {
        i++;
        st.execute("INSERT INTO conversations (tenant_id, channel, visitor_id, model_version_id) SELECT " + TENANT
            + ", 'widget', 'v_csat_" + i + "', id FROM model_versions WHERE name = '" + cv[0] + "' AND tenant_id = " + TENANT);
        String conv = "(SELECT id FROM conversations WHERE visitor_id = 'v_csat_" + i + "')";
        st.execute("INSERT INTO messages (tenant_id, conversation_id, role, content, created_at) SELECT " + TENANT + ", "
            + conv + ", 'user', '-question " + i + "', now() - interval '1 second'");
        st.execute("INSERT INTO messages (tenant_id, conversation_id, role, content, status, intent, feedback, "
            + "first_token_ms, answer_ms) SELECT " + TENANT + ", " + conv + ", 'assistant', 'answer " + i + "', 'complete', '"
            + cv[1] + "', " + ((int) cv[2] == 0 ? "NULL" : cv[2]) + ", " + cv[3] + ", " + cv[3]);
        if ("resolved".equals(cv[5])) {
          st.execute("INSERT INTO handoffs (tenant_id, conversation_id, visitor_id, state, reason, resolution, queued_at, "
              + "first_reply_at, resolved_at) SELECT " + TENANT + ", " + conv + ", 'v_csat_" + i + "', 'resolved', 'button', "
              + "'bot', now() - interval '1 hour', now() - interval '1 hour' + interval '" + cv[6] + " seconds', now()");
        } else if ("queued".equals(cv[5])) {
          st.execute("INSERT INTO handoffs (tenant_id, conversation_id, visitor_id, reason) SELECT " + TENANT + ", " + conv
              + ", 'v_csat_" + i + "', 'button'");
        }
        if ((int) cv[4] > 0) {
          st.execute("INSERT INTO conversation_ratings (tenant_id, conversation_id, handoff_id, score, comment) SELECT "
              + TENANT + ", conversation_id, id, " + cv[4] + ", 'rated " + cv[4] + "' FROM handoffs WHERE conversation_id = " + conv);
        }
      }
    }
  }

  private static long count(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void theOverviewShowsSatisfactionStaffFiguresAndEachModelVersionsFigures() throws Exception {
    String page = h.browser().signedIn("csat-co", "viewer@csat.test").get("/console/").body();
    // ratings 5, 4, 1, 2: mean 3.0 of 4
    assertThat(page).contains("Satisfaction</div>\n      <div class=\"value\">3.0 / 5</div>")
        .contains("4 ratings after a person helped, of 5")
        .contains("<text x=\"400\" y=\"15\">1 (25%)</text>") // one rating of 1 star, the first bar
        // first staff replies after 40, 60, 80 and 100 s: median 70 s, p95 97 s; one visitor waiting
        .contains("Time to first human reply (median)</div>\n      <div class=\"value\">70 s</div>")
        .contains("<span>97 s</span>")
        .contains("Waiting now</div>\n      <div class=\"value\">1</div>")
        // 7 answered conversations, 5 of them went to staff (4 resolved, 1 queued)
        .contains("Deflection rate</div>\n      <div class=\"value\">28.6%</div>");
    String versions = page.substring(page.indexOf("id=\"overview-versions\""));
    versions = versions.substring(0, versions.indexOf("</table>"));
    String stable = versions.substring(versions.indexOf("v-stable"), versions.indexOf("</tr>", versions.indexOf("v-stable")));
    String canary = versions.substring(versions.indexOf("v-canary"), versions.indexOf("</tr>", versions.indexOf("v-canary")));
    // stable: 4 answers, thumbs 2 up 1 down, ratings 5 and 4, 1 of 4 conversations without people, median 250 ms
    assertThat(stable).contains("<td>4</td>").contains("67% (3)").contains("4.5 / 5 (2)").contains("25.0%")
        .contains("250 ms");
    // canary: 3 answers, one thumb down, ratings 1 and 2, 1 of 3 without people, median 900 ms
    assertThat(canary).contains("<td>3</td>").contains("0% (1)").contains("1.5 / 5 (2)").contains("33.3%")
        .contains("900 ms");
  }

  @Test
  void theTranscriptShowsTheVisitorsRatingAndAnswerComment() throws Exception {
    String conv;
    try (Connection c = h.testDb.ownerJdbc(); Statement st = c.createStatement()) {
      st.execute("UPDATE messages SET feedback_comment = 'Too vague' WHERE content = 'answer 4'");
      ResultSet rs = st.executeQuery("SELECT id FROM conversations WHERE visitor_id = 'v_csat_4'");
      rs.next();
      conv = rs.getString(1);
    }
    String page = h.browser().signedIn("csat-co", "viewer@csat.test").get("/console/conversations/" + conv).body();
    assertThat(page).contains("Comment: Too vague").contains("id=\"conv-ratings\"").contains("1 / 5").contains("rated 1");
  }

  @Test
  void adminsExportTheWorkspacesConversationsFromTheConversationsPage() throws Exception {
    ConsoleHarness.Browser owner = h.browser().signedIn("csat-co", "owner@csat.test");
    assertThat(owner.get("/console/conversations").body()).contains("action=\"/console/conversations/export\"");
    HttpResponse<String> csv = owner.get("/console/conversations/export?format=csv&rating=1,2");
    assertThat(csv.statusCode()).isEqualTo(200);
    assertThat(csv.headers().firstValue("Content-Disposition")).hasValueSatisfying(d -> assertThat(d).contains("conversations.csv"));
    // header; two conversations of a question, an answer and their handoff's queueing and resolution
    assertThat(csv.body().lines()).hasSize(1 + 2 * 4);
    assertThat(csv.body()).contains("'-question 4").contains("rated 1").contains("rated 2").doesNotContain("rated 5");
    HttpResponse<String> jsonl = owner.get("/console/conversations/export?format=jsonl&intent=faq");
    assertThat(jsonl.body().lines()).hasSize(1);
    assertThat(jsonl.body()).contains("\"rated 4\"");
    assertThat(owner.get("/console/conversations/export?rating=9").statusCode()).isEqualTo(400);
    assertThat(count("SELECT count(*) FROM audit_log WHERE tenant_id = " + TENANT + " AND action = 'conversations.export' "
        + "AND actor LIKE 'user:%'")).isEqualTo(2);

    // viewers see no export and may not download one; another workspace's admin gets its own rows only
    ConsoleHarness.Browser viewer = h.browser().signedIn("csat-co", "viewer@csat.test");
    assertThat(viewer.get("/console/conversations").body()).doesNotContain("/console/conversations/export");
    assertThat(viewer.get("/console/conversations/export").statusCode()).isEqualTo(403);
    HttpResponse<String> alpha = h.browser().signedIn("alpha", "admin@alpha.test").get("/console/conversations/export");
    assertThat(alpha.statusCode()).isEqualTo(200);
    assertThat(alpha.body()).doesNotContain("question").doesNotContain("rated");
  }
}
