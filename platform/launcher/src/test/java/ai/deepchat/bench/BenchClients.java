package ai.deepchat.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;

import java.net.URI;

/** The load generators' HTTP and WebSocket clients for a node at {@code url}. */
final class BenchClients {

  private BenchClients() {
  }

  static HttpClient http(Vertx vertx, String url, int connections, boolean gzip) {
    URI base = URI.create(url);
    // like the OpenAI SDKs (httpx), the API clients ask for gzip; the platform decides whether to use it
    return vertx.createHttpClient(new HttpClientOptions().setDefaultHost(base.getHost())
            .setDefaultPort(base.getPort()).setSsl("https".equals(base.getScheme())).setKeepAlive(true)
            .setDecompressionSupported(gzip),
        new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
  }

  static WebSocketClient webSockets(Vertx vertx, String url, int sockets, boolean deflate) {
    URI base = URI.create(url);
    // browsers offer permessage-deflate on every WebSocket; the bench does the same unless told not to
    return vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost(base.getHost())
        .setDefaultPort(base.getPort()).setSsl("https".equals(base.getScheme()))
        .setMaxConnections(Math.max(1, sockets * 2))
        .setTryUsePerMessageCompression(deflate));
  }
}
