package ai.deepchat.handoff;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.handoff.HandoffMessages.StaffEvent;
import ai.deepchat.policy.audit.AuditLog;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;

/**
 * The handoff feature of one node (one per Vert.x instance, whoever asks first builds it; the widget and
 * the console share it): the {@link Handoffs} service, the node's agent inbox streams fed from
 * {@link Addresses#HANDOFF_STAFF}, and one timer that refreshes the presence heartbeat of the agents
 * whose stream this node holds and puts back in the queue the conversations of agents whose heartbeat
 * stopped (their node died). Visitor frames are delivered by the widget's socket registry.
 */
public final class HandoffNode implements Shareable {

  private static final Logger LOG = LoggerFactory.getLogger(HandoffNode.class);
  private static final String MAP = "deepchat.handoff";
  private static final String KEY = "node";

  private final Handoffs handoffs;
  private final InboxQueries inbox;
  private final StaffStreams streams = new StaffStreams();

  private HandoffNode(Vertx vertx, Platform platform) {
    var config = platform.config().handoff();
    AuditLog audit = new AuditLog(platform.database());
    this.handoffs = new Handoffs(platform.database(), audit, new HandoffEvents(vertx), config.agentTimeoutSeconds(),
        Clock.systemUTC());
    this.inbox = new InboxQueries(platform.database(), audit, config.agentTimeoutSeconds());
    vertx.eventBus().<StaffEvent>consumer(Addresses.HANDOFF_STAFF, msg -> streams.deliver(msg.body()));
    vertx.setPeriodic(config.heartbeatSeconds() * 1000L, id -> tick());
  }

  /** This Vert.x instance's handoff node (in its local shared data), created on first use. */
  public static HandoffNode of(Vertx vertx, Platform platform) {
    return (HandoffNode) vertx.sharedData().getLocalMap(MAP).computeIfAbsent(KEY, k -> new HandoffNode(vertx, platform));
  }

  public Handoffs handoffs() {
    return handoffs;
  }

  public InboxQueries inbox() {
    return inbox;
  }

  /**
   * Opens an agent's inbox stream on this node: its events from now on, and its presence kept fresh.
   * False when the agent already holds {@link StaffStreams#MAX_PER_USER} streams here.
   */
  public boolean attach(StaffStreams.Stream stream) {
    if (!streams.add(stream)) {
      return false;
    }
    handoffs.assignment().heartbeat(stream.tenantId(), java.util.List.of(stream.userId()))
        .onFailure(err -> LOG.warn("agent heartbeat failed: {}", err.toString()));
    return true;
  }

  public void detach(StaffStreams.Stream stream) {
    streams.remove(stream);
  }

  private void tick() {
    streams.agents().forEach((tenant, agents) -> handoffs.assignment().heartbeat(tenant, agents)
        .onFailure(err -> LOG.warn("agent heartbeat for tenant {} failed: {}", tenant, err.toString())));
    handoffs.assignment().requeueStale().onFailure(err -> LOG.warn("requeueing stale handoffs failed: {}", err.toString()));
  }
}
