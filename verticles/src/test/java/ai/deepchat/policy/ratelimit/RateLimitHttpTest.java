package ai.deepchat.policy.ratelimit;

import ai.deepchat.policy.MutableClock;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static ai.deepchat.policy.PolicyTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

/** The tenant's limits from the database, enforced over real HTTP with 429 and Retry-After. */
@ExtendWith(VertxExtension.class)
class RateLimitHttpTest {

  static final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  static Database db;
  static UUID tenant;
  static UUID other;
  static RequestLimits limits;
  static int port;
  static WebClient client;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    db = TestDatabase.fresh(vertx).database();
    tenant = createTenant(db, "limited");
    other = createTenant(db, "other");
    exec(db, tenant, "UPDATE tenant_settings SET visitor_requests_per_minute = 2, requests_per_minute = 3");
    limits = new RequestLimits(vertx, db, new LocalRateLimiter(clock, 1000));
    Router router = Router.router(vertx);
    router.post("/chat/:tenant/:visitor")
        .handler(RateLimitHttp.handler(ctx -> limits.checkVisitor(UUID.fromString(ctx.pathParam("tenant")),
            ctx.pathParam("visitor"))))
        .handler(ctx -> ctx.response().end("ok"));
    HttpServer server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    port = server.actualPort();
    client = WebClient.create(vertx);
  }

  private HttpResponse<Buffer> post(UUID t, String visitor) throws Exception {
    return await(client.post(port, "127.0.0.1", "/chat/" + t + "/" + visitor).send());
  }

  @Test
  void visitorGets429WithRetryAfterOnceItsBucketIsEmptyAndAgain200AfterRefill() throws Exception {
    assertThat(await(limits.limits(tenant))).isEqualTo(new RequestLimits.Limits(3, 120, 2));
    assertThat(post(tenant, "v1").statusCode()).isEqualTo(200);
    assertThat(post(tenant, "v1").statusCode()).isEqualTo(200);
    HttpResponse<Buffer> limited = post(tenant, "v1");
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.getHeader("Retry-After")).isEqualTo("30");
    JsonObject error = limited.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo("rate_limit_error");
    assertThat(error.getString("code")).isEqualTo("rate_limit_exceeded");

    // another visitor still has its own bucket, and the tenant one token left (3 per minute)
    assertThat(post(tenant, "v2").statusCode()).isEqualTo(200);
    HttpResponse<Buffer> tenantLimited = post(tenant, "v3");
    assertThat(tenantLimited.statusCode()).isEqualTo(429);
    assertThat(tenantLimited.getHeader("Retry-After")).isEqualTo("20");
    // another tenant is not affected
    assertThat(post(other, "v1").statusCode()).isEqualTo(200);

    clock.advance(Duration.ofSeconds(30));
    assertThat(post(tenant, "v1").statusCode()).isEqualTo(200);
  }
}
