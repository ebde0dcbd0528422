package ai.deepchat.handoff;

import ai.deepchat.platform.handoff.HandoffMessages.StaffEvent;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The agent inbox streams open on this node, by tenant (node-wide, shared by the gateway instances):
 * each gets the tenant's {@link StaffEvent}s, and while it is open its agent's presence heartbeat is kept
 * fresh ({@link HandoffNode}). A stream's consumer must hop to its own context.
 */
public final class StaffStreams {

  /** One open stream: its agent and where its events go. */
  public record Stream(UUID tenantId, UUID userId, Consumer<StaffEvent> sink) {
  }

  private final Map<UUID, Set<Stream>> open = new ConcurrentHashMap<>();

  /** An inbox is one stream per browser tab; more than this from one person is a script, not a person. */
  public static final int MAX_PER_USER = 8;

  /** Registers a stream; false (nothing registered) when its user already holds {@link #MAX_PER_USER} on this node. */
  public boolean add(Stream s) {
    boolean[] added = {false};
    open.compute(s.tenantId(), (k, set) -> {
      Set<Stream> streams = set == null ? ConcurrentHashMap.newKeySet() : set;
      if (streams.stream().filter(x -> x.userId().equals(s.userId())).count() < MAX_PER_USER) {
        added[0] = streams.add(s);
      }
      return streams.isEmpty() ? null : streams;
    });
    return added[0];
  }

  public void remove(Stream s) {
    open.computeIfPresent(s.tenantId(), (k, set) -> {
      set.remove(s);
      return set.isEmpty() ? null : set;
    });
  }

  void deliver(StaffEvent event) {
    UUID tenant;
    try {
      tenant = UUID.fromString(event.tenantId());
    } catch (IllegalArgumentException | NullPointerException e) {
      return;
    }
    Set<Stream> streams = open.get(tenant);
    if (streams != null) {
      streams.forEach(s -> s.sink().accept(event));
    }
  }

  /** The agents with an open stream here, by tenant (for the presence heartbeat). */
  Map<UUID, Set<UUID>> agents() {
    Map<UUID, Set<UUID>> agents = new java.util.HashMap<>();
    open.forEach((tenant, streams) -> streams.forEach(s ->
        agents.computeIfAbsent(tenant, k -> new java.util.HashSet<>()).add(s.userId())));
    return agents;
  }
}
