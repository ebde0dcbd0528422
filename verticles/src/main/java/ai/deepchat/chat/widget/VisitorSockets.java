package ai.deepchat.chat.widget;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.handoff.HandoffMessages.VisitorFrame;
import ai.deepchat.platform.policy.PolicyMessages.VisitorsRevoked;
import io.vertx.core.Vertx;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open widget sockets of one node, by visitor (node-wide, shared by the gateway instances): caps
 * how many one visitor holds, and closes a visitor's (or a whole tenant's) sockets when
 * {@link VisitorsRevoked} says their tokens ended (visitor erased, widget key rotated), and hands a
 * visitor's sockets the handoff frames ({@link VisitorFrame}) published for that visitor by any node.
 */
public final class VisitorSockets {

  /** A widget opens one socket per tab; more than this from one visitor is a script, not a person. */
  public static final int MAX_PER_VISITOR = 8;

  private record Key(UUID tenantId, String visitorId) {
  }

  /** One open socket; both methods hop to the socket's own context. */
  interface Socket {
    void close();

    void send(String json);
  }

  private final Map<Key, Set<Socket>> open = new ConcurrentHashMap<>();
  private final int maxPerVisitor;

  public VisitorSockets(int maxPerVisitor) {
    this.maxPerVisitor = maxPerVisitor;
  }

  /** One per node, listening for revocations from every node. */
  public static VisitorSockets listen(Vertx vertx) {
    VisitorSockets sockets = new VisitorSockets(MAX_PER_VISITOR);
    vertx.eventBus().<VisitorsRevoked>consumer(Addresses.WIDGET_VISITORS_REVOKED, msg -> sockets.revoke(msg.body()));
    vertx.eventBus().<VisitorFrame>consumer(Addresses.HANDOFF_VISITOR, msg -> sockets.deliver(msg.body()));
    return sockets;
  }

  /** Tells every node to close the sockets of these tokens; call once the change is committed. */
  public static void publish(Vertx vertx, UUID tenantId, String visitorId) {
    vertx.eventBus().publish(Addresses.WIDGET_VISITORS_REVOKED, new VisitorsRevoked(tenantId.toString(), visitorId));
  }

  /**
   * Registers a socket. False when the visitor already holds the maximum.
   */
  boolean add(VisitorTokens.Visitor visitor, Socket close) {
    boolean[] added = {false};
    open.compute(new Key(visitor.tenantId(), visitor.visitorId()), (k, set) -> {
      Set<Socket> s = set == null ? ConcurrentHashMap.newKeySet() : set;
      if (s.size() < maxPerVisitor) {
        added[0] = s.add(close);
      }
      return s.isEmpty() ? null : s;
    });
    return added[0];
  }

  void remove(VisitorTokens.Visitor visitor, Socket close) {
    open.computeIfPresent(new Key(visitor.tenantId(), visitor.visitorId()), (k, set) -> {
      set.remove(close);
      return set.isEmpty() ? null : set;
    });
  }

  private void revoke(VisitorsRevoked revoked) {
    UUID tenant;
    try {
      tenant = UUID.fromString(revoked.tenantId());
    } catch (IllegalArgumentException | NullPointerException e) {
      return;
    }
    for (Key key : open.keySet()) {
      if (key.tenantId().equals(tenant) && (revoked.visitorId() == null || revoked.visitorId().equals(key.visitorId()))) {
        Set<Socket> closers = open.remove(key);
        if (closers != null) {
          closers.forEach(Socket::close);
        }
      }
    }
  }

  private void deliver(VisitorFrame frame) {
    UUID tenant;
    try {
      tenant = UUID.fromString(frame.tenantId());
    } catch (IllegalArgumentException | NullPointerException e) {
      return;
    }
    Set<Socket> sockets = open.get(new Key(tenant, frame.visitorId()));
    if (sockets != null) {
      sockets.forEach(s -> s.send(frame.json())); // a concurrent set: sockets come and go meanwhile
    }
  }
}
