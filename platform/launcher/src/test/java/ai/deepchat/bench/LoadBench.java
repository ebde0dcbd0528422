package ai.deepchat.bench;

import ai.deepchat.gpu.engine.EngineOptions;
import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.gpu.worker.ServedModel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;

/**
 * Chat load on the platform's two streaming edges at once: widget visitors on the WebSocket protocol
 * and API clients on {@code /v1/chat/completions} (server-sent events), in a closed loop, stepped up
 * through a list of concurrencies. Per step it reports delivered tokens/s, end-to-end time to first
 * token and inter-token gaps as the clients see them, and the latency the platform adds on top of the
 * engine (the gateway's {@code deepchat_platform_added_*} histograms, scraped from /metrics before and
 * after the step's window); with {@code --self-host} also the engine alone under the same load, and
 * the node's memory per open WebSocket. See docs/performance.md ("Platform load") and bench/load.
 */
public final class LoadBench {

  private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("steps", "50,100,200,500,1000");
    DEFAULTS.put("warmup-seconds", "10");
    DEFAULTS.put("seconds", "30");
    DEFAULTS.put("jit-warmup-seconds", "20");
    DEFAULTS.put("jit-quiet-share", "0.05");
    DEFAULTS.put("jit-warmup-max-seconds", "300");
    DEFAULTS.put("api-share", "0.5");
    DEFAULTS.put("think-ms", "200");
    DEFAULTS.put("max-tokens", "16");
    DEFAULTS.put("temperature", "0");
    DEFAULTS.put("message", "What are your opening hours?");
    DEFAULTS.put("turns-per-conversation", "4");
    DEFAULTS.put("idle-sockets", "500");
    DEFAULTS.put("engine-peer", "true");
    DEFAULTS.put("peer-seconds", "15");
    DEFAULTS.put("engine-threads", String.valueOf(Runtime.getRuntime().availableProcessors()));
    DEFAULTS.put("engine-batch", "2048");
    DEFAULTS.put("engine-nice", "19");
    DEFAULTS.put("node-jvm", "-Xms1g -Xmx1g -XX:+AlwaysPreTouch");
    DEFAULTS.put("node-config", "");
    DEFAULTS.put("ws-deflate", "true");
    DEFAULTS.put("gzip", "true");
    DEFAULTS.put("out", "bench/out/load");
    DEFAULTS.put("profile", "false");
    DEFAULTS.put("pg-statements", "false");
    DEFAULTS.put("analyze", "true");
    DEFAULTS.put("upstream-rate", "0");
    DEFAULTS.put("tx-peer", "true");
    DEFAULTS.put("nginx-peer", "true");
    DEFAULTS.put("mode", "chat");
    DEFAULTS.put("faq-entries", "8");
    DEFAULTS.put("faq-stream-share", "0.5");
  }

  private final Map<String, String> opts;
  /** The token upstream's base URL (--upstream-rate), which the nginx peer relays; null without one. */
  private String upstreamBase;
  private final Vertx vertx = Vertx.vertx();
  private final java.net.http.HttpClient scraper = java.net.http.HttpClient.newHttpClient();
  private final StringBuilder report = new StringBuilder();
  private String url;
  /** Where /metrics is: the management port of a self-hosted node, else the API's address. */
  private String metricsUrl;
  private String widgetKey;
  private String apiKey;
  private String origin;
  private long nodePid = -1;
  /** The self-hosted node (null against a deployment): its database's commit count per step. */
  private BenchNodeClient benchNode;
  private String nodeDataDir = "";
  private PgStatements pgStatements;
  private Path out;
  private String stamp;

  private LoadBench(Map<String, String> opts) {
    this.opts = opts;
  }

  /**
   * {@code --mode faq}: every user is an API client asking one of the bench tenant's FAQ questions word
   * for word (answered without the model), streamed or whole; the figures are turns/s and whole-turn latency.
   */
  private boolean faqMode() {
    return opts.get("mode").equals("faq");
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>(DEFAULTS);
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--self-host")) {
        opts.put("self-host", "true");
      } else if (a.startsWith("--") && i + 1 < args.length) {
        String key = a.substring(2);
        if (!DEFAULTS.containsKey(key) && !List.of("url", "widget-key", "api-key", "origin", "clients").contains(key)) {
          throw new IllegalArgumentException("unknown option " + a + " (see bench/load)");
        }
        opts.put(key, args[++i]);
      } else {
        throw new IllegalArgumentException("unexpected argument " + a + " (see bench/load)");
      }
    }
    if (opts.containsKey("clients")) {
      opts.put("steps", opts.get("clients"));
    }
    new LoadBench(opts).run();
    System.exit(0);
  }

  private void run() throws Exception {
    out = Path.of(opts.get("out"));
    Files.createDirectories(out);
    stamp = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString().replace(":", "");
    line("load bench " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + ", load average at start: " + loadAverage());
    line("options: " + new java.util.TreeMap<>(opts));
    BenchNodeClient node = null;
    ServedModel peerModel = null;
    TokenUpstream upstream = null;
    try {
      boolean selfHost = opts.containsKey("self-host");
      if (selfHost && Double.parseDouble(opts.get("upstream-rate")) > 0) {
        // the fast token source: the node's default model becomes this loopback upstream (not the engine)
        upstream = new TokenUpstream(vertx, Double.parseDouble(opts.get("upstream-rate")));
        String base = await(upstream.start());
        upstreamBase = base;
        opts.put("node-config", opts.get("node-config") + " DEEPSEEK_API_KEY=bench DEEPSEEK_BASE_URL=" + base);
        line("token upstream at " + base + ": " + opts.get("upstream-rate") + " tokens/s per stream");
      }
      if (faqMode()) {
        // FAQ answers need no engine and no memory figures: the steps are the measurement
        opts.put("engine-peer", "false");
        opts.put("idle-sockets", "0");
        opts.put("node-config", opts.get("node-config") + " BENCH_FAQ=" + opts.get("faq-entries"));
      }
      if (selfHost) {
        node = startNode(out.resolve("node-" + stamp + ".log"));
        benchNode = node;
      } else {
        url = require("url");
        widgetKey = require("widget-key");
        apiKey = require("api-key");
        origin = require("origin");
      }
      if (selfHost && Integer.parseInt(opts.get("idle-sockets")) > 0) {
        HttpClient http = httpClient(16, false);
        WebSocketClient ws = wsClient(2 * Integer.parseInt(opts.get("idle-sockets")));
        new MemoryPerSocket(vertx, node, http, ws, widgetKey, origin, opts.get("message"),
            Boolean.parseBoolean(opts.get("ws-deflate")), this::line).measure(Integer.parseInt(opts.get("idle-sockets")));
        await(ws.close());
        await(http.close());
      }
      if (selfHost && Boolean.parseBoolean(opts.get("engine-peer"))) {
        Path data = Files.createTempDirectory("deepchat-bench-peer");
        peerModel = ServedModel.load("peer", TinyTestModel.ensure(data), new EngineOptions("cpu",
            Integer.parseInt(opts.get("engine-threads")), false, Integer.parseInt(opts.get("engine-batch")), 0));
      }
      if (selfHost && java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
          .noneMatch(d -> Files.isExecutable(Path.of(d, "nginx")))) {
        line("nginx relay peer (the floor for relaying a token): not run, nginx is not installed on this machine");
      }
      List<StepReport> rows = new ArrayList<>();
      long jitWarmup = Long.parseLong(opts.get("jit-warmup-seconds")) * 1000;
      if (jitWarmup > 0) {
        // the JIT compiles for a minute or more on two busy cores; the first step should not pay for it
        int users = Integer.parseInt(opts.get("steps").split(",")[0].trim());
        line(String.format("warming up: %d users for %d s (not measured)", users, jitWarmup / 1000));
        StepReport warm = step(users, 0, jitWarmup);
        // reported, not counted: the JIT's compilations would otherwise inflate the first step's cost
        warmUpLine("warm-up", warm);
        // then rounds until the JIT threads go quiet: on two busy cores C2's queue drains for minutes (#25)
        JitQuiet quiet = new JitQuiet(Double.parseDouble(opts.get("jit-quiet-share")),
            Long.parseLong(opts.get("jit-warmup-max-seconds")) * 1000);
        long warmedMs = jitWarmup;
        while (quiet.goOn(warmedMs, warm.cores())) {
          warm = step(users, 0, JIT_ROUND_MS);
          warmedMs += JIT_ROUND_MS;
          warmUpLine("warm-up to " + warmedMs / 1000 + " s", warm);
        }
        line(String.format("  JIT warm-up: %d s; its last round's JIT share of the platform's CPU %.1f%% (%s %.0f%%)",
            warmedMs / 1000, 100 * JitQuiet.jitShare(warm.cores()),
            quiet.goOn(warmedMs, warm.cores()) ? "NOT quiet, stopped at the maximum; quiet is at most" : "quiet: at most",
            100 * quiet.quietShare()));
      }
      if (selfHost && Boolean.parseBoolean(opts.get("analyze"))) {
        // a running installation's tables have statistics (autovacuum analyzes them within a minute of growing);
        // measured before that, the node's cached plans are those made for empty tables
        BenchDatabase.analyze(nodeDataDir);
        line("analyzed the node's database (statistics as autovacuum would gather them)");
      }
      line("");
      line(faqMode() ? StepReport.FAQ_HEADER : StepReport.HEADER);
      for (String s : opts.get("steps").split(",")) {
        int users = Integer.parseInt(s.trim());
        StepReport row = step(users, Long.parseLong(opts.get("warmup-seconds")) * 1000,
            Long.parseLong(opts.get("seconds")) * 1000);
        if (peerModel != null) {
          row = row.withPeer(EnginePeer.run(peerModel, users, (int) Math.round(users * Double.parseDouble(
                  opts.get("api-share"))), Integer.parseInt(opts.get("turns-per-conversation")), opts.get("message"),
              Integer.parseInt(opts.get("max-tokens")), Double.parseDouble(opts.get("temperature")),
              Long.parseLong(opts.get("think-ms")), 5_000, Long.parseLong(opts.get("peer-seconds")) * 1000,
              () -> reniceEngine(ProcessHandle.current().pid())));
        }
        rows.add(row);
        line(faqMode() ? row.faqMarkdown() : row.markdown());
        detail(row);
        if (selfHost && Boolean.parseBoolean(opts.get("tx-peer"))) {
          txPeer(row);
        }
        if (upstreamBase != null && Boolean.parseBoolean(opts.get("nginx-peer"))) {
          nginxPeer(row);
        }
      }
      line("");
      if (faqMode()) {
        faqVerdict(rows);
      } else {
        verdict(rows);
      }
    } finally {
      if (peerModel != null) {
        peerModel.close();
      }
      if (node != null) {
        node.close();
      }
      if (upstream != null) {
        await(upstream.close());
      }
      line("load average at end: " + loadAverage());
      Files.writeString(out.resolve("summary-" + stamp + ".md"), report);
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** One round of a JIT warm-up between measurement and noise: reported, not counted. */
  private static final long JIT_ROUND_MS = 10_000;

  private void warmUpLine(String what, StepReport warm) {
    StringBuilder cores = new StringBuilder();
    warm.cores().forEach((role, c) -> cores.append(String.format("%s %.2f, ", role, c)));
    line(String.format("  %s: %d answers, cpu (cores) %sJIT %.2f (%.0f%% of the platform's); per turn %s", what,
        warm.stats().answers.sum(), cores, warm.cores().getOrDefault("jit", 0.0), 100 * JitQuiet.jitShare(warm.cores()),
        warm.costPer(warm.stats().answers.sum())));
  }

  private BenchNodeClient startNode(Path log) throws Exception {
    Map<String, String> config = new LinkedHashMap<>();
    nodeDataDir = Files.createTempDirectory("deepchat-bench").toString();
    config.put("DATA_DIR", nodeDataDir);
    if (Boolean.parseBoolean(opts.get("pg-statements"))) {
      pgStatements = PgStatements.prepare(nodeDataDir, this::line);
    }
    config.put("HTTP_HOST", "127.0.0.1");
    config.put("HTTP_PORT", "0");
    config.put("SEED_DEMO", "false");
    // the bench measures the platform, not the gateway's stream cap or the rate limits (set to their maximum)
    config.put("MAX_CONCURRENT_STREAMS", "1000000");
    config.put("RATE_LIMIT_NEW_VISITORS_PER_MINUTE", "1000000"); // every bench visitor comes from one address
    config.put("HTTP_MAX_CONNECTIONS_PER_ADDRESS", "0"); // every simulated user comes from 127.0.0.1
    config.put("ENGINE_THREADS", opts.get("engine-threads"));
    config.put("ENGINE_MAX_SEQUENCES", opts.get("engine-batch"));
    config.put("BENCH_ORIGIN", "https://bench.example");
    config.put("BENCH_MAX_TOKENS", opts.get("max-tokens"));
    config.put("BENCH_TEMPERATURE", opts.get("temperature"));
    for (String kv : opts.get("node-config").trim().split("\\s+")) {
      if (!kv.isEmpty()) {
        config.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
      }
    }
    List<String> jvm = new ArrayList<>(Arrays.asList(opts.get("node-jvm").trim().split("\\s+")));
    jvm.removeIf(String::isEmpty);
    line("node: " + jvm + " " + config + ", log " + log);
    BenchNodeClient node = new BenchNodeClient(jvm, config, log);
    JsonObject ready = node.ready();
    url = ready.getString("url");
    metricsUrl = ready.getString("metricsUrl");
    widgetKey = ready.getString("widgetKey");
    apiKey = ready.getString("apiKey");
    origin = ready.getString("origin");
    nodePid = ready.getLong("pid");
    line("node ready at " + url + " (pid " + nodePid + ")");
    return node;
  }

  /** One step: {@code users} clients (the API share on SSE, the rest on the widget socket) for warm-up + window. */
  private StepReport step(int users, long warmupMs, long windowMs) throws Exception {
    int apiUsers = faqMode() ? users : (int) Math.round(users * Double.parseDouble(opts.get("api-share")));
    long thinkMs = Long.parseLong(opts.get("think-ms"));
    int maxTokens = Integer.parseInt(opts.get("max-tokens"));
    double temperature = Double.parseDouble(opts.get("temperature"));
    String message = opts.get("message");
    StepStats stats = new StepStats();
    HttpClient api = httpClient(apiUsers + 8, Boolean.parseBoolean(opts.get("gzip")));
    HttpClient sessions = httpClient(16, false);
    WebSocketClient ws = wsClient(users - apiUsers);
    List<LoadClient> clients = new ArrayList<>();
    if (faqMode()) {
      List<String> questions = BenchFaq.questions(Integer.parseInt(opts.get("faq-entries")));
      int streamed = (int) Math.round(users * Double.parseDouble(opts.get("faq-stream-share")));
      for (int i = 0; i < users; i++) {
        clients.add(new ApiStreamer(vertx, stats, message, thinkMs, api, apiKey, maxTokens, temperature)
            .asking(questions.get(i % questions.size()), i < streamed));
      }
    }
    for (int i = clients.size(); i < users; i++) {
      clients.add(i < apiUsers
          ? new ApiStreamer(vertx, stats, message, thinkMs, api, apiKey, maxTokens, temperature)
          : new WidgetVisitor(vertx, stats, message, thinkMs, sessions, ws, widgetKey, origin,
              Integer.parseInt(opts.get("turns-per-conversation"))));
    }
    java.util.Collections.shuffle(clients);
    long start = System.nanoTime();
    long from = start + TimeUnit.MILLISECONDS.toNanos(warmupMs);
    long to = from + TimeUnit.MILLISECONDS.toNanos(windowMs);
    stats.window(from, to);
    // users arrive spread over the first half of the warm-up
    long spreadNanos = TimeUnit.MILLISECONDS.toNanos(warmupMs / 2) / Math.max(1, users);
    for (int i = 0; i < users; i++) {
      LoadClient c = clients.get(i);
      vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(i * spreadNanos)), t -> c.start());
    }
    long sampler = vertx.setPeriodic(200, t -> stats.sampleOpen(System.nanoTime()));
    sleepUntil(from);
    reniceEngine(nodePid);
    String metricsBefore = scrape();
    double loadBefore = loadAverage();
    Map<String, Long> cpuBefore = CpuAccount.snapshot(nodePid, nodeDataDir);
    Map<String, Long> otherBefore = CpuAccount.otherThreads(nodePid);
    long machineBefore = CpuAccount.machineBusy();
    if (pgStatements != null) {
      pgStatements.reset(); // before the commit count: it zeroes the database's counters too
    }
    long commitsBefore = benchNode == null ? -1 : benchNode.commits();
    boolean profile = !opts.get("profile").equals("false") && nodePid > 0;
    if (profile) {
      // "max": a sample every millisecond instead of ten, for a per-token path spread thin over many methods
      jcmd("JFR.start", "name=bench", "settings=profile",
          "method-profiling=" + (opts.get("profile").equals("max") ? "max" : "high"));
    }
    sleepUntil(to);
    Map<String, Double> cores = CpuAccount.cores(cpuBefore, CpuAccount.snapshot(nodePid, nodeDataDir), windowMs / 1000.0);
    double machineCores = CpuAccount.toCores(CpuAccount.machineBusy() - machineBefore, windowMs / 1000.0);
    Map<String, Double> otherCores = CpuAccount.cores(otherBefore, CpuAccount.otherThreads(nodePid), windowMs / 1000.0);
    if (nodePid > 0) {
      StringBuilder other = new StringBuilder();
      otherCores.entrySet().stream().filter(e -> e.getValue() >= 0.005).limit(8)
          .forEach(e -> other.append(String.format("%s %.3f, ", e.getKey(), e.getValue())));
      line("  jvm other threads (cores, >= 0.005): " + (other.isEmpty() ? "none" : other.substring(0, other.length() - 2)));
    }
    long resident = nodePid > 0 ? CpuAccount.residentBytes(nodePid) : -1;
    if (benchNode != null) {
      long answers = Math.max(1, stats.answers.sum());
      line(String.format("  postgres: %.2f transactions committed per answer in the window (the node's and its"
          + " background jobs', PostgreSQL's count)", (double) (benchNode.commits() - commitsBefore) / answers));
    }
    if (pgStatements != null) {
      pgStatements.report(stats.answers.sum());
    }
    String metricsAfter = scrape();
    double loadAfter = loadAverage();
    tokenizerLine(metricsBefore, metricsAfter, stats.answers.sum());
    poolLine(metricsBefore, metricsAfter, stats.answers.sum());
    if (profile) {
      Path jfr = out.resolve("node-" + stamp + "-" + users + ".jfr").toAbsolutePath();
      jcmd("JFR.stop", "name=bench", "filename=" + jfr);
      line("  profile of the node over the window: " + jfr);
    }
    vertx.cancelTimer(sampler);
    clients.forEach(LoadClient::stop);
    Future<?> all = Future.join(clients.stream().map(LoadClient::finished).toList());
    try {
      all.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      line("warning: some clients did not finish their last answer within 60 s");
    }
    await(ws.close());
    await(api.close());
    await(sessions.close());
    return new StepReport(users, apiUsers, windowMs / 1000.0, stats, loadBefore, loadAfter,
        ScrapedHistogram.parse(metricsAfter, "deepchat_platform_added_latency_seconds")
            .minus(ScrapedHistogram.parse(metricsBefore, "deepchat_platform_added_latency_seconds")),
        ScrapedHistogram.parse(metricsAfter, "deepchat_platform_added_ttft_seconds")
            .minus(ScrapedHistogram.parse(metricsBefore, "deepchat_platform_added_ttft_seconds")),
        cores, machineCores, resident, null);
  }

  /** The floor for a stored turn, after the step (the node idle), and ours as a multiple of it. */
  private void txPeer(StepReport row) throws Exception {
    TransactionPeer.Result floor = TransactionPeer.run(vertx, Math.min(row.users(), 100),
        Long.parseLong(opts.get("peer-seconds")));
    double ours = 1e6 * row.platformCores() * row.seconds() / Math.max(1, row.stats().answers.sum());
    line(String.format("    floor:        one PostgreSQL transaction per request on a bare Vert.x handler: %.0f/s,"
            + " %.0f us per request (event loop %.0f, postgres %.0f); ours per turn = %.1fx", floor.requestsPerSecond(),
        floor.totalMicros(), floor.eventLoopMicros(), floor.postgresMicros(), ours / floor.totalMicros()));
  }

  /** The floor for relaying a token, after the step (the node idle): nginx relaying the same upstream. */
  private void nginxPeer(StepReport row) throws Exception {
    java.nio.file.Path nginx = NginxPeer.binary();
    if (nginx == null) {
      line("    relay floor:  nginx is not installed; skipped");
      return;
    }
    NginxPeer.Result floor = NginxPeer.run(vertx, nginx, upstreamBase, row.users(), opts.get("message"),
        Integer.parseInt(opts.get("max-tokens")), Long.parseLong(opts.get("think-ms")), 5_000,
        Long.parseLong(opts.get("peer-seconds")) * 1000);
    double ours = 1e6 * row.platformCores() * row.seconds() / Math.max(1, row.stats().tokens.sum());
    line(String.format("    relay floor:  nginx relaying the upstream's SSE (buffering off) to %d API users: %.0f tokens/s,"
        + " %.1f us per token; ours per token = %.1fx", row.users(), floor.tokensPerSecond(), floor.microsPerToken(),
        ours / floor.microsPerToken()));
  }

  private HttpClient httpClient(int connections, boolean gzip) {
    return BenchClients.http(vertx, url, connections, gzip);
  }

  private WebSocketClient wsClient(int sockets) {
    return BenchClients.webSockets(vertx, url, sockets, Boolean.parseBoolean(opts.get("ws-deflate")));
  }

  /**
   * On a GPU host the engine does not compete with the platform for the CPU; on a CPU-only bench machine
   * its threads would take the cores the platform needs, and the platform's added latency would mostly
   * be the scheduler's. So the engine's threads (named dsengine-*) get the lowest priority: they use what
   * the platform leaves. Applied to the engine alone too, so both figures are taken alike.
   */
  private void reniceEngine(long pid) {
    String nice = opts.get("engine-nice");
    if (pid <= 0 || nice.equals("off")) {
      return;
    }
    List<String> ids = CpuAccount.threadIds(pid, "dsengine");
    if (ids.isEmpty()) {
      return;
    }
    List<String> cmd = new ArrayList<>(List.of("renice", "-n", nice, "-p"));
    cmd.addAll(ids);
    try {
      new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
          .waitFor(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      line("warning: could not renice the engine's threads: " + e);
    }
  }

  /** A diagnostic command to the self-hosted node (profiling: a flight recording over a step's window). */
  private void jcmd(String... command) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        String.valueOf(nodePid)));
    cmd.addAll(List.of(command));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  /** The node's token counting over the window (#25): texts encoded, their characters, the time, per answer. */
  private void tokenizerLine(String before, String after, long answers) {
    double calls = counter(after, "deepchat_tokenizer_calls_total") - counter(before, "deepchat_tokenizer_calls_total");
    if (answers <= 0 || calls < 0 || after.indexOf("deepchat_tokenizer_calls_total") < 0) {
      return;
    }
    double chars = counter(after, "deepchat_tokenizer_chars_total") - counter(before, "deepchat_tokenizer_chars_total");
    double seconds = counter(after, "deepchat_tokenizer_seconds_total") - counter(before, "deepchat_tokenizer_seconds_total");
    double cpu = counter(after, "deepchat_tokenizer_cpu_seconds_total") - counter(before, "deepchat_tokenizer_cpu_seconds_total");
    line(String.format("  tokenizer: %.2f texts encoded per answer, %.0f characters, %.1f us encoding (the node's count;"
        + " %.1f us of it the encoding thread's CPU)", calls / answers, chars / answers, 1e6 * seconds / answers,
        1e6 * cpu / answers));
  }

  /**
   * The node's SQL pool uses over the window (#25): Vert.x's count of uses completed (every pool), and where
   * the node counts them (per-loop pools), how each was served.
   */
  private void poolLine(String before, String after, long answers) {
    if (answers <= 0 || after.indexOf("pool_type=\"sql\"") < 0) {
      return;
    }
    String line = String.format("  sql pool: %.2f uses per answer (Vert.x's count)",
        (withLabel(after, "vertx_pool_completed_total", "pool_type=\"sql\"")
            - withLabel(before, "vertx_pool_completed_total", "pool_type=\"sql\"")) / answers);
    if (after.contains("deepchat_db_pool_uses_total")) {
      StringBuilder served = new StringBuilder("; per-loop pools per answer:");
      for (String how : List.of("own", "borrowed", "waited")) {
        String label = "served=\"" + how + "\"";
        served.append(String.format(" %s %.2f", how, (withLabel(after, "deepchat_db_pool_uses_total", label)
            - withLabel(before, "deepchat_db_pool_uses_total", label)) / answers));
      }
      line += served;
    }
    line(line);
  }

  /** A counter's value in a Prometheus scrape, summed over the series whose labels hold {@code label}. */
  static double withLabel(String metricsText, String name, String label) {
    double sum = 0;
    for (String line : metricsText.split("\n")) {
      if (line.startsWith(name + "{") && line.substring(0, line.indexOf('}') + 1).contains(label)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /** A counter's value in a Prometheus scrape, summed over its labels (0 when absent). */
  static double counter(String metricsText, String name) {
    double sum = 0;
    for (String line : metricsText.split("\n")) {
      if (line.startsWith(name) && line.length() > name.length() && (line.charAt(name.length()) == ' ' || line.charAt(name.length()) == '{')) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  private String scrape() throws Exception {
    var resp = scraper.send(java.net.http.HttpRequest.newBuilder(URI.create((metricsUrl == null ? url : metricsUrl) + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return resp.statusCode() == 200 ? resp.body() : "";
  }

  private void detail(StepReport row) {
    line(String.format("  step %d: %d API + %d widget users, load average %.2f -> %.2f, answers %d, deltas %d,"
            + " errors %s", row.users(), row.apiUsers(), row.users() - row.apiUsers(), row.loadBefore(),
        row.loadAfter(), row.stats().answers.sum(), row.stats().deltas.sum(), row.stats().errorsByCode()));
    line("    end to end:   TTFT " + row.stats().ttft.summary() + "; gaps " + row.stats().gaps.summary());
    line("    added:        per token n=" + row.added().count() + ", first token n=" + row.addedTtft().count());
    if (nodePid > 0) {
      StringBuilder cpu = new StringBuilder();
      row.cores().forEach((role, c) -> cpu.append(String.format("%s %.2f, ", role, c)));
      double tokens = Math.max(1, row.stats().tokens.sum());
      double seconds = row.seconds();
      line(String.format("    cpu (cores):  %smachine %.2f busy of %d; per delivered token: platform %.0f us"
              + " (node JVM without the engine, and PostgreSQL), engine %.0f us; node resident %d MiB at the end",
          cpu, row.machineCores(), Runtime.getRuntime().availableProcessors(),
          1e6 * row.platformCores() * seconds / tokens, 1e6 * row.cores().getOrDefault("engine", 0.0) * seconds / tokens,
          row.residentBytes() >> 20));
    }
    if (nodePid > 0) {
      line("    per turn:     " + row.costPer(row.stats().answers.sum()));
      if (!faqMode()) {
        line("    per token:    " + row.costPer(row.stats().tokens.sum()));
      }
    }
    if (faqMode()) {
      line("    answers by intent: " + row.stats().intents.byCode() + "; turn " + row.stats().turns.summary());
    }
    if (row.peer() != null) {
      line(String.format("    engine alone: %.0f tokens/s; TTFT %s; gaps %s", row.peer().tokensPerSecond(),
          row.peer().ttft().summary(), row.peer().gaps().summary()));
    }
  }

  /** Issue #25's FAQ target: >= 1,000 turns/s with p99 <= 100 ms (errors under 1%). */
  private void faqVerdict(List<StepReport> rows) {
    StepReport best = null;
    for (StepReport r : rows) {
      if (r.healthy() && r.stats().turns.millis(0.99) <= 100 && (best == null || r.turnsPerSecond() > best.turnsPerSecond())) {
        best = r;
      }
    }
    line(best == null ? "no step answered FAQ turns with p99 <= 100 ms and errors under 1%"
        : String.format("most FAQ turns/s with p99 <= 100 ms (errors under 1%%): %.0f turns/s at %d connections",
            best.turnsPerSecond(), best.users()));
    line("target >= 1,000 FAQ turns/s with p99 <= 100 ms: " + (best != null && best.turnsPerSecond() >= 1000 ? "met" : "NOT met"));
  }

  private void verdict(List<StepReport> rows) {
    StepReport held = null;
    StepReport tenMs = null;
    for (StepReport r : rows) {
      if (r.healthy() && r.added().shareAtOrUnder(0.05) >= 0.99) {
        held = r;
      }
      if (r.healthy() && r.users() >= 1000 && r.added().shareAtOrUnder(0.01) >= 0.99) {
        tenMs = r;
      }
    }
    line(held == null
        ? "no step held p99 added latency per token under 50 ms with errors under 1%"
        : String.format("largest step with p99 added latency per token under 50 ms (errors under 1%%): %d concurrent"
            + " users, %.0f streams open on average", held.users(), held.stats().meanOpen()));
    line("target 1,000 concurrent streams at p99 added latency <= 10 ms: " + (tenMs == null ? "NOT met"
        : String.format("met (%d users, %.0f streams open on average)", tenMs.users(), tenMs.stats().meanOpen())));
  }

  private void line(String s) {
    System.out.println(s);
    report.append(s).append('\n');
  }

  private static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (Exception e) {
      return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private String require(String key) {
    String v = opts.get(key);
    if (v == null) {
      throw new IllegalArgumentException("--" + key + " is required (or --self-host)");
    }
    return v;
  }
}
