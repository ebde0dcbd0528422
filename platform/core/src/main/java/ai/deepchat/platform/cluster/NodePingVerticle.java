package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** Answers {@link Addresses#PLATFORM_PING} with this node's id: a probe that the bus reaches a node. */
public final class NodePingVerticle extends VerticleBase {

  private final String nodeId;

  public NodePingVerticle(String nodeId) {
    this.nodeId = nodeId;
  }

  @Override
  public Future<?> start() {
    return vertx.eventBus().<Object>consumer(Addresses.PLATFORM_PING, msg -> msg.reply(nodeId)).completion();
  }
}
