package ai.deepchat.gateway;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open connections per client address on the public port, for every gateway instance of the node
 * together (they share the port, so one client's connections land on several instances). A client
 * that opens more than HTTP_MAX_CONNECTIONS_PER_ADDRESS cannot hold the node's file descriptors and
 * event loops with idle or trickling sockets.
 */
final class ClientConnections implements Shareable {

  private static final String MAP = "deepchat.gateway";
  private static final String KEY = "connections";

  private final int maxPerAddress;
  private final ConcurrentHashMap<String, AtomicInteger> open = new ConcurrentHashMap<>();

  private ClientConnections(int maxPerAddress) {
    this.maxPerAddress = maxPerAddress;
  }

  static ClientConnections of(Vertx vertx, int maxPerAddress) {
    return (ClientConnections) vertx.sharedData().getLocalMap(MAP)
        .computeIfAbsent(KEY, k -> new ClientConnections(maxPerAddress));
  }

  /** Counts a new connection; false when it is one more than the address may hold (still counted). */
  boolean opened(String address) {
    int n = open.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
    return maxPerAddress <= 0 || n <= maxPerAddress;
  }

  void closed(String address) {
    // drop the entry at zero so the map holds only addresses with open connections
    open.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
  }

  int open(String address) {
    AtomicInteger n = open.get(address);
    return n == null ? 0 : n.get();
  }
}
