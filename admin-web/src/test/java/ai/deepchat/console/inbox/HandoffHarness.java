package ai.deepchat.console.inbox;

import ai.deepchat.platform.testing.WebSockets;
import ai.deepchat.chat.widget.VisitorSockets;
import ai.deepchat.chat.widget.WidgetModule;
import ai.deepchat.console.ConsoleModule;
import ai.deepchat.handoff.HandoffNode;
import ai.deepchat.handoff.Handoffs;
import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.platform.security.JwtSecret;
import ai.deepchat.platform.security.PasswordHasher;
import ai.deepchat.platform.security.TenantKeys;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.ratelimit.RateLimiters;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.sqlclient.Tuple;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static ai.deepchat.platform.testing.Await.await;

/**
 * The widget and the console on one real HTTP server over a fresh PostgreSQL: what a visitor and an agent
 * use in a handoff. Tenants have an owner, an admin, a viewer and two agents (Ann, Bob), all with
 * {@link #PASSWORD}; agents' heartbeats are short (1 s, timeout 3 s) so a silent agent's claims expire quickly.
 */
final class HandoffHarness {

  static final String PASSWORD = "correct horse battery";
  static final String SECRET = "test-secret-0123456789abcdef0123456789abcdef";

  record Tenant(UUID id, String slug, String widgetKey, String origin) {
  }

  final Vertx vertx;
  final Database db;
  final int port;
  /** The node's handoff service, as the widget and console use it. */
  final Handoffs handoffs;

  private HandoffHarness(Vertx vertx, Database db, int port, Handoffs handoffs) {
    this.vertx = vertx;
    this.db = db;
    this.port = port;
    this.handoffs = handoffs;
  }

  static HandoffHarness start(Vertx vertx) throws Exception {
    TestDatabase testDb = TestDatabase.fresh(vertx);
    PlatformConfig config = ConfigLoader.load(Map.of("DATA_DIR", Files.createTempDirectory("handoff").toString(),
        "JWT_SECRET", SECRET, "HANDOFF_HEARTBEAT_SECONDS", "1", "HANDOFF_AGENT_TIMEOUT_SECONDS", "3"), new String[0]);
    Platform platform = new Platform(config, testDb.database(), "test");
    Codecs.registerAll(vertx);
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      ctx.put("requestId", "test-" + UUID.randomUUID());
      ctx.next();
    });
    RequestLimits limits = new RequestLimits(vertx, testDb.database(), RateLimiters.forVertx(vertx, Clock.systemUTC(), 1000));
    new WidgetModule(vertx, platform, limits, null, JwtSecret.resolve(config), VisitorSockets.listen(vertx)).mount(router);
    new ConsoleModule(vertx, platform, new AuditLog(testDb.database()), null, null).mount(router);
    HttpServer server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    return new HandoffHarness(vertx, testDb.database(), server.actualPort(), HandoffNode.of(vertx, platform).handoffs());
  }

  Tenant tenant(String slug) throws Exception {
    String hash = PasswordHasher.hash(PASSWORD);
    UUID id = await(db.global(c -> c.preparedQuery("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id")
        .execute(Tuple.of(slug)).map(rows -> rows.iterator().next().getUUID(0))));
    String widgetKey = TenantKeys.newWidgetKey(id);
    String origin = "https://" + slug + ".example";
    await(db.inTenant(id, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id) VALUES ($1)").execute(Tuple.of(id))
        .compose(x -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins) "
            + "VALUES ($1, $2, ARRAY[$3])").execute(Tuple.of(id, widgetKey, origin)))
        .compose(x -> c.preparedQuery("INSERT INTO users (tenant_id, email, display_name, password_hash, role) VALUES "
            + "($1, 'owner@" + slug + ".test', 'Olga', $2, 'owner'), ($1, 'admin@" + slug + ".test', 'Adam', $2, 'admin'), "
            + "($1, 'viewer@" + slug + ".test', 'Vera', $2, 'viewer'), ($1, 'ann@" + slug + ".test', 'Ann', $2, 'agent'), "
            + "($1, 'bob@" + slug + ".test', 'Bob', $2, 'agent')").execute(Tuple.of(id, hash)))
        .mapEmpty()));
    return new Tenant(id, slug, widgetKey, origin);
  }

  UUID userId(Tenant t, String email) throws Exception {
    return await(db.inTenant(t.id(), c -> c.preparedQuery("SELECT id FROM users WHERE email = $1").execute(Tuple.of(email))
        .map(rows -> rows.iterator().next().getUUID(0))));
  }

  String base() {
    return "http://127.0.0.1:" + port;
  }

  /** A visitor with a token and one widget conversation (a bot turn in it). */
  Visitor visitor(Tenant t) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base() + "/widget/session"))
        .header("Content-Type", "application/json").header("Origin", t.origin())
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("key", t.widgetKey()).encode())).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new AssertionError(r.statusCode() + " " + r.body());
    }
    JsonObject s = new JsonObject(r.body());
    String visitorId = s.getString("visitorId");
    UUID conversation = await(db.inTenant(t.id(), c -> c.preparedQuery("INSERT INTO conversations (tenant_id, visitor_id, "
            + "channel, title) VALUES ($1, $2, 'widget', 'help') RETURNING id").execute(Tuple.of(t.id(), visitorId))
        .map(rows -> rows.iterator().next().getUUID(0))
        .compose(id -> c.preparedQuery("INSERT INTO messages (tenant_id, conversation_id, role, content, created_at) VALUES "
                + "($1, $2, 'user', 'where is my parcel', now() - interval '2 seconds'), "
                + "($1, $2, 'assistant', 'I do not know.', now() - interval '1 second')")
            .execute(Tuple.of(t.id(), id)).map(id))));
    return new Visitor(t, s.getString("visitorToken"), visitorId, conversation);
  }

  final class Visitor {
    final Tenant tenant;
    final String token;
    final String id;
    final UUID conversation;
    final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    io.vertx.core.http.WebSocket ws;

    Visitor(Tenant tenant, String token, String id, UUID conversation) {
      this.tenant = tenant;
      this.token = token;
      this.id = id;
      this.conversation = conversation;
    }

    Visitor connect() throws Exception {
      ws = await(WebSockets.client(vertx).connect(new io.vertx.core.http.WebSocketConnectOptions()
          .setHost("127.0.0.1").setPort(port).setURI("/widget/ws?token=" + token).addHeader("Origin", tenant.origin())));
      ws.textMessageHandler(text -> frames.add(new JsonObject(text)));
      return this;
    }

    HttpResponse<String> post(String path, JsonObject body) throws Exception {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base() + path))
          .header("Content-Type", "application/json").header("Origin", tenant.origin())
          .header("Authorization", "Bearer " + token)
          .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base() + path))
          .header("Origin", tenant.origin()).header("Authorization", "Bearer " + token).GET().build(),
          HttpResponse.BodyHandlers.ofString());
    }

    void send(JsonObject frame) throws Exception {
      await(ws.writeTextMessage(frame.encode()));
    }

    /** The next frame of {@code type}, skipping others (they stay seen in {@code seen}). */
    JsonObject next(String type, java.util.List<JsonObject> seen) throws InterruptedException {
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < until) {
        JsonObject f = frames.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (f != null) {
          seen.add(f);
          if (type.equals(f.getString("type"))) {
            return f;
          }
        }
      }
      throw new AssertionError("no '" + type + "' frame; saw " + seen);
    }
  }

  /** A console user signed in: cookies, CSRF token, JSON calls, the inbox event stream. */
  final class Staff {
    final CookieManager cookies = new CookieManager();
    final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies).followRedirects(HttpClient.Redirect.NEVER).build();
    final BlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
    String csrf;

    Staff(Tenant t, String email) throws Exception {
      Matcher m = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(page("/console/login").body());
      if (!m.find()) {
        throw new AssertionError("no CSRF field on the login page");
      }
      String form = Map.of("workspace", t.slug(), "email", email, "password", PASSWORD, "next", "/console/", "_csrf", m.group(1))
          .entrySet().stream().map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
          .collect(Collectors.joining("&"));
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/console/login")).header("Origin", base())
          .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 303) {
        throw new AssertionError("login of " + email + ": " + r.statusCode());
      }
      Matcher token = Pattern.compile("name=\"csrf-token\" content=\"([^\"]+)\"").matcher(page("/console/account").body());
      if (!token.find()) {
        throw new AssertionError("no CSRF token on the account page");
      }
      csrf = token.group(1);
    }

    HttpResponse<String> page(String path) throws Exception {
      return http.send(HttpRequest.newBuilder(URI.create(base() + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, JsonObject body) throws Exception {
      return http.send(HttpRequest.newBuilder(URI.create(base() + path)).header("Origin", base())
          .header("Content-Type", "application/json").header("X-CSRF-Token", csrf)
          .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> delete(String path) throws Exception {
      return http.send(HttpRequest.newBuilder(URI.create(base() + path)).header("Origin", base())
          .header("X-CSRF-Token", csrf).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonObject ok(HttpResponse<String> r) {
      if (r.statusCode() / 100 != 2) {
        throw new AssertionError(r.statusCode() + " " + r.body());
      }
      return new JsonObject(r.body());
    }

    /** Opens the inbox event stream; its events land in {@link #events} as {event, data}. */
    Staff listen() throws Exception {
      HttpResponse<java.util.stream.Stream<String>> r = http.send(HttpRequest.newBuilder(URI.create(base()
          + "/console/api/inbox/events")).GET().build(), HttpResponse.BodyHandlers.ofLines());
      if (r.statusCode() != 200) {
        throw new AssertionError("events: " + r.statusCode());
      }
      Thread reader = new Thread(() -> {
        String[] event = {null};
        r.body().forEach(line -> {
          if (line.startsWith("event: ")) {
            event[0] = line.substring(7);
          } else if (line.startsWith("data: ")) {
            events.add(new JsonObject().put("event", event[0]).put("data", new JsonObject(line.substring(6))));
          }
        });
      }, "inbox-events");
      reader.setDaemon(true);
      reader.start();
      return this;
    }

    JsonObject next(String event, java.util.function.Predicate<JsonObject> match) throws InterruptedException {
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      java.util.List<JsonObject> seen = new java.util.ArrayList<>();
      while (System.nanoTime() < until) {
        JsonObject e = events.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        if (e != null) {
          seen.add(e);
          if (event.equals(e.getString("event")) && match.test(e.getJsonObject("data"))) {
            return e.getJsonObject("data");
          }
        }
      }
      throw new AssertionError("no '" + event + "' event; saw " + seen);
    }
  }
}
