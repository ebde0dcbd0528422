package ai.deepchat.platform.handoff;

import java.util.List;

/**
 * Records of the human handoff (issue #18) on the bus. Both are published to every node: a visitor's
 * widget socket and an agent's inbox stream may be on any node, and each node hands a record to the
 * connections it holds. The bus is best-effort, so each record only signals what PostgreSQL already
 * holds (a reply is stored before it is published; a client that reconnects reads the history). Tenant
 * ids are UUID text and {@code json} a JSON object's text, like the other contracts.
 */
public final class HandoffMessages {

  private HandoffMessages() {
  }

  /** The records that travel on the bus. */
  public static final List<Class<? extends Record>> TYPES = List.of(VisitorFrame.class, StaffEvent.class);

  /** One widget frame ({@code json}: the frame, with its {@code type}) for every socket of one visitor. */
  public record VisitorFrame(String tenantId, String visitorId, String json) {
  }

  /**
   * One inbox event for the tenant's staff streams: {@code event} is the SSE event name (queue, message,
   * typing, assigned, resolved, presence), {@code json} its data.
   */
  public record StaffEvent(String tenantId, String event, String json) {
  }
}
