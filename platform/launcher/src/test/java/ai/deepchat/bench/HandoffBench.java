package ai.deepchat.bench;

import ai.deepchat.chat.widget.VisitorTokens;
import ai.deepchat.launcher.Node;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.security.PasswordHasher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static ai.deepchat.platform.testing.Await.await;

/**
 * {@code bench/handoff}: the agent inbox under load on one node (embedded PostgreSQL, in this JVM). Agents
 * sign in through the console's login form and hold their inbox event stream (SSE) open; visitors hold
 * their widget WebSocket open and ask for a person ({@code POST /widget/handoff}); round-robin assigns the
 * conversations under the per-agent cap. Then agents reply at a steady total rate, and each reply's
 * delivery is timed from the reply POST's acknowledgement to the {@code agent.message} frame on the
 * visitor's socket (and from the POST's start). Prints latencies, throughput, errors, CPU by role and the
 * load average. Clients connect from several loopback source addresses (127.0.0.2, ...), as real visitors
 * come from many addresses, so the node's per-address connection cap stays at its default.
 * Options ({@code --name value}) with defaults: {@code --agents 200 --visitors 2000 --rate 100} (replies
 * per second, all agents together) {@code --warmup-seconds 10 --seconds 30 --sources 16}.
 */
public final class HandoffBench {

  private static final String ORIGIN = "https://shop.example";
  private static final String PASSWORD = "bench handoff password";
  private static final Pattern SEQ = Pattern.compile("\"text\":\"reply #(\\d+)\"");

  private HandoffBench() {
  }

  /** One reply in flight: when it was sent and acknowledged, when its frame arrived (nanoTime; 0 = not yet). */
  private static final class Reply {
    final long sent = System.nanoTime();
    final boolean measured;
    volatile long acked;
    volatile long delivered;

    Reply(boolean measured) {
      this.measured = measured;
    }
  }

  private record Agent(String cookie, String csrf) {
  }

  private record Assignment(int agent, UUID conversation) {
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = BenchOptions.parse(args, Map.of("agents", "200", "visitors", "2000", "rate", "100",
        "warmup-seconds", "10", "seconds", "30", "sources", "16"));
    int agents = Integer.parseInt(opts.get("agents"));
    int visitors = Integer.parseInt(opts.get("visitors"));
    double rate = Double.parseDouble(opts.get("rate"));
    int sources = Integer.parseInt(opts.get("sources"));
    int cap = Math.min(100, Math.max(1, (visitors + agents - 1) / agents));
    String dataDir = Files.createTempDirectory("deepchat-handoff-bench").toString();
    Map<String, String> env = new HashMap<>(Map.of("DATA_DIR", dataDir, "HTTP_HOST", "127.0.0.1", "HTTP_PORT", "0",
        "SEED_DEMO", "false", "ROLES", "gateway")); // the handoff needs no model: widget and console only
    System.getenv().forEach((k, v) -> {
      if (k.startsWith("BENCH_NODE_")) { // bench-only node configuration, e.g. BENCH_NODE_DB_POOL_SIZE=32
        env.put(k.substring("BENCH_NODE_".length()), v);
      }
    });
    Node node = Node.start(ConfigLoader.load(env, new String[0]));
    Vertx vertx = Vertx.vertx();
    try {
      String base = "http://127.0.0.1:" + node.httpPort();
      JsonObject t = BenchTenants.create(node, "handoff", ORIGIN, new JsonObject(), BenchTenants.Limits.UNLIMITED);
      UUID tenant = UUID.fromString(t.getString("tenantId"));
      var db = node.platform().database();
      String hash = PasswordHasher.hash(PASSWORD);
      List<String> visitorIds = new ArrayList<>();
      for (int i = 0; i < visitors; i++) {
        visitorIds.add("v_bench" + i);
      }
      List<UUID> conversations = await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO handoff_settings "
              + "(tenant_id, assignment, agent_cap) VALUES ($1, 'round_robin', $2)").execute(Tuple.of(tenant, cap))
          .compose(x -> c.preparedQuery("INSERT INTO users (tenant_id, email, display_name, password_hash, role) "
              + "SELECT $1, 'agent' || i || '@bench.test', 'Agent ' || i, $2, 'agent' FROM generate_series(0, $3 - 1) i")
              .execute(Tuple.of(tenant, hash, agents)))
          .compose(x -> c.preparedQuery("INSERT INTO conversations (tenant_id, visitor_id, channel, title) "
              + "SELECT $1, v, 'widget', 'bench' FROM unnest($2::text[]) WITH ORDINALITY AS u(v, n) ORDER BY n RETURNING id")
              .execute(Tuple.tuple().addUUID(tenant).addArrayOfString(visitorIds.toArray(new String[0]))))
          .map(rows -> {
            List<UUID> ids = new ArrayList<>();
            rows.forEach(r -> ids.add(r.getUUID(0)));
            return ids;
          })));
      System.out.printf("node up: %d agents, %d visitors, cap %d per agent, load average %s%n", agents, visitors,
          cap, loadAverage());

      List<HttpClient> http = new ArrayList<>();
      List<WebSocketClient> ws = new ArrayList<>();
      for (int s = 0; s < sources; s++) {
        String local = "127.0.0." + (2 + s);
        http.add(vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
                .setDefaultPort(node.httpPort()).setKeepAlive(true).setLocalAddress(local),
            // per source: 125 sockets + 13 streams + 64 for replies, under the node's 256 per address
            new PoolOptions().setHttp1MaxSize(64).setMaxWaitQueueSize(-1)));
        ws.add(vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost("127.0.0.1")
            .setDefaultPort(node.httpPort()).setLocalAddress(local).setMaxConnections(visitors)));
      }

      // agents: the login form (argon2 per sign-in, a few at a time), then the inbox stream
      long t0 = System.nanoTime();
      List<Agent> staff = signIn(base, agents);
      System.out.printf("%d agents signed in in %.1f s%n", staff.size(), (System.nanoTime() - t0) / 1e9);
      AtomicLong inboxEvents = new AtomicLong();
      List<Future<?>> streams = new ArrayList<>();
      for (int i = 0; i < agents; i++) {
        Agent a = staff.get(i);
        streams.add(http.get(i % sources).request(new RequestOptions().setMethod(HttpMethod.GET)
                .setURI("/console/api/inbox/events").addHeader("Cookie", a.cookie()))
            .compose(req -> req.send()).map(resp -> {
              if (resp.statusCode() != 200) {
                throw new IllegalStateException("inbox stream " + resp.statusCode());
              }
              resp.handler(buf -> inboxEvents.incrementAndGet());
              return null;
            }));
      }
      await(Future.all(streams));
      await(db.inTenant(tenant, c -> c.preparedQuery("INSERT INTO agent_presence (tenant_id, user_id, presence, last_seen) "
          + "SELECT $1, id, 'online', now() FROM users WHERE role = 'agent' ON CONFLICT (tenant_id, user_id) "
          + "DO UPDATE SET presence = 'online', last_seen = now()").execute(Tuple.of(tenant))));
      System.out.printf("%d inbox streams open%n", agents);

      // visitors: widget sockets (tokens as POST /widget/session issues them), then the person button
      VisitorTokens tokens = new VisitorTokens(vertx, node.platform().config());
      Map<Long, Reply> inFlight = new ConcurrentHashMap<>();
      Histogram ackToFrame = new Histogram();
      Histogram sendToFrame = new Histogram();
      AtomicLong framesBeforeAck = new AtomicLong();
      List<String> visitorTokens = new ArrayList<>();
      List<Future<?>> sockets = new ArrayList<>();
      for (int i = 0; i < visitors; i++) {
        String token = tokens.issue(tenant, visitorIds.get(i), t.getString("widgetKey"));
        visitorTokens.add(token);
        sockets.add(ws.get(i % sources).connect(new WebSocketConnectOptions().setURI("/widget/ws?token=" + token)
                .addHeader("Origin", ORIGIN))
            .map(socket -> {
              socket.textMessageHandler(text -> {
                if (!text.contains("\"agent.message\"")) {
                  return;
                }
                Matcher m = SEQ.matcher(text);
                Reply r = m.find() ? inFlight.get(Long.parseLong(m.group(1))) : null;
                if (r != null && r.delivered == 0) {
                  r.delivered = System.nanoTime();
                  completed(r, ackToFrame, sendToFrame, framesBeforeAck, inFlight, Long.parseLong(m.group(1)));
                }
              });
              return null;
            }));
        if (sockets.size() % 200 == 0) {
          await(Future.all(sockets.subList(sockets.size() - 200, sockets.size())));
        }
      }
      await(Future.all(sockets));
      System.out.printf("%d widget sockets open, load average %s%n", visitors, loadAverage());
      t0 = System.nanoTime();
      List<Future<?>> asked = new ArrayList<>();
      for (int i = 0; i < visitors; i++) {
        String conversation = conversations.get(i).toString();
        asked.add(http.get(i % sources).request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/widget/handoff")
                .addHeader("Origin", ORIGIN).addHeader("Authorization", "Bearer " + visitorTokens.get(i))
                .addHeader("Content-Type", "application/json"))
            .compose(req -> req.send(new JsonObject().put("conversation_id", conversation)
                .encode()))
            .compose(resp -> resp.body().map(b -> {
              if (resp.statusCode() != 200) {
                throw new IllegalStateException("handoff " + resp.statusCode() + " " + b);
              }
              return null;
            })));
        if (asked.size() % 50 == 0) {
          await(Future.all(asked.subList(asked.size() - 50, asked.size())));
        }
      }
      await(Future.all(asked));
      Map<UUID, Integer> agentIndex = new HashMap<>();
      List<Assignment> assigned = await(db.inTenant(tenant, c -> c.query("SELECT h.conversation_id, u.email FROM handoffs h "
          + "JOIN users u ON u.id = h.agent_id WHERE h.state = 'assigned' ORDER BY h.conversation_id").execute()
          .map(rows -> {
            List<Assignment> out = new ArrayList<>();
            for (Row r : rows) {
              String email = r.getString("email");
              out.add(new Assignment(Integer.parseInt(email.substring(5, email.indexOf('@'))), r.getUUID("conversation_id")));
            }
            return out;
          })));
      long queued = await(db.inTenant(tenant, c -> c.query("SELECT count(*) FROM handoffs WHERE state = 'queued'")
          .execute().map(rows -> rows.iterator().next().getLong(0))));
      System.out.printf("%d conversations escalated in %.1f s: %d assigned, %d queued%n", visitors,
          (System.nanoTime() - t0) / 1e9, assigned.size(), queued);
      if (assigned.isEmpty()) {
        throw new IllegalStateException("nothing was assigned");
      }

      // the steady reply load: every 10 ms, the replies due by now, spread over the assigned conversations
      AtomicLong seq = new AtomicLong();
      AtomicLong errors = new AtomicLong();
      AtomicLong acks = new AtomicLong();
      Map<String, Long> errorKinds = new ConcurrentHashMap<>();
      long warmupNs = (long) (Double.parseDouble(opts.get("warmup-seconds")) * 1e9);
      long windowNs = (long) (Double.parseDouble(opts.get("seconds")) * 1e9);
      long start = System.nanoTime();
      double[] due = {0};
      Map<String, Long>[] cpuBefore = new Map[1];
      long[] machineBefore = {0};
      long timer = vertx.setPeriodic(10, id -> {
        long now = System.nanoTime();
        boolean measured = now - start >= warmupNs;
        if (measured && cpuBefore[0] == null) {
          cpuBefore[0] = CpuAccount.snapshot(ProcessHandle.current().pid(), dataDir);
          machineBefore[0] = CpuAccount.machineBusy();
        }
        due[0] += rate / 100.0;
        while (due[0] >= 1) {
          due[0] -= 1;
          long n = seq.getAndIncrement();
          Assignment a = assigned.get((int) (n % assigned.size()));
          Agent agent = staff.get(a.agent());
          Reply r = new Reply(measured);
          inFlight.put(n, r);
          http.get((int) (n % sources)).request(new RequestOptions().setMethod(HttpMethod.POST)
                  .setURI("/console/api/inbox/" + a.conversation() + "/reply").addHeader("Cookie", agent.cookie())
                  .addHeader("X-CSRF-Token", agent.csrf()).addHeader("Origin", base)
                  .addHeader("Content-Type", "application/json"))
              .compose(req -> req.send(new JsonObject().put("text", "reply #" + n).put("client_id", "b-" + n).encode()))
              .compose(resp -> resp.body().map(b -> resp.statusCode()))
              .onSuccess(status -> {
                if (status / 100 != 2) {
                  errors.incrementAndGet();
                  errorKinds.merge("HTTP " + status, 1L, Long::sum);
                  inFlight.remove(n);
                  return;
                }
                acks.incrementAndGet();
                r.acked = System.nanoTime();
                completed(r, ackToFrame, sendToFrame, framesBeforeAck, inFlight, n);
              })
              .onFailure(err -> {
                errors.incrementAndGet();
                errorKinds.merge(err.getClass().getSimpleName(), 1L, Long::sum);
                inFlight.remove(n);
              });
        }
      });
      Thread.sleep((warmupNs + windowNs) / 1_000_000);
      vertx.cancelTimer(timer);
      double seconds = (System.nanoTime() - start - warmupNs) / 1e9;
      Map<String, Double> cores = CpuAccount.cores(cpuBefore[0], CpuAccount.snapshot(ProcessHandle.current().pid(),
          dataDir), seconds);
      double machine = CpuAccount.toCores(CpuAccount.machineBusy() - machineBefore[0], seconds);
      Thread.sleep(3000); // the last replies' frames
      long lost = inFlight.values().stream().filter(r -> r.measured && r.acked != 0 && r.delivered == 0).count();
      System.out.printf("%nreplies sent %d (%.1f/s offered), acknowledged %d, errors %d %s, acknowledged but no frame "
              + "after 3 s: %d%n", seq.get(), rate, acks.get(), errors.get(), errorKinds, lost);
      System.out.printf("measured window %.1f s: %d delivered, %.1f replies/s%n", seconds, ackToFrame.count(),
          ackToFrame.count() / seconds);
      System.out.println("delivery, reply acknowledged -> agent.message frame: " + ackToFrame.summary()
          + " (frames that arrived before the acknowledgement count as 0: " + framesBeforeAck.get() + ")");
      System.out.println("delivery, reply POST sent -> agent.message frame:     " + sendToFrame.summary());
      System.out.println("inbox events received by the agents: " + inboxEvents.get());
      System.out.println("CPU (cores) over the window: " + cores.entrySet().stream()
          .map(e -> String.format("%s %.2f", e.getKey(), e.getValue())).collect(Collectors.joining(", "))
          + String.format("; whole machine %.2f (the node and the load generator share this JVM: 'event loops' "
          + "and 'load generator' include the clients)", machine));
      System.out.println("load average at the end: " + loadAverage());
      double p99 = ackToFrame.millis(0.99);
      System.out.println(p99 < 100 ? "PASS: p99 " + p99 + " ms < 100 ms" : "FAIL: p99 " + p99 + " ms >= 100 ms");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
      node.close();
    }
    System.exit(0);
  }

  /** Records a reply once both its acknowledgement and its frame are in (either may come first). */
  private static void completed(Reply r, Histogram ackToFrame, Histogram sendToFrame, AtomicLong beforeAck,
                                Map<Long, Reply> inFlight, long n) {
    synchronized (r) {
      if (r.acked == 0 || r.delivered == 0 || !inFlight.remove(n, r)) {
        return;
      }
    }
    if (!r.measured) {
      return;
    }
    long d = r.delivered - r.acked;
    if (d < 0) {
      beforeAck.incrementAndGet();
    }
    ackToFrame.record(Math.max(0, d));
    sendToFrame.record(r.delivered - r.sent);
  }

  /** Signs every agent in through the console's login form; their session cookie and CSRF token. */
  private static List<Agent> signIn(String base, int agents) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Agent>> done = new ArrayList<>();
      for (int i = 0; i < agents; i++) {
        String email = "agent" + i + "@bench.test";
        done.add(pool.submit(() -> signIn(base, email)));
      }
      List<Agent> out = new ArrayList<>();
      for (java.util.concurrent.Future<Agent> f : done) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static Agent signIn(String base, String email) throws Exception {
    CookieManager cookies = new CookieManager();
    java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().cookieHandler(cookies)
        .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
    {
      Matcher field = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"").matcher(client.send(HttpRequest.newBuilder(
          URI.create(base + "/console/login")).build(), HttpResponse.BodyHandlers.ofString()).body());
      if (!field.find()) {
        throw new IllegalStateException("no login form");
      }
      String form = Map.of("workspace", "handoff", "email", email, "password", PASSWORD, "next", "/console/",
              "_csrf", field.group(1)).entrySet().stream()
          .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
          .collect(Collectors.joining("&"));
      HttpResponse<String> login = client.send(HttpRequest.newBuilder(URI.create(base + "/console/login"))
          .header("Origin", base).header("Content-Type", "application/x-www-form-urlencoded")
          .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
      if (login.statusCode() != 303) {
        throw new IllegalStateException("login " + login.statusCode() + " " + login.body());
      }
      Matcher meta = Pattern.compile("name=\"csrf-token\" content=\"([^\"]+)\"").matcher(client.send(HttpRequest
          .newBuilder(URI.create(base + "/console/account")).build(), HttpResponse.BodyHandlers.ofString()).body());
      if (!meta.find()) {
        throw new IllegalStateException("no CSRF token");
      }
      String cookie = cookies.getCookieStore().getCookies().stream().map(c -> c.getName() + "=" + c.getValue())
          .collect(Collectors.joining("; "));
      return new Agent(cookie, meta.group(1));
    }
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
