package ai.deepchat.policy.privacy;

import ai.deepchat.gateway.GatewayVerticle;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.security.TenantKeys;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.ratelimit.LocalRateLimiter;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static org.assertj.core.api.Assertions.assertThat;

/** DELETE /v1/visitors/{id} through the real gateway, against the real database. */
@ExtendWith(VertxExtension.class)
class VisitorDeletionTest {

  static TestDatabase testDb;
  static Database db;
  static int port;
  static WebClient client;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    testDb = TestDatabase.fresh(vertx);
    db = testDb.database();
    Platform platform = new Platform(ConfigLoader.load(Map.of("HTTP_HOST", "127.0.0.1", "HTTP_PORT", "0"),
        new String[0]), db, "test");
    VisitorDeletionModule module = new VisitorDeletionModule(db, new AuditLog(db),
        new RequestLimits(vertx, db, new LocalRateLimiter(Clock.systemUTC(), 1000)));
    GatewayVerticle gateway = new GatewayVerticle(platform, List.of(module));
    await(vertx.deployVerticle(gateway));
    port = gateway.actualPort();
    client = WebClient.create(vertx);
  }

  private static String newKey(UUID tenant) throws Exception {
    TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
    await(db.inTenant(tenant, c -> c.preparedQuery(
            "INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) VALUES ($1, 'test', $2, $3)")
        .execute(Tuple.of(tenant, key.prefix(), key.hash()))));
    return key.plaintext();
  }

  private static void conversation(UUID tenant, String visitor, int messages) throws Exception {
    await(db.inTenant(tenant, c -> c.preparedQuery(
            "INSERT INTO conversations (tenant_id, visitor_id, channel) VALUES ($1, $2, 'widget') RETURNING id")
        .execute(Tuple.of(tenant, visitor))
        .compose(rows -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content)"
                + " SELECT $1, $2, 'user', 'hello ' || g FROM generate_series(1, $3) g")
            .execute(Tuple.of(tenant, rows.iterator().next().getUUID("id"), messages)))));
  }

  private static long count(String sql, Object... params) throws Exception {
    try (Connection c = testDb.ownerJdbc(); PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        st.setObject(i + 1, params[i]);
      }
      ResultSet rs = st.executeQuery();
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long conversations(UUID tenant, String visitor) throws Exception {
    return count("SELECT count(*) FROM conversations WHERE tenant_id = ? AND visitor_id = ?", tenant, visitor);
  }

  private static long messages(UUID tenant, String visitor) throws Exception {
    return count("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        + " WHERE c.tenant_id = ? AND c.visitor_id = ?", tenant, visitor);
  }

  private static HttpResponse<Buffer> delete(String visitor, String key) throws Exception {
    var req = client.delete(port, "127.0.0.1", "/v1/visitors/" + visitor);
    if (key != null) {
      req.putHeader("Authorization", "Bearer " + key);
    }
    return await(req.send());
  }

  @Test
  void deletesEverythingOfTheVisitorAndNothingElse() throws Exception {
    UUID a = createTenant(db, "shop-a");
    UUID b = createTenant(db, "shop-b");
    String keyA = newKey(a);
    conversation(a, "vis-1", 3);
    conversation(a, "vis-1", 2);
    conversation(a, "vis-2", 4);
    conversation(b, "vis-1", 5);

    HttpResponse<Buffer> resp = delete("vis-1", keyA);
    assertThat(resp.statusCode()).isEqualTo(200);
    JsonObject body = resp.bodyAsJsonObject();
    assertThat(body.getString("visitor_id")).isEqualTo("vis-1");
    assertThat(body.getLong("conversations_deleted")).isEqualTo(2);
    assertThat(body.getLong("messages_deleted")).isEqualTo(5);

    assertThat(conversations(a, "vis-1")).isZero();
    assertThat(count("SELECT count(*) FROM messages WHERE tenant_id = ? AND content LIKE 'hello%'", a)).isEqualTo(4);
    assertThat(conversations(a, "vis-2")).isEqualTo(1);
    assertThat(messages(a, "vis-2")).isEqualTo(4);
    // the same visitor id in another tenant is another person
    assertThat(conversations(b, "vis-1")).isEqualTo(1);
    assertThat(messages(b, "vis-1")).isEqualTo(5);

    assertThat(count("SELECT count(*) FROM audit_log WHERE tenant_id = ? AND action = 'visitor.deleted'"
        + " AND target = 'vis-1' AND (details->>'messages')::int = 5", a)).isEqualTo(1);
    assertThat(await(new AuditLog(db).verify(a)).intact()).isTrue();

    assertThat(count("SELECT count(*) FROM api_keys WHERE tenant_id = ? AND last_used_at IS NOT NULL", a)).isEqualTo(1);

    HttpResponse<Buffer> again = delete("vis-1", keyA);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.bodyAsJsonObject().getLong("conversations_deleted")).isZero();
  }

  @Test
  void refusesMissingRevokedAndForgedKeys() throws Exception {
    UUID t = createTenant(db, "shop-auth");
    conversation(t, "vis-9", 1);
    assertThat(delete("vis-9", null).statusCode()).isEqualTo(401);
    assertThat(delete("vis-9", "dck_nonsense").statusCode()).isEqualTo(401);
    String key = newKey(t);
    // a well-formed key naming this tenant but never issued
    String forged = key.substring(0, key.length() - 4) + (key.endsWith("AAAA") ? "BBBB" : "AAAA");
    HttpResponse<Buffer> forgedResp = delete("vis-9", forged);
    assertThat(forgedResp.statusCode()).isEqualTo(401);
    assertThat(forgedResp.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("invalid_api_key");
    await(db.inTenant(t, c -> c.query("UPDATE api_keys SET revoked_at = now()").execute()));
    assertThat(delete("vis-9", key).statusCode()).isEqualTo(401);
    assertThat(conversations(t, "vis-9")).isEqualTo(1);
  }

  @Test
  void anotherTenantsKeyCannotReachThisTenantsVisitors() throws Exception {
    UUID owner = createTenant(db, "shop-owner");
    UUID intruder = createTenant(db, "shop-intruder");
    conversation(owner, "shared-id", 2);
    HttpResponse<Buffer> resp = delete("shared-id", newKey(intruder));
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.bodyAsJsonObject().getLong("conversations_deleted")).isZero();
    assertThat(conversations(owner, "shared-id")).isEqualTo(1);
  }

  @Test
  void suspendedTenantIs403() throws Exception {
    UUID t = createTenant(db, "shop-suspended");
    String key = newKey(t);
    conversation(t, "vis-s", 1);
    // suspending is an operator's job: the app role may not update tenants
    try (Connection c = testDb.ownerJdbc(); PreparedStatement st = c.prepareStatement(
        "UPDATE tenants SET status = 'suspended' WHERE id = ?")) {
      st.setObject(1, t);
      st.executeUpdate();
    }
    HttpResponse<Buffer> resp = delete("vis-s", key);
    assertThat(resp.statusCode()).isEqualTo(403);
    assertThat(resp.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("tenant_suspended");
    assertThat(conversations(t, "vis-s")).isEqualTo(1);
  }

  @Test
  void malformedVisitorIdIs400() throws Exception {
    UUID t = createTenant(db, "shop-bad");
    HttpResponse<Buffer> resp = delete("bad%20id", newKey(t));
    assertThat(resp.statusCode()).isEqualTo(400);
    assertThat(resp.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("invalid_visitor_id");
  }
}
