package ai.deepchat.platform.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * WebSocket clients for tests, kept referenced until the JVM ends: Vert.x closes a client that the
 * garbage collector finds unreachable, and with it every socket it opened, even one mid-handshake
 * ("Connection closed while handshake in process") or mid-test. A test that keeps only the socket
 * fails whenever a collection happens to run at that moment.
 */
public final class WebSockets {

  private static final Queue<WebSocketClient> KEPT = new ConcurrentLinkedQueue<>();

  private WebSockets() {
  }

  /** A new client of {@code vertx} that stays open until {@code vertx} closes. */
  public static WebSocketClient client(Vertx vertx) {
    WebSocketClient client = vertx.createWebSocketClient();
    KEPT.add(client);
    return client;
  }
}
