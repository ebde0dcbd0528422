package ai.deepchat.bench;

import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Chat load over the widget WebSocket protocol: N visitors, each in a loop of message → streamed
 * answer → think time, for a duration. Reports time to first token, inter-token gaps, answers, and
 * errors by code (overload refusals included). Against a running deployment:
 * {@code bench/load --url http://host:8080 --widget-key pk_... --origin https://shop.example --clients 50 --seconds 600}
 * or self-hosted (embedded PostgreSQL, all roles, the bundled model): {@code bench/load --self-host}.
 */
public final class LoadBench {

  private final Vertx vertx = Vertx.vertx();
  private final Histogram ttft = new Histogram();
  private final Histogram gaps = new Histogram();
  private final AtomicLong answers = new AtomicLong();
  private final AtomicLong tokens = new AtomicLong();
  private final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new java.util.HashMap<>(Map.of("clients", "20", "seconds", "60", "think-ms", "500",
        "message", "What are your opening hours?"));
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--self-host")) {
        opts.put("self-host", "true");
      } else if (a.startsWith("--") && i + 1 < args.length) {
        opts.put(a.substring(2), args[++i]);
      } else {
        throw new IllegalArgumentException("unexpected argument " + a);
      }
    }
    new LoadBench().run(opts);
  }

  private void run(Map<String, String> opts) throws Exception {
    Node node = null;
    try {
      String url;
      String key;
      String origin;
      if (opts.containsKey("self-host")) {
        origin = "https://bench.example";
        Path data = Files.createTempDirectory("deepchat-bench");
        node = Node.start(ConfigLoader.load(Map.of("DATA_DIR", data.toString(), "HTTP_HOST", "127.0.0.1",
            "HTTP_PORT", "0", "SEED_DEMO", "false"), new String[0]));
        key = widgetTenant(node, origin);
        url = "http://127.0.0.1:" + node.httpPort();
      } else {
        url = require(opts, "url");
        key = require(opts, "widget-key");
        origin = require(opts, "origin");
      }
      int clients = Integer.parseInt(opts.get("clients"));
      long seconds = Long.parseLong(opts.get("seconds"));
      System.out.printf("load: %d visitors for %d s against %s%n", clients, seconds, url);
      URI base = URI.create(url);
      HttpClient http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(base.getHost())
          .setDefaultPort(base.getPort()).setSsl("https".equals(base.getScheme())));
      WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(base.getHost())
          .setDefaultPort(base.getPort()).setSsl("https".equals(base.getScheme())).setMaxConnections(clients * 2));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      CountDownLatch done = new CountDownLatch(clients);
      for (int i = 0; i < clients; i++) {
        new Visitor(http, ws, key, origin, opts.get("message"), Long.parseLong(opts.get("think-ms")), end)
            .start().onComplete(ar -> done.countDown());
      }
      long t0 = System.nanoTime();
      if (!done.await(seconds + 120, TimeUnit.SECONDS)) {
        System.out.println("warning: some visitors did not finish");
      }
      double elapsed = (System.nanoTime() - t0) / 1e9;
      report(elapsed);
    } finally {
      if (node != null) {
        node.close();
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private void report(double seconds) {
    System.out.printf("answers: %d (%.1f/s), tokens: %d (%.1f/s)%n", answers.get(), answers.get() / seconds,
        tokens.get(), tokens.get() / seconds);
    System.out.printf("time to first token: %s%n", ttft.summary());
    System.out.printf("inter-token gap:     %s%n", gaps.summary());
    long errorCount = errors.values().stream().mapToLong(AtomicLong::get).sum();
    System.out.printf("errors: %d (%.2f%% of attempts) %s%n", errorCount,
        100.0 * errorCount / Math.max(1, errorCount + answers.get()), errors);
  }

  private void error(String code) {
    errors.computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
  }

  /** One anonymous visitor: a session, a socket, turns until the end time. */
  private final class Visitor {
    private final HttpClient http;
    private final WebSocketClient ws;
    private final String key;
    private final String origin;
    private final String message;
    private final long thinkMs;
    private final long end;
    private final Promise<Void> finished = Promise.promise();
    private WebSocket socket;
    private String conversationId;
    private long sentAt;
    private long lastTokenAt;

    Visitor(HttpClient http, WebSocketClient ws, String key, String origin, String message, long thinkMs, long end) {
      this.http = http;
      this.ws = ws;
      this.key = key;
      this.origin = origin;
      this.message = message;
      this.thinkMs = thinkMs;
      this.end = end;
    }

    Future<Void> start() {
      session().compose(this::connect).onSuccess(s -> {
        socket = s;
        s.textMessageHandler(this::onFrame);
        s.closeHandler(v -> finished.tryComplete());
        s.exceptionHandler(err -> error("socket:" + err.getClass().getSimpleName()));
        send();
      }).onFailure(err -> {
        error("connect:" + err.getMessage());
        finished.tryComplete();
      });
      return finished.future();
    }

    private Future<String> session() {
      return http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/widget/session")
              .putHeader("Origin", origin).putHeader("Content-Type", "application/json"))
          .compose(req -> req.send(new JsonObject().put("key", key).encode()))
          .compose(resp -> resp.body().map(body -> {
            if (resp.statusCode() != 200) {
              throw new IllegalStateException("session " + resp.statusCode() + " " + body);
            }
            return new JsonObject(body).getString("visitorToken");
          }));
    }

    private Future<WebSocket> connect(String token) {
      return ws.connect(new WebSocketConnectOptions().setURI("/widget/ws?token=" + token).addHeader("Origin", origin));
    }

    private void send() {
      if (System.nanoTime() >= end) {
        socket.close();
        finished.tryComplete();
        return;
      }
      sentAt = System.nanoTime();
      lastTokenAt = -1;
      socket.writeTextMessage(new JsonObject().put("type", "message").put("text", message)
          .put("conversationId", conversationId).put("clientMessageId", UUID.randomUUID().toString()).encode());
    }

    private void onFrame(String text) {
      JsonObject frame = new JsonObject(text);
      long now = System.nanoTime();
      switch (frame.getString("type", "")) {
        case "start" -> conversationId = frame.getString("conversationId");
        case "delta" -> {
          if (lastTokenAt < 0) {
            ttft.record(now - sentAt);
          } else {
            gaps.record(now - lastTokenAt);
          }
          lastTokenAt = now;
          tokens.incrementAndGet();
        }
        case "done" -> {
          answers.incrementAndGet();
          vertx.setTimer(Math.max(1, thinkMs), id -> send());
        }
        case "error" -> {
          error(frame.getString("code", "error"));
          vertx.setTimer(Math.max(1, thinkMs), id -> send());
        }
        default -> {
          // citations, pong: nothing to measure
        }
      }
    }
  }

  /** A tenant whose widget accepts the bench's origin; returns the widget public key. */
  private static String widgetTenant(Node node, String origin) {
    var db = node.platform().database();
    UUID tenant = await(db.global(c -> c.query("INSERT INTO tenants (slug, name) VALUES ('bench', 'bench')"
        + " RETURNING id").execute().map(rows -> rows.iterator().next().getUUID(0))));
    String key = TenantKeys.newWidgetKey(tenant);
    await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO tenant_settings (tenant_id, requests_per_minute,"
            + " visitor_requests_per_minute) VALUES ($1, 1000000, 1000000) ON CONFLICT (tenant_id) DO UPDATE"
            + " SET requests_per_minute = 1000000, visitor_requests_per_minute = 1000000")
        .execute(Tuple.of(tenant))
        .compose(r -> c.preparedQuery("INSERT INTO widget_settings (tenant_id, public_key, allowed_origins)"
            + " VALUES ($1, $2, $3)").execute(Tuple.of(tenant, key, new String[] {origin})))));
    return key;
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String require(Map<String, String> opts, String key) {
    String v = opts.get(key);
    if (v == null) {
      throw new IllegalArgumentException("--" + key + " is required (or --self-host)");
    }
    return v;
  }
}
