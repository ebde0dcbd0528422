package ai.deepchat.limits;

import ai.deepchat.bench.BenchTenants;
import ai.deepchat.bench.NoisyNeighbour;
import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Limits that cannot be bypassed or turned against a tenant, on one real node (embedded PostgreSQL,
 * the bundled tiny model, real HTTP). Clients leave from different loopback addresses (127.0.0.x) so
 * the node sees several client addresses.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TenantLimitsTest {

  private static final String ORIGIN = "https://shop.example";
  private static final int NEW_VISITORS_PER_MINUTE = 3;

  @TempDir
  static Path dataDir;
  static Node node;
  static Vertx vertx;
  static final List<WebClient> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", dataDir.toString(), "HTTP_HOST", "127.0.0.1",
        "HTTP_PORT", "0", "SEED_DEMO", "false",
        "RATE_LIMIT_NEW_VISITORS_PER_MINUTE", String.valueOf(NEW_VISITORS_PER_MINUTE)), new String[0]));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    clients.forEach(WebClient::close);
    if (vertx != null) {
      await(vertx.close());
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  void mintingVisitorsFromOneAddressIsLimitedOtherAddressesAreNot() throws Exception {
    JsonObject t = BenchTenants.create(node, "minting", ORIGIN, new JsonObject(), BenchTenants.Limits.UNLIMITED);
    WebClient from2 = client("127.0.0.2");
    for (int i = 0; i < NEW_VISITORS_PER_MINUTE; i++) {
      assertThat(session(from2, t, null).statusCode()).isEqualTo(200);
    }
    HttpResponse<Buffer> minted = session(from2, t, null);
    assertThat(minted.statusCode()).isEqualTo(429);
    assertThat(Long.parseLong(minted.getHeader("Retry-After"))).isPositive();
    assertThat(minted.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("rate_limit_exceeded");
    // another address still gets visitors; a returning visitor (its own token) is no new visitor
    HttpResponse<Buffer> other = session(client("127.0.0.3"), t, null);
    assertThat(other.statusCode()).isEqualTo(200);
    String token = other.bodyAsJsonObject().getString("visitorToken");
    assertThat(session(from2, t, token).statusCode()).isEqualTo(200);
  }

  @Test
  void visitorsCannotSpendTheBudgetOfTheTenantsApiKeys() throws Exception {
    JsonObject t = BenchTenants.create(node, "channels", ORIGIN, new JsonObject().put("max_tokens", 2),
        new BenchTenants.Limits(3, 1000, 1000));
    WebClient web = client("127.0.0.4");
    String token = session(web, t, null).bodyAsJsonObject().getString("visitorToken");
    int refused = 0;
    for (int i = 0; i < 5; i++) {
      HttpResponse<Buffer> r = await(web.post(node.httpPort(), "127.0.0.1", "/widget/chat")
          .putHeader("Authorization", "Bearer " + token).putHeader("Origin", ORIGIN)
          .sendJsonObject(new JsonObject().put("text", "hello " + i).put("conversationId", (String) null)
              .put("clientMessageId", UUID.randomUUID().toString())));
      refused += r.statusCode() == 429 ? 1 : 0;
    }
    assertThat(refused).as("the widget's share of the tenant limit is spent").isPositive();
    // the tenant's own integration is untouched
    HttpResponse<Buffer> api = models(web, t.getString("apiKey"));
    assertThat(api.statusCode()).as(api.bodyAsString()).isEqualTo(200);
  }

  @Test
  void knowledgeBaseAndAdminApisAnswer429WithRetryAfterPastTheirLimit() throws Exception {
    JsonObject t = BenchTenants.create(node, "apis", ORIGIN, new JsonObject(), new BenchTenants.Limits(1000, 1000, 3));
    String adminKey = BenchTenants.apiKey(node, UUID.fromString(t.getString("tenantId")));
    WebClient web = client("127.0.0.5");
    for (String[] call : new String[][] {{t.getString("apiKey"), "/v1/knowledge-bases"},
        {adminKey, "/v1/admin/model-versions"},
        {BenchTenants.apiKey(node, UUID.fromString(t.getString("tenantId"))), "/v1/admin/datasets"}}) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<Buffer> ok = get(web, call[0], call[1]);
        assertThat(ok.statusCode()).as(call[1] + " " + ok.bodyAsString()).isEqualTo(200);
      }
      HttpResponse<Buffer> over = get(web, call[0], call[1]);
      assertThat(over.statusCode()).as(call[1]).isEqualTo(429);
      assertThat(Long.parseLong(over.getHeader("Retry-After"))).as(call[1]).isPositive();
      assertThat(over.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("rate_limit_exceeded");
    }
  }

  @Test
  void malformedChatRequestsCountAgainstTheKeysLimit() throws Exception {
    JsonObject t = BenchTenants.create(node, "malformed", ORIGIN, new JsonObject(), new BenchTenants.Limits(1000, 1000, 2));
    WebClient web = client("127.0.0.6");
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      statuses.add(await(web.post(node.httpPort(), "127.0.0.1", "/v1/chat/completions")
          .putHeader("Authorization", "Bearer " + t.getString("apiKey")).putHeader("Content-Type", "application/json")
          .sendBuffer(Buffer.buffer("{not json"))).statusCode());
    }
    assertThat(statuses).containsExactly(400, 400, 429);
  }

  /**
   * Scenario 4, short: A at 10x its quota in alternate phases, B steady. In every run, A's excess is
   * refused with Retry-After, A gets no more than its quota, and B gets no 429 and no error. B's p99
   * must stay within 10% of its p99 alone plus a noise allowance of at least 25 ms, more when B's p99
   * differs that much between its own alone phases, in one of up to three runs: on a shared two-core CI
   * machine the p99 of millisecond requests jumps by tens of milliseconds from scheduling and GC alone,
   * while a neighbour that really slows B down does so in every run. bench/neighbour runs the long
   * version with the strict criterion.
   */
  @Test
  void aTenantAtTenTimesItsQuotaLeavesTheOtherTenantAlone() throws Exception {
    JsonObject b = BenchTenants.create(node, "quiet-b", ORIGIN, new JsonObject(), BenchTenants.Limits.UNLIMITED);
    boolean latencyKept = false;
    for (int run = 0; run < 3 && !latencyKept; run++) {
      JsonObject a = BenchTenants.create(node, "noisy-a" + run, ORIGIN, new JsonObject(),
          new BenchTenants.Limits(1_000_000, 1000, 120));
      NoisyNeighbour.Result r = NoisyNeighbour.run(vertx, new NoisyNeighbour.Settings(node.httpPort(),
          a.getString("apiKey"), 120, 10, b.getString("apiKey"), 25, 2.0, 3, 0.10, 25, true));
      System.out.println(r.report());
      assertThat(r.b429()).as(r.report()).isZero();
      assertThat(r.bErrors()).as(r.report()).isZero();
      assertThat(r.a429()).as(r.report()).isPositive();
      assertThat(r.a429WithoutRetryAfter() + r.aOther()).as(r.report()).isZero();
      assertThat((double) r.aAdmitted()).as(r.report()).isLessThanOrEqualTo(r.aAllowed());
      latencyKept = r.passed();
    }
    assertThat(latencyKept).as("B's p99 within its bound in one of three runs").isTrue();
  }

  private static WebClient client(String localAddress) {
    WebClient c = WebClient.create(vertx, new WebClientOptions().setLocalAddress(localAddress));
    clients.add(c);
    return c;
  }

  private static HttpResponse<Buffer> session(WebClient c, JsonObject tenant, String visitorToken) throws Exception {
    JsonObject body = new JsonObject().put("key", tenant.getString("widgetKey"));
    if (visitorToken != null) {
      body.put("visitorToken", visitorToken);
    }
    return await(c.post(node.httpPort(), "127.0.0.1", "/widget/session").putHeader("Origin", ORIGIN)
        .sendJsonObject(body));
  }

  private static HttpResponse<Buffer> models(WebClient c, String apiKey) throws Exception {
    return get(c, apiKey, "/v1/models");
  }

  private static HttpResponse<Buffer> get(WebClient c, String apiKey, String path) throws Exception {
    return await(c.get(node.httpPort(), "127.0.0.1", path).putHeader("Authorization", "Bearer " + apiKey).send());
  }
}
