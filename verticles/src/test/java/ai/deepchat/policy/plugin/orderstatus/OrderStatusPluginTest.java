package ai.deepchat.policy.plugin.orderstatus;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.platform.outbound.OutboundRefusedException;
import ai.deepchat.policy.plugin.PluginContext;
import ai.deepchat.policy.plugin.PluginOutcome;
import ai.deepchat.policy.plugin.PluginRegistry;
import ai.deepchat.policy.plugin.PostResult;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The order-status plugin loaded by ServiceLoader, configured per tenant in the real database, calling
 * a local Vert.x server that stands in for the tenant's order API. The node's operator allow-lists that
 * server (127.0.0.1:port), as OUTBOUND_ALLOWED_HOSTS would; nothing a tenant writes opens loopback.
 */
@ExtendWith(VertxExtension.class)
class OrderStatusPluginTest {

  static Database db;
  static int port;
  static final List<String> requests = new CopyOnWriteArrayList<>();
  static PluginRegistry registry;
  static OutboundPolicy operatorAllowsTheServer;

  @BeforeAll
  static void setUp(Vertx vertx) throws Exception {
    db = TestDatabase.fresh(vertx).database();
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      requests.add(ctx.request().path() + " host=" + ctx.request().authority().host());
      ctx.next();
    });
    router.get("/orders/NOTFOUND1").handler(ctx -> ctx.response().setStatusCode(404).end());
    router.get("/orders/:id").handler(ctx -> ctx.json(new JsonObject()
        .put("order", new JsonObject().put("id", ctx.pathParam("id")).put("status", "shipped"))));
    router.get("/redirect/:id").handler(ctx -> ctx.response().setStatusCode(302)
        .putHeader("Location", "http://127.0.0.1:" + port + "/orders/" + ctx.pathParam("id")).end());
    router.get("/slow/:id").handler(ctx -> { /* never answers */ });
    router.get("/big/:id").handler(ctx -> ctx.json(new JsonObject().put("status", "x".repeat(100_000))));
    HttpServer server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    port = server.actualPort();
    operatorAllowsTheServer = new OutboundPolicy(List.of("127.0.0.1:" + port), ai.deepchat.platform.outbound.HostResolver.SYSTEM);
    registry = PluginRegistry.load(vertx, db, operatorAllowsTheServer);
  }

  @BeforeEach
  void clear() {
    requests.clear();
  }

  static JsonObject config(String path) {
    return new JsonObject()
        .put("urlTemplate", "http://127.0.0.1:" + port + path + "{order}")
        .put("allowedHosts", new JsonArray().add("127.0.0.1"))
        .put("httpAllowedHosts", new JsonArray().add("127.0.0.1"))
        .put("statusField", "order.status")
        .put("answerTemplate", "订单 {order} 状态：{status}")
        .put("timeoutMs", 1500);
  }

  static UUID tenantWith(String slug, JsonObject config, boolean enabled) throws Exception {
    UUID t = createTenant(db, slug);
    await(db.inTenant(t, c -> c.preparedQuery(
            "INSERT INTO plugin_configs (tenant_id, plugin, enabled, config) VALUES ($1, 'order-status', $2, $3)")
        .execute(Tuple.of(t, enabled, config))));
    return t;
  }

  @Test
  void serviceLoaderFindsThePlugin() {
    assertThat(registry.available()).containsKey(OrderStatusPlugin.NAME);
  }

  @Test
  void answersWithTheStatusFromTheAllowListedServer() throws Exception {
    UUID t = tenantWith("orders-ok", config("/orders/"), true);
    PluginOutcome out = await(registry.preProcess(t, "Hi, where is my order #AB123456? Thanks"));
    assertThat(out.answered()).isTrue();
    assertThat(out.answer()).isEqualTo("订单 AB123456 状态：shipped");
    assertThat(out.answeredBy()).isEqualTo("order-status");
    assertThat(requests).containsExactly("/orders/AB123456 host=127.0.0.1");

    PluginOutcome chinese = await(registry.preProcess(t, "我的订单号：CN2024001 到哪了"));
    assertThat(chinese.answer()).isEqualTo("订单 CN2024001 状态：shipped");
    assertThat(await(registry.preProcess(t, "Order No. XY-778899 status?")).answer())
        .isEqualTo("订单 XY-778899 状态：shipped");

    PluginOutcome none = await(registry.preProcess(t, "What are your opening hours?"));
    assertThat(none.answered()).isFalse();
    assertThat(none.message()).isEqualTo("What are your opening hours?");
    PostResult post = await(registry.postHooks(t).compose(hooks -> hooks.run("q", "the answer")));
    assertThat(post).isEqualTo(PostResult.keep());
  }

  @Test
  void unknownOrderGetsTheNotFoundAnswer() throws Exception {
    UUID t = tenantWith("orders-404", config("/orders/").put("notFoundAnswer", "No order {order}."), true);
    assertThat(await(registry.preProcess(t, "order NOTFOUND1 please")).answer()).isEqualTo("No order NOTFOUND1.");
  }

  @Test
  void aTenantCannotOpenLoopbackItselfOnlyTheOperatorCan(Vertx vertx) throws Exception {
    // the tenant's own development flag (formerly honoured) and host lists name the server: still refused
    JsonObject tenantOpensLoopback = config("/orders/").put("allowLoopbackForDevelopment", true);
    PluginRegistry strictNode = PluginRegistry.load(vertx, db, OutboundPolicy.strict());
    UUID t = tenantWith("orders-noflag", tenantOpensLoopback, true);
    PluginOutcome out = await(strictNode.preProcess(t, "where is order AB123456"));
    assertThat(out.answered()).isFalse();
    assertThat(out.message()).isEqualTo("where is order AB123456");
    assertThat(requests).isEmpty();
    assertThatThrownBy(() -> await(lookup(vertx, tenantOpensLoopback, "AB123456", OutboundPolicy.strict())))
        .hasCauseInstanceOf(OutboundRefusedException.class)
        .hasMessageContaining("loopback");
    assertThatThrownBy(() -> strictNode.validate("order-status", tenantOpensLoopback))
        .hasMessageContaining("urlTemplate refused").hasMessageContaining("loopback");
    assertThat(requests).isEmpty();
  }

  @Test
  void aNameThatResolvesToLoopbackIsRefusedToo(Vertx vertx) {
    JsonObject c = config("/orders/").put("urlTemplate", "http://localhost:" + port + "/orders/{order}")
        .put("allowedHosts", new JsonArray().add("localhost")).put("httpAllowedHosts", new JsonArray().add("localhost"));
    assertThatThrownBy(() -> await(lookup(vertx, c, "AB123456", operatorAllowsTheServer))).hasMessageContaining("loopback");
    // the operator's entry names 127.0.0.1:port, not every name that points there
    OutboundPolicy resolvesToLoopback = new OutboundPolicy(List.of("127.0.0.1:" + port),
        host -> List.of(java.net.InetAddress.getByName("127.0.0.1")));
    JsonObject named = c.copy().put("urlTemplate", "http://orders.example.com:" + port + "/orders/{order}")
        .put("allowedHosts", new JsonArray().add("orders.example.com"))
        .put("httpAllowedHosts", new JsonArray().add("orders.example.com"));
    assertThatThrownBy(() -> await(lookup(vertx, named, "AB123456", resolvesToLoopback))).hasMessageContaining("loopback");
    assertThat(requests).isEmpty();
  }

  @Test
  void theTenantsHostListsStillNarrowWhatIsCalled() {
    OutboundPolicy any = OutboundPolicy.strict();
    OrderStatusConfig c = OrderStatusConfig.parse(new JsonObject()
        .put("urlTemplate", "https://SHOP.example.com/api/orders/{order}")
        .put("allowedHosts", new JsonArray().add("shop.example.com").add("Legacy.Example.com"))
        .put("httpAllowedHosts", new JsonArray().add("legacy.example.com")), any);
    assertThat(c.target("https://shop.example.com/api/orders/1?x=1", any).pathAndQuery()).isEqualTo("/api/orders/1?x=1");
    assertThat(c.target("http://legacy.example.com:8080/o", any).port()).isEqualTo(8080);
    assertThatThrownBy(() -> c.target("https://evil.com/", any)).hasMessageContaining("allow-list");
    assertThatThrownBy(() -> c.target("https://api.shop.example.com/", any)).hasMessageContaining("allow-list");
    assertThatThrownBy(() -> c.target("https://shop.example.com.evil.com/", any)).hasMessageContaining("allow-list");
    assertThatThrownBy(() -> c.target("http://shop.example.com/", any)).hasMessageContaining("https required");
    assertThatThrownBy(() -> c.target("https://user:pw@shop.example.com/", any)).hasMessageContaining("user info");
  }

  @Test
  void internalAddressesAreRefusedWhenSaved() {
    // refused by the configuration check, which never connects; every target is loopback the operator did
    // not list (private, link-local and metadata ranges go through the same check and are classified in
    // OutboundPolicyTest, where nothing connects either)
    for (String host : new String[] {"127.0.0.2", "[::1]", "0x7f000001", "localhost"}) {
      JsonObject c = config("/").put("urlTemplate", "http://" + host + "/latest/{order}")
          .put("allowedHosts", new JsonArray().add(host)).put("httpAllowedHosts", new JsonArray().add(host));
      assertThatThrownBy(() -> registry.validate("order-status", c)).as(host)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void redirectsAreNotFollowed(Vertx vertx) {
    assertThatThrownBy(() -> await(lookup(vertx, config("/redirect/"), "AB123456")))
        .hasMessageContaining("redirect");
    assertThat(requests).containsExactly("/redirect/AB123456 host=127.0.0.1");
  }

  @Test
  void slowAndOversizedRepliesFail(Vertx vertx) throws Exception {
    long start = System.nanoTime();
    assertThatThrownBy(() -> await(lookup(vertx, config("/slow/"), "AB123456"))).isNotNull();
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    assertThatThrownBy(() -> await(lookup(vertx, config("/big/").put("statusField", "status"), "AB123456")))
        .hasMessageContaining("larger than");
    // a failed lookup lets the message go on to the model
    UUID t = tenantWith("orders-slow", config("/slow/"), true);
    assertThat(await(registry.preProcess(t, "order AB123456")).answered()).isFalse();
  }

  @Test
  void aCatastrophicOrderPatternGivesUpAndTheMessageGoesOn() throws Exception {
    // with a back-reference Java cannot memoize (a+)+: 26 a's take seconds, 40 take hours; without a
    // step budget this match would hold the event loop for ever
    UUID t = tenantWith("orders-redos", config("/orders/").put("orderPattern", "(a+)+\\1b"), true);
    PluginOutcome out = await(registry.preProcess(t, "a".repeat(40) + "!"));
    assertThat(out.answered()).isFalse();
    assertThat(requests).isEmpty();
  }

  @Test
  void disabledPluginDoesNotRun() throws Exception {
    UUID t = tenantWith("orders-off", config("/orders/"), false);
    assertThat(await(registry.preProcess(t, "order AB123456")).answered()).isFalse();
    assertThat(requests).isEmpty();
  }

  @Test
  void invalidConfigurationsAreExplained() {
    assertThatThrownBy(() -> registry.validate("order-status", new JsonObject()))
        .hasMessageContaining("urlTemplate");
    assertThatThrownBy(() -> registry.validate("order-status", config("/orders/").put("orderPattern", "(")))
        .hasMessageContaining("orderPattern");
    assertThatThrownBy(() -> registry.validate("order-status", config("/orders/")
        .put("httpAllowedHosts", new JsonArray()))).hasMessageContaining("https required");
    assertThatThrownBy(() -> registry.validate("nope", new JsonObject())).hasMessageContaining("no plugin");
  }

  private static io.vertx.core.Future<String> lookup(Vertx vertx, JsonObject config, String order) {
    return lookup(vertx, config, order, operatorAllowsTheServer);
  }

  private static io.vertx.core.Future<String> lookup(Vertx vertx, JsonObject config, String order,
                                                      OutboundPolicy outbound) {
    OrderStatusPlugin plugin = new OrderStatusPlugin();
    try {
      return plugin.lookup(new PluginContext(vertx, UUID.randomUUID(), config, vertx.createHttpClient(), outbound),
          OrderStatusConfig.parse(config, outbound), order);
    } catch (IllegalArgumentException e) {
      return io.vertx.core.Future.failedFuture(new OutboundRefusedException(e.getMessage()));
    }
  }
}
