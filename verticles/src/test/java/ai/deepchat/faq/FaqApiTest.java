package ai.deepchat.faq;

import ai.deepchat.canary.CanaryTestSupport;
import ai.deepchat.chat.api.ApiKeyAuth;
import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.ratelimit.LocalRateLimiter;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** FAQ import and export over real HTTP through the gateway, with tenant API keys and real PostgreSQL. */
@ExtendWith(VertxExtension.class)
class FaqApiTest {

  static Database db;
  static WebClient http;
  static int port;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    db = TestDatabase.fresh(vertx).database();
    Platform platform = CanaryTestSupport.platform(db, Map.of());
    RequestLimits limits = new RequestLimits(vertx, db, new LocalRateLimiter(Clock.systemUTC(), 1000));
    GatewayVerticle gateway = new GatewayVerticle(platform, List.of(new FaqApiModule(new ApiKeyAuth(db), limits,
        new FaqTransfer(vertx, db, new AuditLog(db)))));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    http = WebClient.create(vertx);
  }

  @Test
  void importsMergeReplaceAndExportWithinTheTenant() throws Exception {
    UUID a = CanaryTestSupport.createTenant(db, "faq-a");
    UUID b = CanaryTestSupport.createTenant(db, "faq-b");
    String keyA = CanaryTestSupport.apiKey(db, a);
    String keyB = CanaryTestSupport.apiKey(db, b);
    JsonObject first = ok(post(keyA, "text/csv", "question,answer,enabled\nOpening hours?,9 to 6.,true\n"
        + "Refunds?,Within 7 days.,false\n"));
    assertThat(first.getInteger("inserted")).isEqualTo(2);
    ok(post(keyB, "text/csv", "question,answer\nB only?,B's answer.\n"));

    // merge: a known question is updated in place (its embedding kept, and its state, as the file has no enabled
    // column), a new one added
    JsonObject merged = ok(post(keyA, "text/csv", "question,answer\nRefunds?,Within 14 days.\nShipping?,Free.\n"));
    assertThat(merged.getInteger("updated")).isEqualTo(1);
    assertThat(merged.getInteger("inserted")).isEqualTo(1);
    assertThat(rows(a)).containsExactly("Opening hours?=9 to 6.=true", "Refunds?=Within 14 days.=false",
        "Shipping?=Free.=true");

    // exported, and imported back as XLSX replacing everything: the same answers
    HttpResponse<Buffer> xlsx = await(http.get(port, "127.0.0.1", "/v1/faq/export?format=xlsx")
        .putHeader("Authorization", "Bearer " + keyA).send());
    assertThat(xlsx.statusCode()).isEqualTo(200);
    assertThat(xlsx.getHeader("Content-Type")).isEqualTo(FaqFormat.XLSX.contentType());
    JsonObject replaced = ok(await(http.post(port, "127.0.0.1", "/v1/faq/import?format=xlsx&mode=replace")
        .putHeader("Authorization", "Bearer " + keyA).sendBuffer(xlsx.body())));
    assertThat(replaced.getInteger("deleted")).isEqualTo(3);
    assertThat(replaced.getInteger("inserted")).isEqualTo(3);
    assertThat(rows(a)).containsExactly("Opening hours?=9 to 6.=true", "Refunds?=Within 14 days.=false",
        "Shipping?=Free.=true");
    // the other tenant kept its answer and sees none of A's
    assertThat(rows(b)).containsExactly("B only?=B's answer.=true");
    String csvB = await(http.get(port, "127.0.0.1", "/v1/faq/export").putHeader("Authorization", "Bearer " + keyB)
        .send()).bodyAsString(StandardCharsets.UTF_8.name());
    assertThat(csvB).contains("B only?").doesNotContain("Refunds");
    long audited = await(db.inTenant(a, c -> c.query("SELECT count(*) FROM audit_log WHERE action = 'faq.import'")
        .execute().map(r -> r.iterator().next().getLong(0))));
    assertThat(audited).isEqualTo(3);
  }

  @Test
  void aFileWithBadRowsIsRefusedWholeWithEveryRowNamed() throws Exception {
    UUID t = CanaryTestSupport.createTenant(db, "faq-bad");
    String key = CanaryTestSupport.apiKey(db, t);
    ok(post(key, "text/csv", "question,answer\nKept?,Yes.\n"));
    HttpResponse<Buffer> refused = post(key, "text/csv", "question,answer\nNew one?,Fine.\n,No question.\n"
        + "Kept?,\n");
    assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(400);
    JsonObject error = refused.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo("invalid_rows");
    assertThat(error.getJsonArray("rows").stream().map(r -> ((JsonObject) r).getInteger("row") + ":"
        + ((JsonObject) r).getString("column"))).containsExactly("3:question", "4:answer");
    // nothing of it applied: not even its good first row
    assertThat(rows(t)).containsExactly("Kept?=Yes.=true");

    assertThat(code(post(key, "application/json", "{}"))).isEqualTo("invalid_value");
    assertThat(code(await(http.post(port, "127.0.0.1", "/v1/faq/import?format=csv&dry=1")
        .putHeader("Authorization", "Bearer " + key).sendBuffer(Buffer.buffer("question,answer\nq,a\n")))))
        .isEqualTo("invalid_value");
    assertThat(code(await(http.post(port, "127.0.0.1", "/v1/faq/import?format=csv&mode=overwrite")
        .putHeader("Authorization", "Bearer " + key).sendBuffer(Buffer.buffer("question,answer\nq,a\n")))))
        .isEqualTo("invalid_value");
    HttpResponse<Buffer> anonymous = await(http.post(port, "127.0.0.1", "/v1/faq/import?format=csv")
        .sendBuffer(Buffer.buffer("question,answer\nq,a\n")));
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(rows(t)).containsExactly("Kept?=Yes.=true");
  }

  private static HttpResponse<Buffer> post(String key, String type, String body) throws Exception {
    HttpRequest<Buffer> req = http.post(port, "127.0.0.1", "/v1/faq/import").putHeader("Authorization", "Bearer " + key)
        .putHeader("Content-Type", type);
    return await(req.sendBuffer(Buffer.buffer(body)));
  }

  private static JsonObject ok(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    return response.bodyAsJsonObject();
  }

  private static String code(HttpResponse<Buffer> response) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(400);
    return response.bodyAsJsonObject().getJsonObject("error").getString("code");
  }

  private static List<String> rows(UUID tenant) throws Exception {
    return await(db.inTenant(tenant, c -> c.query("SELECT question, answer, enabled FROM faq_entries "
        + "ORDER BY question").execute().map(rows -> {
          List<String> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(r.getString(0) + "=" + r.getString(1) + "=" + r.getBoolean(2));
          }
          return out;
        })));
  }
}
