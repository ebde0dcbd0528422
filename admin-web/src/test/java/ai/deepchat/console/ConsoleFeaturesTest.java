package ai.deepchat.console;

import ai.deepchat.platform.security.TenantKeys;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** What the console's pages do to the database, over real HTTP: keys, widget, FAQ, models, audit. */
@ExtendWith(VertxExtension.class)
class ConsoleFeaturesTest extends ConsoleTestBase {

  private String one(String sql) throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  @Test
  void apiKeysAreShownOnceStoredHashedAndRevocable() throws Exception {
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    admin.get("/console/keys");
    HttpResponse<String> created = admin.submit("/console/keys", Map.of("name", "backend"));
    assertThat(created.statusCode()).isEqualTo(200);
    Matcher m = Pattern.compile("dck_[0-9a-f]{32}_[A-Za-z0-9]{32}").matcher(created.body());
    assertThat(m.find()).isTrue();
    String plaintext = m.group();
    assertThat(TenantKeys.parseApiKey(plaintext).orElseThrow().tenantId()).isEqualTo(h.alpha);
    String stored = one("SELECT key_hash FROM api_keys WHERE name = 'backend'");
    assertThat(stored).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(plaintext.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    assertThat(admin.get("/console/keys").body()).doesNotContain(plaintext);

    String id = one("SELECT id FROM api_keys WHERE name = 'backend'");
    assertThat(admin.submit("/console/keys/" + id + "/revoke", Map.of()).statusCode()).isEqualTo(302);
    assertThat(one("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = '" + id + "'")).isEqualTo("t");
    assertThat(one("SELECT count(*) FROM audit_log WHERE action IN ('api_key.create', 'api_key.revoke')")).isEqualTo("2");
  }

  @Test
  void widgetSettingsAcceptOnlyExactOriginsAndValidValues() throws Exception {
    var admin = h.browser().signedIn("beta", "admin@beta.test");
    assertThat(admin.get("/console/widget").body()).contains("data-key=&quot;pk_" + h.beta.toString().replace("-", ""));
    Map<String, String> good = Map.of("allowed_origins", "https://shop.example.com\nhttp://localhost:3000/",
        "title", "Help", "greeting", "Hi", "primary_color", "#112233", "language", "zh", "position", "left");
    assertThat(admin.submit("/console/widget", good).statusCode()).isEqualTo(302);
    assertThat(one("SELECT array_to_string(allowed_origins, ' ') FROM widget_settings WHERE tenant_id = '" + h.beta + "'"))
        .isEqualTo("https://shop.example.com http://localhost:3000");

    for (String bad : new String[] {"https://shop.example.com/path", "*", "https://*.example.com", "javascript:alert(1)",
        "https://shop.example.com?x", "shop.example.com"}) {
      Map<String, String> form = new java.util.HashMap<>(good);
      form.put("allowed_origins", bad);
      assertThat(admin.submit("/console/widget", form).statusCode()).as(bad).isEqualTo(400);
    }
    Map<String, String> badColour = new java.util.HashMap<>(good);
    badColour.put("primary_color", "red;background:url(x)");
    assertThat(admin.submit("/console/widget", badColour).statusCode()).isEqualTo(400);
    assertThat(one("SELECT primary_color FROM widget_settings WHERE tenant_id = '" + h.beta + "'")).isEqualTo("#112233");

    String before = one("SELECT public_key FROM widget_settings WHERE tenant_id = '" + h.beta + "'");
    assertThat(admin.submit("/console/widget/rotate-key", Map.of()).statusCode()).isEqualTo(302);
    String after = one("SELECT public_key FROM widget_settings WHERE tenant_id = '" + h.beta + "'");
    assertThat(after).isNotEqualTo(before).startsWith("pk_" + h.beta.toString().replace("-", ""));
  }

  /** Issue #22 item 2: origins the widget was refused on, listed per tenant, allowed in one click. */
  @Test
  void refusedOriginsAreListedPerTenantAndAllowedInOneClick() throws Exception {
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    admin.get("/console/widget"); // creates alpha's widget row
    var refused = ai.deepchat.chat.widget.RefusedOrigins.of(vertx, h.db);
    refused.record(h.alpha, "https://Shop.Alpha.example/");
    refused.record(h.alpha, "https://shop.alpha.example");
    refused.record(h.beta, "https://shop.beta.example");
    refused.record(h.alpha, "javascript:alert(1)");
    ai.deepchat.platform.testing.Await.until("refusals written", java.time.Duration.ofSeconds(15),
        () -> "2".equals(one("SELECT refusals FROM widget_refused_origins WHERE origin = 'https://shop.alpha.example'")));
    assertThat(one("SELECT count(*) FROM widget_refused_origins WHERE tenant_id = '" + h.alpha + "'")).isEqualTo("1");

    String page = admin.get("/console/widget").body();
    assertThat(page).contains("Recently refused origins").contains("https://shop.alpha.example")
        .doesNotContain("shop.beta.example").doesNotContain("javascript:");
    var viewer = h.browser().signedIn("alpha", "viewer@alpha.test");
    assertThat(viewer.get("/console/widget").body()).contains("https://shop.alpha.example")
        .doesNotContain("/console/widget/allow-origin");
    assertThat(viewer.submit("/console/widget/allow-origin", Map.of("origin", "https://shop.alpha.example"))
        .statusCode()).isEqualTo(403);
    assertThat(admin.submit("/console/widget/allow-origin", Map.of("origin", "https://shop.alpha.example/path"))
        .statusCode()).isEqualTo(400);

    assertThat(admin.submit("/console/widget/allow-origin", Map.of("origin", "https://shop.alpha.example"))
        .statusCode()).isEqualTo(302);
    assertThat(one("SELECT 'https://shop.alpha.example' = ANY (allowed_origins) FROM widget_settings WHERE tenant_id = '"
        + h.alpha + "'")).isEqualTo("t");
    assertThat(one("SELECT count(*) FROM widget_refused_origins WHERE tenant_id = '" + h.alpha + "'")).isEqualTo("0");
    assertThat(one("SELECT count(*) FROM widget_refused_origins WHERE tenant_id = '" + h.beta + "'")).isEqualTo("1");
    assertThat(one("SELECT count(*) FROM audit_log WHERE action = 'widget.allow_origin' AND tenant_id = '" + h.alpha + "'"))
        .isEqualTo("1");
    // allowing it again changes nothing and says so without an error
    assertThat(admin.submit("/console/widget/allow-origin", Map.of("origin", "https://shop.alpha.example"))
        .statusCode()).isEqualTo(302);
    assertThat(one("SELECT cardinality(allowed_origins) FROM widget_settings WHERE tenant_id = '" + h.alpha + "'"))
        .isEqualTo(one("SELECT count(DISTINCT o) FROM widget_settings, unnest(allowed_origins) o WHERE tenant_id = '"
            + h.alpha + "'"));
  }

  @Test
  void faqMarkdownIsSanitizedInTheConsole() throws Exception {
    var editor = h.browser().signedIn("alpha", "editor@alpha.test");
    editor.get("/console/faq");
    assertThat(editor.submit("/console/faq", Map.of("question", "xss?", "enabled", "on",
        "answer", "**ok** <img src=x onerror=alert(1)> <script>alert(2)</script> [a](javascript:alert(3)) "
            + "[b](https://example.com)")).statusCode()).isEqualTo(302);
    String page = editor.get("/console/faq").body();
    String rendered = page.substring(page.indexOf("<div class=\"md\">"));
    rendered = rendered.substring(0, rendered.indexOf("</div>"));
    assertThat(rendered).contains("<strong>ok</strong>").contains("href=\"https://example.com\"")
        .doesNotContain("<img").doesNotContain("<script").doesNotContain("javascript:");
    // the editable copy is escaped text inside the textarea
    assertThat(page).contains("&lt;script&gt;alert(2)&lt;/script&gt;");
  }

  @Test
  void faqAnswersAreImportedWholeOrNotAtAllAndExported() throws Exception {
    var editor = h.browser().signedIn("beta", "editor@beta.test");
    editor.get("/console/faq");
    String tenant = "tenant_id = '" + h.beta + "'";
    HttpResponse<String> imported = editor.upload("/console/faq/import", Map.of("mode", "merge"), "faq.csv",
        "question,answer,enabled\nReturns?,Within 30 days.,yes\n\"Hours, please?\",\"9–6, Mon–Fri\",no\n"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(imported.statusCode()).as(imported.body()).isEqualTo(302);
    assertThat(imported.headers().firstValue("Location").orElseThrow()).endsWith("/console/faq?done=imported");
    assertThat(one("SELECT count(*) FROM faq_entries WHERE " + tenant)).isEqualTo("2");
    assertThat(one("SELECT enabled FROM faq_entries WHERE question = 'Hours, please?'")).isEqualTo("f");

    // a file with one bad row changes nothing, and the page names the row
    HttpResponse<String> refused = editor.upload("/console/faq/import", Map.of("mode", "replace"), "faq.csv",
        "question,answer\nOnly this?,Yes.\nNo answer?,\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body()).contains("id=\"faq-import-problems\"").contains("Row 3: answer is empty");
    assertThat(one("SELECT count(*) FROM faq_entries WHERE " + tenant)).isEqualTo("2");

    HttpResponse<String> csv = editor.get("/console/faq/export.csv");
    assertThat(csv.statusCode()).isEqualTo(200);
    assertThat(csv.headers().firstValue("Content-Disposition").orElseThrow()).contains("faq.csv");
    assertThat(csv.body()).contains("Returns?,Within 30 days.,true").contains("\"Hours, please?\"");
    var viewer = h.browser().signedIn("beta", "viewer@beta.test");
    viewer.get("/console/faq");
    assertThat(viewer.upload("/console/faq/import", Map.of(), "faq.csv",
        "question,answer\nq,a\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)).statusCode()).isEqualTo(403);
    assertThat(one("SELECT count(*) FROM audit_log WHERE action = 'faq.import' AND " + tenant)).isEqualTo("1");
  }

  @Test
  void canaryRolloutPromotesAndRollsBackThroughTheModelRegistry() throws Exception {
    var admin = h.browser().signedIn("beta", "owner@beta.test");
    announce("w-beta", "model-v1", "model-v2", "model-v3", "m");
    admin.get("/console/models");
    for (String name : new String[] {"v1", "v2", "v3"}) {
      assertThat(admin.submit("/console/models", Map.of("name", name, "backend", "local", "location", "model-" + name,
          "params", "{\"temperature\": 0.6}")).statusCode()).isEqualTo(302);
    }
    assertThat(admin.submit("/console/models", Map.of("name", "bad", "backend", "local", "location", "m",
        "params", "[not json")).statusCode()).isEqualTo(400);
    assertThat(admin.submit("/console/models", Map.of("name", "v1", "backend", "local", "location", "m")).statusCode())
        .as("duplicate name").isIn(400, 409);
    // the console creates versions through the same registry: an internal endpoint is refused (scenario 17)
    var internal = admin.submit("/console/models", Map.of("name", "ssrf", "backend", "openai",
        "location", "http://127.0.0.1:9/v1"));
    assertThat(internal.statusCode()).isEqualTo(400);
    assertThat(internal.body()).contains("location refused").contains("loopback");
    String v1 = one("SELECT id FROM model_versions WHERE name = 'v1'");
    String v2 = one("SELECT id FROM model_versions WHERE name = 'v2'");
    String v3 = one("SELECT id FROM model_versions WHERE name = 'v3'");
    assertThat(admin.submit("/console/models/" + v1 + "/stable", Map.of()).statusCode()).isEqualTo(302);
    assertThat(one("SELECT state FROM model_versions WHERE id = '" + v1 + "'")).isEqualTo("stable");

    assertThat(admin.submit("/console/rollouts", Map.of("candidate", v2, "percentage", "10")).statusCode())
        .isEqualTo(302);
    // the page compares the running canary with its stable version
    String page = admin.get("/console/models").body();
    assertThat(page).contains("id=\"comparison\"").contains("Time to first token p95").contains("Automatic rollback")
        .contains("rollout.started");
    assertThat(admin.submit("/console/rollouts", Map.of("candidate", v3, "percentage", "10")).statusCode())
        .as("one active rollout").isEqualTo(409);
    String r1 = one("SELECT id FROM rollouts WHERE candidate_version_id = '" + v2 + "'");
    assertThat(admin.submit("/console/rollouts/" + r1 + "/percentage", Map.of("percentage", "150")).statusCode())
        .isEqualTo(400);
    assertThat(admin.submit("/console/rollouts/" + r1 + "/percentage", Map.of("percentage", "25")).statusCode())
        .isEqualTo(302);
    assertThat(one("SELECT percentage FROM rollouts WHERE id = '" + r1 + "'")).isEqualTo("25.00");
    assertThat(admin.submit("/console/rollouts/" + r1 + "/rollback", Map.of()).statusCode()).isEqualTo(302);
    assertThat(one("SELECT state FROM rollouts WHERE id = '" + r1 + "'")).isEqualTo("rolled_back");
    HttpResponse<String> over = admin.submit("/console/rollouts/" + r1 + "/promote", Map.of());
    assertThat(over.statusCode()).as("a finished rollout").isEqualTo(409);

    assertThat(admin.submit("/console/rollouts", Map.of("candidate", v3, "percentage", "5")).statusCode())
        .isEqualTo(302);
    String r2 = one("SELECT id FROM rollouts WHERE candidate_version_id = '" + v3 + "'");
    assertThat(admin.submit("/console/rollouts/" + r2 + "/promote", Map.of()).statusCode()).isEqualTo(302);
    assertThat(one("SELECT name FROM model_versions WHERE tenant_id = '" + h.beta + "' AND state = 'stable' "
        + "ORDER BY stable_since DESC LIMIT 1")).isEqualTo("v3");
    assertThat(one("SELECT count(*) FROM audit_log WHERE tenant_id = '" + h.beta + "' AND actor = 'user:owner@beta.test' "
        + "AND action LIKE '%rollout%'")).isNotEqualTo("0");
    assertThat(admin.get("/console/models").body()).contains("v3").contains("promoted");

    // another tenant's version cannot be used in a rollout
    String alphaVersion = await(h.db.inTenant(h.alpha, c -> c.preparedQuery("INSERT INTO model_versions "
        + "(tenant_id, name, backend, location) VALUES ($1, 'alpha-v', 'local', 'm') RETURNING id")
        .execute(io.vertx.sqlclient.Tuple.of(h.alpha)).map(r -> r.iterator().next().getUUID(0)))).toString();
    assertThat(admin.submit("/console/rollouts", Map.of("candidate", alphaVersion, "percentage", "5"))
        .statusCode()).isEqualTo(404);
    assertThat(one("SELECT state FROM model_versions WHERE id = '" + alphaVersion + "'")).isEqualTo("draft");
    // a viewer sees the page but no buttons work
    var viewer = h.browser().signedIn("beta", "viewer@beta.test");
    assertThat(viewer.get("/console/models").statusCode()).isEqualTo(200);
    assertThat(viewer.submit("/console/models/" + v2 + "/retire", Map.of()).statusCode()).isEqualTo(403);
  }

  @Test
  void assistantSettingsAreValidatedAndOnlyAdminsChangeThem() throws Exception {
    await(h.db.inTenant(h.beta, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id) VALUES ($1) "
        + "ON CONFLICT DO NOTHING").execute(io.vertx.sqlclient.Tuple.of(h.beta))));
    Map<String, String> form = new java.util.HashMap<>(Map.of("system_prompt", "Be brief.", "faq_threshold", "0.85",
        "retention_days", "90", "moderation_action", "mask", "blocked_reply", "No.", "requests_per_minute", "100",
        "visitor_requests_per_minute", "5", "api_key_requests_per_minute", "50", "max_message_chars", "2000"));
    form.putAll(Map.of("knowledge_threshold", "0.6", "citation_threshold", "0.5", "small_talk_threshold", "0.72",
        "unanswered_action", "chat", "handoff_reply", "Call 0800 123.", "query_translation", "on"));
    var viewer = h.browser().signedIn("beta", "viewer@beta.test");
    assertThat(viewer.get("/console/settings").statusCode()).isEqualTo(200);
    assertThat(viewer.submit("/console/settings", form).statusCode()).isEqualTo(403);

    var admin = h.browser().signedIn("beta", "admin@beta.test");
    admin.get("/console/settings");
    assertThat(admin.submit("/console/settings", form).statusCode()).isEqualTo(302);
    assertThat(one("SELECT system_prompt || '|' || faq_threshold || '|' || moderation_action || '|' || "
        + "visitor_requests_per_minute FROM tenant_settings WHERE tenant_id = '" + h.beta + "'"))
        .isEqualTo("Be brief.|0.85|mask|5");
    assertThat(one("SELECT knowledge_threshold || '|' || citation_threshold || '|' || small_talk_threshold || '|' || "
        + "unanswered_action || '|' || handoff_reply FROM tenant_settings WHERE tenant_id = '" + h.beta + "'"))
        .isEqualTo("0.6|0.5|0.72|chat|Call 0800 123.");
    assertThat(one("SELECT query_translation::text FROM tenant_settings WHERE tenant_id = '" + h.beta + "'"))
        .as("query translation, off by default, turned on").isEqualTo("true");
    for (var bad : Map.of("faq_threshold", "1.5", "retention_days", "0", "moderation_action", "drop",
        "max_message_chars", "many", "knowledge_threshold", "-0.1", "citation_threshold", "x",
        "small_talk_threshold", "2", "unanswered_action", "guess").entrySet()) {
      Map<String, String> wrong = new java.util.HashMap<>(form);
      wrong.put(bad.getKey(), bad.getValue());
      wrong.put("system_prompt", "changed");
      assertThat(admin.submit("/console/settings", wrong).statusCode()).as(bad.getKey()).isEqualTo(400);
    }
    assertThat(one("SELECT system_prompt FROM tenant_settings WHERE tenant_id = '" + h.beta + "'")).isEqualTo("Be brief.");
    assertThat(admin.get("/console/settings").body()).contains("Be brief.");
  }

  @Test
  void assistantSettingsShowTheTenantsQueryTranslationUsageOfTheLast30Days() throws Exception {
    var viewer = h.browser().signedIn("beta", "viewer@beta.test");
    assertThat(viewer.get("/console/settings").body()).contains("No questions were translated in the last 30 days.")
        .doesNotContain("<tfoot>");
    try (Connection c = h.testDb.ownerJdbc(); var st = c.createStatement()) {
      st.execute("INSERT INTO query_translation_usage (tenant_id, day, calls, prompt_tokens, completion_tokens, "
          + "failed, total_ms) VALUES "
          + "('" + h.beta + "', current_date, 17, 1301, 402, 2, 5100), "
          + "('" + h.beta + "', current_date - 29, 3, 211, 77, 1, 1900), "
          + "('" + h.beta + "', current_date - 30, 9001, 90011, 90012, 0, 0), " // 31 days ago: out of the window
          + "('" + h.alpha + "', current_date, 8001, 80011, 80012, 0, 0)");  // another tenant's usage
    }
    String page = viewer.get("/console/settings").body();
    String table = page.substring(page.indexOf("id=\"translation-usage\""));
    assertThat(table).contains(java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString())
        .contains("<td class=\"calls\">17</td>").contains("<td class=\"prompt\">1301</td>")
        .contains("<td class=\"completion\">402</td>").contains("<td class=\"calls\">3</td>")
        .contains("<td class=\"failed\">2</td><td class=\"average-ms\">300</td>") // 5,100 ms over 17 calls
        .contains("<td class=\"failed\">1</td><td class=\"average-ms\">633</td>")
        // the total row sums the 30 days shown, and averages the time over all their calls
        .contains("<td class=\"calls\">20</td><td class=\"failed\">3</td>")
        .contains("<td class=\"average-ms\">350</td><td class=\"prompt\">1512</td>")
        .contains("<td class=\"completion\">479</td>")
        .doesNotContain("9001").doesNotContain("8001").doesNotContain("80011")
        .doesNotContain("No questions were translated");
    var alpha = h.browser().signedIn("alpha", "viewer@alpha.test");
    assertThat(alpha.get("/console/settings").body()).contains("<td class=\"calls\">8001</td>").doesNotContain(">1301<");
  }

  @Test
  void routingRulesNeedAValidPatternAndStayInTheirTenant() throws Exception {
    var editor = h.browser().signedIn("alpha", "editor@alpha.test");
    editor.get("/console/rules");
    assertThat(editor.submit("/console/rules", Map.of("kind", "regex", "pattern", "(unclosed", "intent", "faq"))
        .statusCode()).isEqualTo(400);
    assertThat(editor.submit("/console/rules", Map.of("kind", "keyword", "pattern", "refund", "intent", "knowledge",
        "priority", "5")).statusCode()).isEqualTo(302);
    assertThat(one("SELECT intent || '/' || kind || '/' || priority FROM intent_rules WHERE pattern = 'refund'"))
        .isEqualTo("knowledge/keyword/5");
    String id = one("SELECT id FROM intent_rules WHERE pattern = 'refund'");
    var other = h.browser().signedIn("beta", "owner@beta.test");
    other.get("/console/rules");
    assertThat(other.submit("/console/rules/" + id + "/delete", Map.of()).statusCode()).isEqualTo(404);
    assertThat(one("SELECT count(*) FROM intent_rules WHERE id = '" + id + "'")).isEqualTo("1");
    var viewer = h.browser().signedIn("alpha", "viewer@alpha.test");
    assertThat(viewer.get("/console/rules").body()).contains("refund");
    assertThat(viewer.submit("/console/rules/" + id + "/delete", Map.of()).statusCode()).isEqualTo(403);
  }

  @Test
  void everyChangeLeavesAChainedAuditRowThatTheAuditPageFilters() throws Exception {
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    admin.get("/console/words");
    assertThat(admin.submit("/console/words", Map.of("words", "audit-one\naudit-two")).statusCode()).isEqualTo(302);
    String words = one("SELECT details::text FROM audit_log WHERE action = 'words.add' ORDER BY id DESC LIMIT 1");
    assertThat(words).contains("audit-one").contains("audit-two");
    assertThat(one("SELECT actor FROM audit_log WHERE action = 'words.add' ORDER BY id DESC LIMIT 1"))
        .isEqualTo("user:admin@alpha.test");
    // each row's prev_hash is the hash of the tenant's row before it
    assertThat(one("SELECT count(*) FROM (SELECT prev_hash, lag(hash) OVER (PARTITION BY tenant_id ORDER BY id) AS prev "
        + "FROM audit_log) t WHERE prev IS NOT NULL AND prev <> prev_hash")).isEqualTo("0");

    // and the platform's verifier accepts the whole chain
    var verification = await(new ai.deepchat.policy.audit.AuditLog(h.db).verify(h.alpha));
    assertThat(verification.intact()).as(String.valueOf(verification.problem())).isTrue();
    assertThat(verification.rowsChecked()).isPositive();

    HttpResponse<String> filtered = admin.get("/console/audit?action=words.add&actor=admin%40alpha");
    assertThat(filtered.statusCode()).isEqualTo(200);
    assertThat(filtered.body()).contains("<span class=\"badge\">words.add</span>")
        .doesNotContain("<span class=\"badge\">console.login</span>");
    // details: a one-line summary that opens onto indented JSON, in a table that scrolls by keyboard
    assertThat(filtered.body())
        .contains("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Audit log\">")
        .contains("<details><summary class=\"mono small\">{&quot;added&quot;:2,&quot;words&quot;:[&quot;audit-one&quot;,"
            + "&quot;audit-two&quot;]}</summary><pre>{\n  &quot;added&quot; : 2,\n  &quot;words&quot; : [");
    String many = String.join("\n", java.util.stream.IntStream.range(0, 40).mapToObj(i -> "audit-long-" + i).toList());
    assertThat(admin.submit("/console/words", Map.of("words", many)).statusCode()).isEqualTo(302);
    String page = admin.get("/console/audit?action=words.add").body();
    String summary = page.replaceAll("(?s).*?<summary class=\"mono small\">([^<]*audit-long[^<]*)</summary>.*", "$1");
    assertThat(summary.replace("&quot;", "\"")).hasSizeLessThanOrEqualTo(80).endsWith("…");
    assertThat(page).contains("audit-long-39"); // all of it once opened
    assertThat(admin.get("/console/audit?from=not-a-date").statusCode()).isEqualTo(400);
    assertThat(admin.get("/console/audit?from=2000-01-01&to=2000-01-02").body()).doesNotContain("<span class=\"badge\">words.add</span>");
    // beta's admin sees none of alpha's entries
    assertThat(h.browser().signedIn("beta", "admin@beta.test").get("/console/audit").body()).doesNotContain("audit-one");
  }

  /**
   * The overview's figures from answers of known durations (as the pipeline stores them, V25): medians
   * and p95 of time to first token and answer time, the FAQ share under its own name, the deflection
   * rate and conversations per channel. Rows without times (before V25) are left out of the times.
   */
  @Test
  void theOverviewShowsMeasuredTimesFaqShareAndDeflection() throws Exception {
    try (Connection c = h.testDb.ownerJdbc(); var st = c.createStatement()) {
      st.execute("INSERT INTO tenants (slug, name) VALUES ('metrics-co', 'Metrics Co')");
      String tenant = "(SELECT id FROM tenants WHERE slug = 'metrics-co')";
      st.execute("INSERT INTO users (tenant_id, email, password_hash, role) SELECT " + tenant + ", 'owner@metrics.test', "
          + "password_hash, 'owner' FROM users WHERE email = 'owner@alpha.test'");
      String[][] answers = {{"widget", "chat", "100", "1000"}, {"widget", "faq", "10", "10"},
          {"api", "handoff", "20", "20"}, {"api", "chat", "300", "3000"}};
      for (String[] a : answers) {
        st.execute("WITH cv AS (INSERT INTO conversations (tenant_id, channel) VALUES (" + tenant + ", '" + a[0]
            + "') RETURNING id) INSERT INTO messages (tenant_id, conversation_id, role, content, status, intent, "
            + "first_token_ms, answer_ms) SELECT " + tenant + ", cv.id, 'assistant', 'answer', 'complete', '" + a[1]
            + "', " + a[2] + ", " + a[3] + " FROM cv");
      }
      // an answer stored before the times were: counted as an answer, not in the times
      st.execute("INSERT INTO messages (tenant_id, conversation_id, role, content, status, intent) SELECT tenant_id, id, "
          + "'assistant', 'old', 'complete', 'chat' FROM conversations WHERE tenant_id = " + tenant + " AND channel = 'api' LIMIT 1");
    }
    String page = h.browser().signedIn("metrics-co", "owner@metrics.test").get("/console/").body();
    assertThat(page).contains("Time to first token (median)</div>\n      <div class=\"value\">60 ms</div>")
        .contains("<span>270 ms</span>")
        .contains("Answer time (median)</div>\n      <div class=\"value\">510 ms</div>")
        .contains("<span>2700 ms</span>")
        .contains("FAQ share</div>\n      <div class=\"value\">20.0%</div>")   // 1 of 5 answers
        .contains("Deflection rate</div>\n      <div class=\"value\">75.0%</div>") // 3 of 4 conversations
        .contains("<span>api 2 · </span><span>widget 2</span>")
        .doesNotContain("Cache hit rate");
  }
  /** Issue #22 item 4: a refused new version shows why beside its field and keeps everything typed. */
  @Test
  void aRefusedModelVersionIsExplainedBesideItsFieldWithTheFormKept() throws Exception {
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    announce("w-alpha", "served-model");
    admin.get("/console/models");
    Map<String, String> typed = new java.util.HashMap<>(Map.of("name", "r1-folder", "backend", "local",
        "location", "/models/r1-1.5b", "params", "{\"temperature\": 0.4}", "system_prompt_template", "Be brief."));
    HttpResponse<String> folder = admin.submit("/console/models", typed);
    assertThat(folder.statusCode()).isEqualTo(400);
    assertThat(errorBeside(folder.body(), "location")).contains("looks like a folder").contains("model key");
    assertThat(folder.body()).contains("value=\"r1-folder\"").contains("value=\"/models/r1-1.5b\"")
        .contains("{&quot;temperature&quot;: 0.4}").contains(">Be brief.</textarea>").contains("id=\"add-version\"");

    typed.put("location", "served-model");
    typed.put("params", "[not json");
    HttpResponse<String> params = admin.submit("/console/models", typed);
    assertThat(params.statusCode()).isEqualTo(400);
    assertThat(errorBeside(params.body(), "params")).contains("JSON object");
    assertThat(params.body()).contains(">[not json</textarea>").contains("value=\"served-model\"");

    typed.put("params", "");
    typed.put("location", "nobody-serves-this");
    assertThat(errorBeside(admin.submit("/console/models", typed).body(), "location"))
        .contains("no engine worker serves the model key").contains("served-model");
    typed.put("backend", "openai");
    typed.put("location", "http://models.example.com/v1");
    HttpResponse<String> plain = admin.submit("/console/models", typed);
    assertThat(errorBeside(plain.body(), "location")).contains("https").contains("OUTBOUND_ALLOWED_HOSTS");
    assertThat(plain.body()).contains("<option value=\"openai\" selected=\"selected\">");
    assertThat(one("SELECT count(*) FROM model_versions WHERE name = 'r1-folder'")).isEqualTo("0");

    typed.put("backend", "local");
    typed.put("location", "served-model");
    assertThat(admin.submit("/console/models", typed).statusCode()).isEqualTo(302);
    String page = admin.get("/console/models").body();
    assertThat(page).contains("data-worker=\"w-alpha\"").contains("node-test").contains("cuda:0");
    assertThat(page).containsPattern("data-version=\"r1-folder\"[\\s\\S]*?class=\"live on\"");
    assertThat(errorBeside(admin.submit("/console/models", typed).body(), "name")).contains("exists");
  }

  /** Issue #23: the form's optional adapter makes a version of a LoRA adapter, "<base>+<adapter>", as the API's. */
  @Test
  void anAdapterVersionIsAddedOverItsBaseModelKey() throws Exception {
    var admin = h.browser().signedIn("alpha", "admin@alpha.test");
    String adapter = h.alpha + ".support";
    announce("w-lora", "lora-base", "lora-base+" + adapter);
    assertThat(admin.get("/console/models").body()).contains("name=\"adapter\"");
    Map<String, String> typed = new java.util.HashMap<>(Map.of("name", "lora-v1", "backend", "openai",
        "location", "https://api.example.com/v1", "adapter", adapter));
    HttpResponse<String> openai = admin.submit("/console/models", typed);
    assertThat(openai.statusCode()).isEqualTo(400);
    assertThat(errorBeside(openai.body(), "adapter")).contains("local base model");
    assertThat(openai.body()).contains("value=\"" + adapter + "\"");
    typed.put("backend", "local");
    typed.put("location", "lora-base+" + adapter);
    assertThat(errorBeside(admin.submit("/console/models", typed).body(), "adapter")).contains("local base model");
    // another tenant's adapter is refused by the registry, beside the location it would make
    typed.put("location", "lora-base");
    typed.put("adapter", h.beta + ".support");
    assertThat(admin.submit("/console/models", typed).statusCode()).isEqualTo(400);
    assertThat(one("SELECT count(*) FROM model_versions WHERE name = 'lora-v1'")).isEqualTo("0");

    typed.put("adapter", adapter);
    assertThat(admin.submit("/console/models", typed).statusCode()).isEqualTo(302);
    assertThat(one("SELECT backend || ' ' || location FROM model_versions WHERE name = 'lora-v1'"))
        .isEqualTo("local lora-base+" + adapter);
  }

  /**
   * A shadow rollout's comparison on the page: agreement, the similarity histogram and the least similar
   * answer pairs side by side (rows written as the owner, as the pipeline would have stored them).
   */
  @Test
  void aShadowRolloutShowsItsAnswerPairsSideBySide() throws Exception {
    String tenant = one("SELECT id FROM tenants WHERE slug = 'alpha'");
    String rollout;
    try (Connection c = h.testDb.ownerJdbc(); var st = c.createStatement()) {
      st.execute("INSERT INTO model_versions (tenant_id, name, backend, location, state, stable_since) VALUES ('"
          + tenant + "', 'shadow-stable', 'openai', 'https://a.example.com/v1', 'stable', now()), ('" + tenant
          + "', 'shadow-candidate', 'openai', 'https://b.example.com/v1', 'canary', NULL)");
      try (ResultSet rs = st.executeQuery("INSERT INTO rollouts (tenant_id, mode, stable_version_id,"
          + " candidate_version_id, percentage, state, ended_at) SELECT '" + tenant + "', 'shadow', s.id, c.id, 20,"
          + " 'ended', now() FROM model_versions s, model_versions c WHERE s.name = 'shadow-stable'"
          + " AND c.name = 'shadow-candidate' RETURNING id")) {
        rs.next();
        rollout = rs.getString(1);
      }
      st.execute("INSERT INTO shadow_answers (tenant_id, rollout_id, stable_version_id, candidate_version_id, prompt,"
          + " stable_answer, candidate_answer, similarity, agreed) SELECT '" + tenant + "', r.id, r.stable_version_id,"
          + " r.candidate_version_id, 'Can I return shoes?', 'Yes, within 30 days.', 'Shoes <b>cannot</b> be returned.',"
          + " 0.31, false FROM rollouts r WHERE r.id = '" + rollout + "'");
    }
    var viewer = h.browser().signedIn("alpha", "viewer@alpha.test");
    HttpResponse<String> page = viewer.get("/console/models?rollout=" + rollout);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("Shadow answers").contains("1 answer pairs; agreement 0.0%")
        .contains("Can I return shoes?").contains("Yes, within 30 days.")
        .contains("Shoes &lt;b&gt;cannot&lt;/b&gt; be returned.").contains(">0.31<").contains("class=\"bar\"");
    assertThat(page.body()).doesNotContain("<b>cannot</b>");
    assertThat(viewer.get("/console/models?rollout=" + java.util.UUID.randomUUID()).statusCode()).isEqualTo(404);
  }

  /** The text shown beside a form field ({@code id="error-<field>"}). */
  private static String errorBeside(String body, String field) {
    Matcher m = Pattern.compile("id=\"error-" + field + "\"[^>]*>([^<]*)<").matcher(body);
    assertThat(m.find()).as("an error beside " + field).isTrue();
    return m.group(1).replace("&#39;", "'");
  }

  /** An engine worker serving these model keys announces itself on the bus, as real workers do. */
  private void announce(String worker, String... keys) throws Exception {
    h.vertx.eventBus().publish(ai.deepchat.platform.bus.Addresses.ENGINE_ANNOUNCE,
        new ai.deepchat.platform.engine.EngineMessages.WorkerAnnouncement(worker, "node-test", java.util.List.of(keys),
            0, false, "cuda:0", 2));
    var viewer = h.browser().signedIn("beta", "viewer@beta.test");
    ai.deepchat.platform.testing.Await.until("the worker is live", java.time.Duration.ofSeconds(10),
        () -> viewer.get("/console/models").body().contains("data-worker=\"" + worker + "\""));
  }
}
