package ai.deepchat.platform.security;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.db.ListenedCache;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a LISTEN on {@link ApiKeyCache#CHANNEL} (and the channel of every other {@link ListenedCache} of the
 * database) on a connection of its own and feeds the notifications to the database's {@link ApiKeyCache}
 * (and those caches), which serve only while this LISTEN is live. Its own connection
 * (not PgSubscriber) because PgSubscriber reconnects silently: the cache must stop serving the moment
 * the connection is lost, not when reconnecting gives up. A ping every {@link #PING_MS} catches a
 * connection that died without a close (a firewall dropping it): the cache stops serving after at most
 * two ping periods then. Reconnects back off from 100 ms to 5 s. Does not work through a pooler in
 * transaction mode (LISTEN needs a session): set API_KEY_CACHE=false there.
 */
public final class AuthChangeVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AuthChangeVerticle.class);
  static final long PING_MS = 5_000;
  private static final long MAX_BACKOFF_MS = 5_000;
  /** How operators (and tests) find this connection in pg_stat_activity. */
  public static final String APPLICATION_NAME = "deepchat-auth-listener";

  private final List<ListenedCache> caches;
  private final PgConnectOptions options;
  private final long pingMs;
  private PgConnection conn;
  private int failures;
  private long pingTimer = -1;
  private boolean stopped;

  public AuthChangeVerticle(Database database) {
    this(database, PING_MS);
  }

  /** {@code pingMs}: shorter in tests. */
  AuthChangeVerticle(Database database, long pingMs) {
    this.pingMs = pingMs;
    this.caches = database.listenedCaches();
    this.options = new PgConnectOptions(Objects.requireNonNull(database.connectOptions(), "the database's connect options"))
        .addProperty("application_name", APPLICATION_NAME);
  }

  /** Completes after the first attempt, listening or not: the node starts either way (lookups then read the database). */
  @Override
  public Future<?> start() {
    pingTimer = vertx.setPeriodic(pingMs, id -> ping());
    return connect().recover(e -> Future.succeededFuture());
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(pingTimer);
    reset(false);
    return conn == null ? Future.succeededFuture() : conn.close();
  }

  private Future<Void> connect() {
    return PgConnection.connect(vertx, options).compose(c -> {
      if (stopped) {
        return c.close();
      }
      conn = c;
      c.notificationHandler(n -> caches.stream().filter(k -> k.channel().equals(n.getChannel()))
          .forEach(k -> k.invalidate(n.getPayload())));
      c.closeHandler(v -> lost(c, "connection closed"));
      String channels = caches.stream().map(ListenedCache::channel).collect(Collectors.joining(", "));
      // one simple query, several statements: every channel is listened to before any cache serves
      String listen = caches.stream().map(k -> "LISTEN " + k.channel()).collect(Collectors.joining("; "));
      return c.query(listen).execute().<Void>map(rows -> {
        failures = 0;
        reset(true); // from here every change is announced: start from nothing
        LOG.info("API-key cache live (listening on {})", channels);
        return null;
      }).onFailure(e -> {
        conn = null; // retried below, not again from the close handler
        c.close();
      });
    }).onFailure(e -> retry(e.getMessage()));
  }

  private void ping() {
    PgConnection c = conn;
    if (c != null) {
      c.query("SELECT 1").execute().timeout(pingMs, TimeUnit.MILLISECONDS)
          .onFailure(e -> {
            lost(c, "ping failed: " + e.getMessage());
            c.close();
          });
    }
  }

  /** The LISTEN connection {@code c} is gone: stop serving from the cache at once, then reconnect. */
  private void lost(PgConnection c, String why) {
    if (conn != c) {
      return; // already handled (a failed ping closes the connection it reported)
    }
    conn = null;
    reset(false);
    retry(why);
  }

  private void reset(boolean listening) {
    caches.forEach(k -> k.reset(listening));
  }

  private void retry(String why) {
    if (stopped) {
      return;
    }
    long delay = Math.min(MAX_BACKOFF_MS, 100L << Math.min(failures++, 6));
    LOG.warn("API-key cache off ({}): every lookup reads the database; listening again in {} ms", why, delay);
    vertx.setTimer(delay, id -> {
      if (!stopped && conn == null) {
        connect();
      }
    });
  }
}
