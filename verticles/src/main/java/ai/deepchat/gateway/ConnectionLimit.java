package ai.deepchat.gateway;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Enforces {@link ClientConnections} on one gateway instance's server: a connection over its
 * address's cap gets one clear answer (429, Retry-After, Connection: close) to its first request and
 * is closed; one that sends nothing is closed after a second. Connections of this instance arrive on
 * its event loop, so the set of refused ones needs no lock.
 */
final class ConnectionLimit {

  private static final long SILENT_CLOSE_MS = 1000;

  private final Vertx vertx;
  private final ClientConnections counts;
  private final int retryAfterSeconds;
  private final Set<HttpConnection> refused = Collections.newSetFromMap(new IdentityHashMap<>());

  ConnectionLimit(Vertx vertx, ClientConnections counts, int retryAfterSeconds) {
    this.vertx = vertx;
    this.counts = counts;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Installs the count on {@code server}; returns the request handler to give it, wrapping {@code next}. */
  Handler<HttpServerRequest> install(HttpServer server, Handler<HttpServerRequest> next) {
    server.connectionHandler(this::connected);
    return req -> {
      if (refused.contains(req.connection())) {
        refuse(req);
      } else {
        next.handle(req);
      }
    };
  }

  private void connected(HttpConnection conn) {
    String address = conn.remoteAddress() == null ? "unknown" : conn.remoteAddress().hostAddress();
    boolean within = counts.opened(address);
    conn.closeHandler(v -> {
      counts.closed(address);
      refused.remove(conn);
    });
    if (!within) {
      refused.add(conn);
      vertx.setTimer(SILENT_CLOSE_MS, t -> {
        if (refused.contains(conn)) {
          conn.close();
        }
      });
    }
  }

  private void refuse(HttpServerRequest req) {
    req.response().putHeader("Retry-After", String.valueOf(retryAfterSeconds)).putHeader("Connection", "close")
        .putHeader("Content-Type", "application/json; charset=utf-8").setStatusCode(429)
        .end(HttpErrors.body("Too many connections from your address; close some and retry.",
            "rate_limit_error", "too_many_connections").encode())
        .onComplete(ar -> req.connection().close());
  }
}
