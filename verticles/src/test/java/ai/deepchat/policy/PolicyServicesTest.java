package ai.deepchat.policy;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.TestDatabase;
import ai.deepchat.policy.ratelimit.LocalRateLimiter;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.policy.PolicyTestSupport.createTenant;
import static ai.deepchat.policy.PolicyTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

/** One announcement drops every cached piece of a tenant's policy: limits and plugin configs too. */
@ExtendWith(VertxExtension.class)
class PolicyServicesTest {

  @Test
  void publishedChangeReloadsLimitsAndPluginConfigs(Vertx vertx) throws Exception {
    Codecs.registerAll(vertx);
    Database db = TestDatabase.fresh(vertx).database();
    Platform platform = new Platform(ConfigLoader.load(Map.of(), new String[0]), db, "test");
    PolicyServices policy = PolicyServices.create(vertx, platform);
    UUID tenant = createTenant(db, "services");

    assertThat(await(policy.limits().limits(tenant))).isEqualTo(RequestLimits.Limits.DEFAULTS);
    assertThat(await(policy.plugins().enabled(tenant))).isEmpty();
    exec(db, tenant, "UPDATE tenant_settings SET requests_per_minute = 7");
    exec(db, tenant, "INSERT INTO plugin_configs (tenant_id, plugin, config) VALUES ($1, 'order-status', $2)",
        tenant, new JsonObject().put("urlTemplate", "https://shop.example.com/o/{order}"));
    // cached until announced
    assertThat(await(policy.limits().limits(tenant)).tenantPerMinute()).isEqualTo(600);
    assertThat(await(policy.plugins().enabled(tenant))).isEmpty();

    PolicyServices.publishChanged(vertx, tenant);
    assertThat(eventually(() -> await(policy.limits().limits(tenant)).tenantPerMinute(), 7)).isEqualTo(7);
    assertThat(eventually(() -> await(policy.plugins().enabled(tenant)).size(), 1)).isEqualTo(1);
  }

  /** The console builds a limits cache of its own beside the pipeline's: it follows the announcement too. */
  @Test
  void aLimitsCacheBuiltOutsideTheServicesFollowsTheAnnouncement(Vertx vertx) throws Exception {
    Codecs.registerAll(vertx);
    Database db = TestDatabase.fresh(vertx).database();
    RequestLimits consoles = new RequestLimits(vertx, db, new LocalRateLimiter(Clock.systemUTC(), 1000));
    UUID tenant = createTenant(db, "console");
    assertThat(await(consoles.limits(tenant))).isEqualTo(RequestLimits.Limits.DEFAULTS);
    exec(db, tenant, "UPDATE tenant_settings SET requests_per_minute = 9");
    assertThat(await(consoles.limits(tenant)).tenantPerMinute()).as("cached until announced").isEqualTo(600);
    PolicyServices.publishChanged(vertx, tenant);
    assertThat(eventually(() -> await(consoles.limits(tenant)).tenantPerMinute(), 9)).isEqualTo(9);
  }

  /**
   * Moderation and the audit log have one path each, in process: the pipeline role's verticles no
   * longer answer the retired request/reply addresses (which built a second moderation cache and a
   * second audit path beside the in-process ones).
   */
  @Test
  void pipelineVerticlesServeNoModerationOrAuditEndpoint(Vertx vertx) throws Exception {
    Codecs.registerAll(vertx);
    Database db = TestDatabase.fresh(vertx).database();
    Platform platform = new Platform(ConfigLoader.load(Map.of(), new String[0]), db, "test");
    assertThat(await(PolicyServices.deployVerticles(vertx, platform))).hasSize(1);
    for (String retired : List.of("policy.moderation.check", "policy.audit.append")) {
      Throwable err = vertx.eventBus().request(retired, "probe").toCompletionStage().toCompletableFuture()
          .handle((r, e) -> e).get(10, TimeUnit.SECONDS);
      assertThat(err).as(retired).isInstanceOf(ReplyException.class);
      assertThat(((ReplyException) err).failureType()).as(retired).isEqualTo(ReplyFailure.NO_HANDLERS);
    }
  }

  /** What {@code read} returns once it returns {@code wanted} (within 10 s). */
  private static <T> T eventually(Callable<T> read, T wanted) throws Exception {
    until("the change reached this node's cache", Duration.ofSeconds(10), () -> wanted.equals(read.call()));
    return read.call();
  }
}
