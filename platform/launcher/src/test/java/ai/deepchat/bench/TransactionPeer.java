package ai.deepchat.bench;

import ai.deepchat.platform.db.DatabaseEndpoint;
import ai.deepchat.platform.db.EmbeddedDatabase;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static ai.deepchat.platform.testing.Await.await;

/**
 * The floor for a stored turn: a minimal Vert.x handler doing exactly one PostgreSQL transaction (one
 * insert, committed before the answer, as an acknowledged turn is) per request, on one event loop of its
 * own and a PostgreSQL of its own, driven by the bench's clients in a closed loop. Its CPU per request
 * (that event loop's thread CPU time plus its PostgreSQL's processes) is what a stored turn costs at the
 * least; the platform's cost per turn is reported as a multiple of it.
 */
final class TransactionPeer {

  /** CPU per request, in microseconds: the handler's event loop and its PostgreSQL. */
  record Result(double requestsPerSecond, double eventLoopMicros, double postgresMicros) {
    double totalMicros() {
      return eventLoopMicros + postgresMicros;
    }
  }

  private TransactionPeer() {
  }

  static Result run(Vertx clients, int connections, long seconds) throws Exception {
    Path dir = Files.createTempDirectory("deepchat-bench-txpeer");
    Path data = dir.resolve("postgres");
    try (EmbeddedDatabase db = EmbeddedDatabase.start(data, 0)) {
      DatabaseEndpoint e = db.ownerEndpoint();
      Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
      try {
        Pool pool = PgBuilder.pool().with(new io.vertx.sqlclient.PoolOptions().setMaxSize(8))
            .connectingTo(new PgConnectOptions().setHost(e.host()).setPort(e.port()).setDatabase(e.database())
                .setUser(e.user()).setPassword(e.password())).using(vertx).build();
        await(pool.query("CREATE TABLE IF NOT EXISTS turns (id bigserial PRIMARY KEY, body text NOT NULL, "
            + "created_at timestamptz NOT NULL DEFAULT now())").execute());
        long[] loopThread = {0};
        Promise<Integer> port = Promise.promise();
        vertx.runOnContext(v -> {
          loopThread[0] = Thread.currentThread().getId();
          vertx.createHttpServer().requestHandler(req -> req.body()
                  .compose(body -> pool.withTransaction(c -> c.preparedQuery("INSERT INTO turns (body) VALUES ($1) RETURNING id")
                      .execute(Tuple.of(body.toString()))))
                  .onSuccess(rows -> req.response().putHeader("content-type", "application/json")
                      .end("{\"id\":" + rows.iterator().next().getLong(0) + "}"))
                  .onFailure(err -> req.response().setStatusCode(500).end()))
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
        Thread.sleep(3_000); // warm-up, not measured
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long loopBefore = threads.getThreadCpuTime(loopThread[0]);
        Map<String, Long> pgBefore = CpuAccount.snapshot(1, data.toString());
        long countBefore = done.get();
        Thread.sleep(seconds * 1000);
        long n = Math.max(1, done.get() - countBefore);
        long loopNanos = threads.getThreadCpuTime(loopThread[0]) - loopBefore;
        long pgTicks = CpuAccount.snapshot(1, data.toString()).getOrDefault("postgres", 0L)
            - pgBefore.getOrDefault("postgres", 0L);
        running[0] = false;
        await(http.close());
        return new Result(n / (double) seconds, loopNanos / 1e3 / n, pgTicks * 1e4 / n);
      } finally {
        await(vertx.close());
      }
    }
  }

  private static void loop(HttpClient http, AtomicLong done, boolean[] running) {
    if (!running[0]) {
      return;
    }
    http.request(HttpMethod.POST, "/turn")
        .compose(req -> req.send("{\"message\":\"What are your opening hours?\"}").compose(r -> r.body()))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            done.incrementAndGet();
          }
          loop(http, done, running);
        });
  }
}
