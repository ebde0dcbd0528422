package ai.deepchat.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The floor for relaying a token (#25): Debian's nginx, as the current user on loopback with a config of
 * its own in a temporary folder, relaying the bench's token upstream with buffering off, driven by the
 * same API clients as the node. Its CPU (master and worker) per delivered token is what relaying alone
 * costs; the platform's per token is reported as a multiple of it. Skipped where nginx is not installed.
 */
final class NginxPeer {

  /** nginx's figures over the window: delivered tokens/s and its CPU per token. */
  record Result(double tokensPerSecond, double microsPerToken) {
  }

  private NginxPeer() {
  }

  /** The nginx binary, or null: not installed. */
  static Path binary() {
    for (String p : List.of("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx")) {
      if (Files.isExecutable(Path.of(p))) {
        return Path.of(p);
      }
    }
    return null;
  }

  static Result run(Vertx vertx, Path nginx, String upstreamBase, int users, String message, int maxTokens,
                    long thinkMs, long warmupMs, long windowMs) throws Exception {
    Path dir = Files.createTempDirectory("deepchat-bench-nginx");
    int port = freePort();
    Files.writeString(dir.resolve("nginx.conf"), config(dir, port, upstreamBase.replaceFirst("^http://", "")));
    Process process = new ProcessBuilder(nginx.toString(), "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString(),
        "-e", dir.resolve("error.log").toString()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("stdout.log").toFile()).start();
    HttpClient http = null;
    List<LoadClient> clients = new ArrayList<>();
    try {
      awaitListening(port, process);
      http = BenchClients.http(vertx, "http://127.0.0.1:" + port, users, false);
      StepStats stats = new StepStats();
      long from = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMs);
      stats.window(from, from + TimeUnit.MILLISECONDS.toNanos(windowMs));
      for (int i = 0; i < users; i++) {
        LoadClient c = new ApiStreamer(vertx, stats, message, thinkMs, http, "none", maxTokens, 0);
        clients.add(c);
        vertx.setTimer(1 + i * Math.max(1, warmupMs / 2 / Math.max(1, users)), t -> c.start());
      }
      Thread.sleep(warmupMs);
      long before = ticks(process.toHandle());
      Thread.sleep(windowMs);
      long used = ticks(process.toHandle()) - before;
      double tokens = Math.max(1, stats.tokens.sum());
      return new Result(stats.tokens.sum() / (windowMs / 1000.0), 1e6 * CpuAccount.toCores(used, 1) / tokens);
    } finally {
      clients.forEach(LoadClient::stop);
      Future.join(clients.stream().map(LoadClient::finished).toList())
          .toCompletionStage().toCompletableFuture().completeOnTimeout(null, 30, TimeUnit.SECONDS).join();
      if (http != null) {
        http.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      process.destroy(); // SIGTERM: nginx's fast shutdown, workers included
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /** One worker, no access log, no buffering of the upstream's answer: each token is relayed as it comes. */
  private static String config(Path dir, int port, String upstream) {
    return """
        daemon off;
        %4$s
        worker_processes 1;
        pid %1$s/nginx.pid;
        events { worker_connections 4096; }
        http {
          access_log off;
          client_body_temp_path %1$s/body;
          proxy_temp_path %1$s/proxy;
          fastcgi_temp_path %1$s/fastcgi;
          uwsgi_temp_path %1$s/uwsgi;
          scgi_temp_path %1$s/scgi;
          upstream tokens { server %3$s; keepalive 256; }
          server {
            listen 127.0.0.1:%2$d;
            location / {
              proxy_pass http://tokens;
              proxy_http_version 1.1;
              proxy_set_header Connection "";
              proxy_buffering off;
            }
          }
        }
        """.formatted(dir, port, upstream,
        // as root nginx would hand its worker to nobody: it runs as the current user instead
        "root".equals(System.getProperty("user.name")) ? "user root;" : "");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void awaitListening(int port, Process process) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < until) {
      if (!process.isAlive()) {
        throw new IllegalStateException("nginx exited with " + process.exitValue());
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("nginx did not listen on 127.0.0.1:" + port + " within 10 s");
  }

  /** CPU ticks of nginx's master and workers. */
  private static long ticks(ProcessHandle master) {
    long sum = CpuAccount.processTicks(master.pid());
    for (ProcessHandle worker : master.descendants().toList()) {
      sum += CpuAccount.processTicks(worker.pid());
    }
    return sum;
  }
}
