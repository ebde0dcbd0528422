package ai.deepchat.policy;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.http.HttpModule;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.policy.audit.AuditLog;
import ai.deepchat.policy.moderation.ModerationService;
import ai.deepchat.policy.plugin.PluginRegistry;
import ai.deepchat.policy.privacy.RetentionVerticle;
import ai.deepchat.policy.privacy.VisitorDeletionModule;
import ai.deepchat.policy.ratelimit.RateLimiters;
import ai.deepchat.policy.ratelimit.RequestLimits;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The policy components of one node, shared by every verticle that needs them in-process (the chat
 * pipeline): moderation with its per-tenant cache, request limits (Hazelcast-shared when clustered),
 * the audit log and the tenant plugins. Create once per node.
 */
public record PolicyServices(ModerationService moderation, RequestLimits limits, AuditLog audit,
                             PluginRegistry plugins) {

  /**
   * Creates the services; the moderation cache, the limits cache and the plugin configs (each a
   * {@code TenantCache}) all drop a tenant's entries when {@link #publishChanged} announces a change on
   * any node.
   */
  public static PolicyServices create(Vertx vertx, Platform platform) {
    return new PolicyServices(
        ModerationService.create(vertx, platform.database()),
        new RequestLimits(vertx, platform.database(), RateLimiters.forVertx(vertx, Clock.systemUTC(),
            platform.config().policy().rateLimitMaxBuckets())),
        new AuditLog(platform.database()),
        PluginRegistry.load(vertx, platform.database(), OutboundPolicy.of(platform.config())));
  }

  /**
   * Call after committing an admin change to a tenant's word list, moderation action or reply, rate
   * limits or plugin configs: every node drops its cached copies of that tenant's policy.
   */
  public static void publishChanged(Vertx vertx, UUID tenantId) {
    ModerationService.publishChanged(vertx, tenantId);
  }

  /** Routes of the gateway role: DELETE /v1/visitors/{visitorId}. */
  public List<HttpModule> httpModules(Platform platform) {
    return List.of(new VisitorDeletionModule(platform.database(), audit, limits));
  }

  /**
   * Verticles of the pipeline role: the retention timer (first run a minute after start, then every
   * RETENTION_INTERVAL_MINUTES). Moderation and the audit log have no bus endpoint: every node calls
   * them in process, and an audit row commits in PostgreSQL (with the change it records) before its
   * caller goes on.
   */
  public static Future<List<String>> deployVerticles(Vertx vertx, Platform platform) {
    List<String> ids = new ArrayList<>();
    Duration interval = Duration.ofMinutes(platform.config().policy().retentionIntervalMinutes());
    return vertx.deployVerticle(new RetentionVerticle(platform.database(), interval, Duration.ofMinutes(1),
            platform.config().policy().rolloutOutcomeRetentionDays()))
        .map(ids::add)
        .map(v -> ids);
  }
}
