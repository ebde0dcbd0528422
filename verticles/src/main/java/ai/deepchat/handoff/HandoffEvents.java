package ai.deepchat.handoff;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.handoff.HandoffMessages.StaffEvent;
import ai.deepchat.platform.handoff.HandoffMessages.VisitorFrame;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.UUID;

/**
 * Publishes handoff events on the bus, after the change they report is committed: widget frames to
 * the node holding the visitor's socket, inbox events to every node holding one of the tenant's
 * inbox streams (see docs/api.md, "Human handoff").
 */
final class HandoffEvents {

  private final Vertx vertx;

  HandoffEvents(Vertx vertx) {
    this.vertx = vertx;
  }

  void toVisitor(UUID tenantId, String visitorId, JsonObject frame) {
    if (visitorId != null) {
      vertx.eventBus().publish(Addresses.HANDOFF_VISITOR, new VisitorFrame(tenantId.toString(), visitorId, frame.encode()));
    }
  }

  void toStaff(UUID tenantId, String event, JsonObject data) {
    vertx.eventBus().publish(Addresses.HANDOFF_STAFF, new StaffEvent(tenantId.toString(), event, data.encode()));
  }

  void queueChanged(UUID tenantId) {
    toStaff(tenantId, "queue", new JsonObject());
  }
}
