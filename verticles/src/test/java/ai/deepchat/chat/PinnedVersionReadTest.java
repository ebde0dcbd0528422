package ai.deepchat.chat;

import ai.deepchat.canary.CanaryTestSupport;
import ai.deepchat.canary.registry.ModelVersion;
import ai.deepchat.canary.registry.Scope;
import ai.deepchat.canary.rollout.RolloutMode;
import ai.deepchat.canary.rollout.RolloutService.StartRequest;
import ai.deepchat.canary.rollout.Routing;
import ai.deepchat.chat.dispatch.CanaryModelDispatcher;
import ai.deepchat.chat.dispatch.ModelChoice;
import ai.deepchat.chat.dispatch.TenantModelDispatcher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static ai.deepchat.canary.CanaryTestSupport.ADMIN;
import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A continuing turn looks up the version its conversation is pinned to only where the rollout routing can keep
 * it there (an active canary or A/B rollout): without one the pin cannot change the choice, and the lookup is one
 * statement per continuing turn.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PinnedVersionReadTest {

  private static final String UPSTREAM = "http://127.0.0.1:9/v1"; // never called: only the choice is looked at

  private ChatHarness h;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    h = new ChatHarness(vertx).startWithCanary(Map.of("OUTBOUND_ALLOWED_HOSTS", "127.0.0.1"));
  }

  private void awaitRouting(UUID tenant, Predicate<Routing> seen) throws Exception {
    until("the routing change reached the chooser", Duration.ofSeconds(10),
        () -> seen.test(await(h.canary.chooser().routing(Scope.tenant(tenant)))));
  }

  /** The version a turn of {@code conversation} (stored or new) gets, chosen on a transaction of its own. */
  private Future<ModelChoice> choose(CanaryModelDispatcher d, UUID tenant, UUID conversation, boolean stored) {
    return d.inTransaction(tenant, conversation, stored, null).compose(choice -> h.db.inTenant(tenant, choice));
  }

  /**
   * With conversations locked by another session (ACCESS EXCLUSIVE: a read of the pin waits): without a rollout
   * the choice is made all the same; with a full canary it waits for the pin, which keeps the conversation on
   * its stable version while a new conversation gets the candidate.
   */
  @Test
  void thePinIsReadOnlyWhereARolloutCanKeepIt() throws Exception {
    ChatHarness.Tenant t = h.tenant("pin-read");
    ModelVersion stable = CanaryTestSupport.stable(h.canary, t.id(),
        CanaryTestSupport.openai(h.canary, t.id(), "pin-v1", UPSTREAM));
    ModelVersion candidate = CanaryTestSupport.openai(h.canary, t.id(), "pin-v2", UPSTREAM);
    UUID conv = UUID.fromString(h.string("INSERT INTO conversations (tenant_id, channel, model_version_id) VALUES ('"
        + t.id() + "', 'widget', '" + stable.id() + "') RETURNING id"));
    awaitRouting(t.id(), r -> r.serving() != null);
    CanaryModelDispatcher d = new CanaryModelDispatcher(h.db, h.canary.chooser(),
        new TenantModelDispatcher(h.db, h.platform.config()));

    try (Connection c = h.testDb.ownerJdbc(); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE");
      assertThat(await(choose(d, t.id(), conv, true), Duration.ofSeconds(10)).name()).isEqualTo("pin-v1");
      c.rollback();
    }

    await(h.canary.rollouts().start(Scope.tenant(t.id()),
        new StartRequest(RolloutMode.CANARY, candidate.id(), 10_000, List.of(), null), ADMIN));
    awaitRouting(t.id(), r -> r.active() != null);
    try (Connection c = h.testDb.ownerJdbc(); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE");
      Future<ModelChoice> pinned = choose(d, t.id(), conv, true);
      Thread.sleep(500);
      assertThat(pinned.isComplete()).as("the pin is read, so the choice waits for the lock").isFalse();
      c.rollback();
      assertThat(await(pinned, Duration.ofSeconds(10)).name()).isEqualTo("pin-v1");
    }
    assertThat(await(choose(d, t.id(), UUID.randomUUID(), false)).name()).isEqualTo("pin-v2");
  }
}
