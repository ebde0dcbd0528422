package ai.deepchat.channel.wechat;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.policy.AuditTrail;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;

import java.util.UUID;

/**
 * The channels of a tenant for the console: the same store, validation and audit as {@code /v1/channels}
 * (secrets go in, never out), and the loopback test round trip. Validation errors fail with the API's
 * {@code HttpProblem} (its message is meant for the admin).
 */
public final class ChannelAdmin {

  /** How long a test round trip waits for an answer sent through the API (a cold model may take a while). */
  private static final long ANSWER_TIMEOUT_MS = 60_000;

  private final ChannelSettings settings;
  private final ChannelRehearsal rehearsal;

  /** Blocking (call at start-up): reads the node's secrets key, which may be a file under DATA_DIR. */
  public ChannelAdmin(Vertx vertx, Platform platform, AuditTrail audit) {
    ChannelSecrets secrets = ChannelFeature.secrets(platform);
    this.settings = new ChannelSettings(platform.database(), audit, secrets);
    this.rehearsal = new ChannelRehearsal(vertx, WebClient.create(vertx), new ChannelStore(platform.database(),
        platform.nodeId(), platform.config().channels().leaseSeconds(), secrets), ANSWER_TIMEOUT_MS);
  }

  public Future<JsonArray> list(UUID tenant) {
    return settings.list(tenant);
  }

  public Future<JsonObject> create(UUID tenant, JsonObject in, String actor, String ip) {
    return Future.succeededFuture().compose(x -> settings.create(tenant, in, actor, ip));
  }

  public Future<JsonObject> update(UUID tenant, UUID id, JsonObject in, String actor, String ip) {
    return Future.succeededFuture().compose(x -> settings.update(tenant, id, in, actor, ip));
  }

  public Future<Void> delete(UUID tenant, UUID id, String actor, String ip) {
    return settings.delete(tenant, id, actor, ip);
  }

  /** One loopback round trip: {ok, passive, answer, status, replyMs, answerMs, error}. */
  public Future<JsonObject> sendTestMessage(UUID tenant, UUID id, String question, int nodePort) {
    return rehearsal.run(tenant, id, question, nodePort);
  }
}
