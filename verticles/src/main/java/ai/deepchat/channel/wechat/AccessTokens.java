package ai.deepchat.channel.wechat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;

import java.util.function.Function;

/**
 * Each account's access_token, fetched once for the whole cluster: kept in the shared-data map (Hazelcast
 * when clustered, this JVM otherwise), refreshed five minutes before it expires, and fetched under a
 * cluster-wide lock so two nodes never fetch at once (a second fetch would invalidate the first token).
 * Outside row-level security, so keyed by tenant, channel, AppID and API base.
 */
final class AccessTokens {

  private static final String MAP = "channel.access-tokens";
  private static final long REFRESH_BEFORE_MS = 5 * 60_000;
  private static final long LOCK_TIMEOUT_MS = 10_000;

  private final Vertx vertx;

  AccessTokens(Vertx vertx) {
    this.vertx = vertx;
  }

  /** A valid token; {@code fetch} asks WeChat for {access_token, expires_in} (called by one node at a time). */
  Future<String> get(ChannelConfig ch, String apiBase, Function<ChannelConfig, Future<JsonObject>> fetch) {
    String key = key(ch, apiBase);
    return map().compose(m -> m.get(key).compose(cached -> fresh(cached) ? Future.succeededFuture(token(cached))
        : vertx.sharedData().getLockWithTimeout(MAP + ":" + key, LOCK_TIMEOUT_MS).compose(lock ->
            // another node may have fetched while we waited for the lock
            m.get(key).compose(again -> fresh(again) ? Future.succeededFuture(token(again))
                    : fetch.apply(ch).compose(reply -> store(m, key, reply)))
                .onComplete(x -> lock.release()))));
  }

  /** WeChat called {@code token} invalid: forget it, unless another node already replaced it. */
  Future<Void> invalidate(ChannelConfig ch, String apiBase, String token) {
    String key = key(ch, apiBase);
    return map().compose(m -> m.get(key).compose(cached -> cached != null && token.equals(token(cached))
        ? m.removeIfPresent(key, cached).mapEmpty() : Future.succeededFuture()));
  }

  private Future<String> store(AsyncMap<String, JsonObject> m, String key, JsonObject reply) {
    String token = reply.getString("access_token");
    long expiresInMs = reply.getLong("expires_in", 7200L) * 1000;
    if (token == null || token.isBlank() || expiresInMs <= 0) {
      return Future.failedFuture(new WechatApi.WechatError(-1, "no access_token in WeChat's reply"));
    }
    JsonObject entry = new JsonObject().put("token", token).put("expiresAt", System.currentTimeMillis() + expiresInMs);
    return m.put(key, entry, expiresInMs).map(token);
  }

  private static boolean fresh(JsonObject cached) {
    return cached != null && cached.getLong("expiresAt", 0L) - REFRESH_BEFORE_MS > System.currentTimeMillis();
  }

  private static String token(JsonObject cached) {
    return cached.getString("token");
  }

  private Future<AsyncMap<String, JsonObject>> map() {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  /** By API base too: a token from the console's loopback simulator must never be shown to WeChat. */
  private static String key(ChannelConfig ch, String apiBase) {
    return ch.tenantId() + ":" + ch.id() + ":" + ch.appId() + ":" + apiBase;
  }
}
