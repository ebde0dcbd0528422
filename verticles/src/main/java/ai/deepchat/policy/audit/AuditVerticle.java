package ai.deepchat.policy.audit;

import ai.deepchat.platform.bus.Addresses;
import ai.deepchat.platform.bus.BusFailure;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends {@link AuditEntry}s sent to {@link Addresses#POLICY_AUDIT_APPEND} and replies with the
 * stored row's receipt. Failures: 400 for an invalid entry, 503 when the database refuses.
 */
public final class AuditVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AuditVerticle.class);

  private final AuditLog log;
  private MessageConsumer<AuditEntry> consumer;

  public AuditVerticle(Database database) {
    this.log = new AuditLog(database);
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().consumer(Addresses.POLICY_AUDIT_APPEND, msg -> log.append(msg.body())
        .onSuccess(msg::reply)
        .onFailure(err -> {
          if (err instanceof IllegalArgumentException) {
            BusFailure.INVALID_REQUEST.fail(msg, err.getMessage());
          } else {
            LOG.error("audit append failed for tenant {}", msg.body().tenantId(), err);
            BusFailure.UNAVAILABLE.fail(msg, "audit log unavailable");
          }
        }));
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    return consumer.unregister();
  }
}
