package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.cluster.ClusterMessages.ReachReport;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.util.ArrayList;
import java.util.List;

/**
 * Answers {@link Addresses#PLATFORM_PING} with this node's id: a probe that the bus reaches a node.
 * Also runs reach checks from this node ({@link Addresses#platformReach}), so a test or an operator's
 * probe can tell that every node, not only the asker, reaches every address's consumers.
 */
public final class NodePingVerticle extends VerticleBase {

  /** A check is a burst of requests: bounded, so a mistaken header cannot flood the bus. */
  static final int MAX_REACH_COUNT = 1000;
  static final long MAX_REACH_TIMEOUT_MS = 30_000;

  private final String nodeId;

  public NodePingVerticle(String nodeId) {
    this.nodeId = nodeId;
  }

  @Override
  public Future<?> start() {
    var bus = vertx.eventBus();
    return Future.all(bus.<Object>consumer(Addresses.PLATFORM_PING, msg -> msg.reply(nodeId)).completion(),
        bus.consumer(Addresses.platformReach(nodeId), this::reach).completion());
  }

  private void reach(Message<Object> msg) {
    String address = msg.headers().get(Addresses.REACH_ADDRESS);
    int count;
    long timeoutMs;
    try {
      count = Integer.parseInt(msg.headers().get(Addresses.REACH_COUNT));
      timeoutMs = Long.parseLong(msg.headers().get(Addresses.REACH_TIMEOUT_MS));
    } catch (NumberFormatException e) {
      BusFailure.INVALID_REQUEST.fail(msg, "reach-count and reach-timeout-ms must be numbers");
      return;
    }
    if (address == null || count < 1 || count > MAX_REACH_COUNT || timeoutMs < 1 || timeoutMs > MAX_REACH_TIMEOUT_MS) {
      BusFailure.INVALID_REQUEST.fail(msg, "a reach check needs reach-address, reach-count 1.." + MAX_REACH_COUNT
          + " and reach-timeout-ms 1.." + MAX_REACH_TIMEOUT_MS);
      return;
    }
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(timeoutMs);
    List<Future<Object>> replies = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      replies.add(vertx.eventBus().request(address, msg.body(), options).map(m -> (Object) m.body())
          .recover(err -> err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE
              ? Future.succeededFuture("refused") : Future.failedFuture(err)));
    }
    Future.join(replies).onComplete(done -> {
      List<String> errors = replies.stream().filter(Future::failed).map(f -> String.valueOf(f.cause().getMessage()))
          .toList();
      msg.reply(new ReachReport(nodeId, address, count - errors.size(), errors));
    });
  }
}
