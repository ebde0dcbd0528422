package ai.deepchat.bench;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.AtomicLong;

import static ai.deepchat.platform.testing.Await.await;

/**
 * The floor for a model turn's event-loop work (#25): what Vert.x itself costs for one streamed HTTP request
 * in, one streamed upstream HTTP request out (kept-alive connections) and the upstream's SSE chunks relayed
 * as they come (one response write per upstream read), on one event loop of its own, with nothing else: no
 * authentication, rate limit, bus, database, parsing or storage. Driven by closed-loop clients against the
 * bench's {@link TokenUpstream}; its event loop's thread CPU time per request is the figure.
 *
 * <pre>java -cp platform/launcher/target/test-classes:platform/launcher/target/classes:$(cat
 *   platform/launcher/target/bench.classpath) ai.deepchat.bench.RelayPeer [connections] [seconds] [tokens] [rate]</pre>
 */
final class RelayPeer {

  /** Per relayed request: the relay's event-loop CPU in microseconds, and the requests per second. */
  record Result(double requestsPerSecond, double eventLoopMicros, double chunksPerRequest) {
  }

  private RelayPeer() {
  }

  public static void main(String[] args) throws Exception {
    int connections = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    long seconds = args.length > 1 ? Long.parseLong(args[1]) : 20;
    int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    double rate = args.length > 3 ? Double.parseDouble(args[3]) : 200;
    Vertx clients = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    try {
      TokenUpstream upstream = new TokenUpstream(clients, rate);
      String base = await(upstream.start());
      // two rounds: the first one is the JIT's
      for (int round = 0; round < 3; round++) {
        Result r = run(clients, base, connections, round == 0 ? Math.max(seconds, 30) : seconds, tokens);
        System.out.printf("%s: %d connections, %d tokens at %.0f/s: %.0f requests/s, %.1f chunks relayed per request,"
                + " relay event loop %.1f us per request (load average %s)%n", round == 0 ? "warm-up" : "round " + round,
            connections, tokens, rate, r.requestsPerSecond(), r.chunksPerRequest(), r.eventLoopMicros(),
            java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0]);
      }
      await(upstream.close());
    } finally {
      await(clients.close());
    }
  }

  static Result run(Vertx clients, String upstreamBase, int connections, long seconds, int tokens) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      HttpClient upstream = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(connections));
      Buffer ask = new JsonObject().put("model", "bench").put("stream", true).put("max_tokens", tokens)
          .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "What are your opening hours?")))
          .toBuffer();
      long[] loopThread = {0};
      AtomicLong chunks = new AtomicLong();
      Promise<Integer> port = Promise.promise();
      vertx.runOnContext(v -> {
        loopThread[0] = Thread.currentThread().getId();
        vertx.createHttpServer().requestHandler(req -> req.body()
                .compose(body -> upstream.request(new RequestOptions().setMethod(HttpMethod.POST)
                    .setAbsoluteURI(upstreamBase + "/chat/completions").putHeader("content-type", "application/json")))
                .compose(up -> up.send(ask))
                .onSuccess(in -> {
                  HttpServerResponse out = req.response().setChunked(true).putHeader("content-type", "text/event-stream");
                  in.handler(chunk -> {
                    chunks.incrementAndGet();
                    out.write(chunk);
                  });
                  in.endHandler(x -> out.end());
                  in.exceptionHandler(err -> req.connection().close());
                })
                .onFailure(err -> req.response().setStatusCode(502).end()))
            .listen(0, "127.0.0.1").onSuccess(s -> port.complete(s.actualPort())).onFailure(port::fail);
      });
      int serverPort = await(port.future());
      HttpClient http = clients.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
          .setDefaultPort(serverPort), new PoolOptions().setHttp1MaxSize(connections));
      AtomicLong done = new AtomicLong();
      boolean[] running = {true};
      for (int i = 0; i < connections; i++) {
        loop(http, done, running);
      }
      Thread.sleep(3_000); // connections opened, not measured
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      long loopBefore = threads.getThreadCpuTime(loopThread[0]);
      long countBefore = done.get();
      long chunksBefore = chunks.get();
      Thread.sleep(seconds * 1000);
      long n = Math.max(1, done.get() - countBefore);
      long loopNanos = threads.getThreadCpuTime(loopThread[0]) - loopBefore;
      long relayed = chunks.get() - chunksBefore;
      running[0] = false;
      await(http.close());
      return new Result(n / (double) seconds, loopNanos / 1e3 / n, relayed / (double) n);
    } finally {
      await(vertx.close());
    }
  }

  private static void loop(HttpClient http, AtomicLong done, boolean[] running) {
    if (!running[0]) {
      return;
    }
    http.request(HttpMethod.POST, "/v1/chat/completions")
        .compose(req -> req.putHeader("content-type", "application/json")
            .send("{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"What are your opening hours?\"}]}")
            .compose(r -> r.body()))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            done.incrementAndGet();
          }
          loop(http, done, running);
        });
  }
}
