package ai.deepchat.policy.moderation;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.PolicyMessages.ModerationRequest;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.UUID;

/**
 * Answers {@link ModerationRequest}s on {@link Addresses#POLICY_MODERATE} for callers on other nodes.
 * Failures: 400 for a malformed tenant id, 503 when the word list cannot be loaded.
 */
public final class ModerationVerticle extends VerticleBase {

  private final Database database;
  private ModerationService service;
  private MessageConsumer<ModerationRequest> consumer;

  public ModerationVerticle(Database database) {
    this.database = database;
  }

  @Override
  public Future<?> start() {
    service = ModerationService.create(vertx, database);
    consumer = vertx.eventBus().consumer(Addresses.POLICY_MODERATE, msg -> {
      ModerationRequest req = msg.body();
      UUID tenant;
      try {
        tenant = UUID.fromString(req.tenantId());
      } catch (RuntimeException e) {
        BusFailure.INVALID_REQUEST.fail(msg, "malformed tenant id");
        return;
      }
      service.checkInput(tenant, req.text() == null ? "" : req.text())
          .onSuccess(msg::reply)
          .onFailure(err -> BusFailure.UNAVAILABLE.fail(msg, "moderation unavailable: " + err.getMessage()));
    });
    return Future.all(consumer.completion(), service.ready());
  }

  @Override
  public Future<?> stop() {
    return Future.all(consumer.unregister(), service.close());
  }
}
