package ai.deepchat.chat.widget;

import ai.deepchat.platform.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Origins a tenant's widget was refused on, for the console's Widget page. Refusals are counted in memory
 * and written in one batch per tenant a few seconds after the first (bounded: at most
 * {@link #PENDING_MAX} origins wait, the rest of a flood is dropped), and the table keeps each tenant's
 * {@link #KEPT_PER_TENANT} most recent origins, so forged Origin headers cost neither a write per request
 * nor unbounded rows. Only well-formed origins are recorded. One per node ({@link #of}).
 */
public final class RefusedOrigins implements Shareable {

  static final int PENDING_MAX = 1000;
  public static final int KEPT_PER_TENANT = 50;
  static final long FLUSH_DELAY_MS = 2000;
  private static final Logger LOG = LoggerFactory.getLogger(RefusedOrigins.class);
  private static final String MAP = "deepchat.widget";
  private static final String KEY = "refused-origins";

  private record Key(UUID tenantId, String origin) {
  }

  private record Seen(long refusals, OffsetDateTime first, OffsetDateTime last) {
    Seen plus(Seen other) {
      return new Seen(refusals + other.refusals, first.isBefore(other.first) ? first : other.first,
          last.isAfter(other.last) ? last : other.last);
    }
  }

  private final Vertx vertx;
  private final Database database;
  private final Map<Key, Seen> pending = new ConcurrentHashMap<>();
  private final AtomicBoolean flushScheduled = new AtomicBoolean();

  RefusedOrigins(Vertx vertx, Database database) {
    this.vertx = vertx;
    this.database = database;
  }

  /** This node's recorder, made on first use. */
  public static RefusedOrigins of(Vertx vertx, Database database) {
    return (RefusedOrigins) vertx.sharedData().getLocalMap(MAP).computeIfAbsent(KEY, k -> new RefusedOrigins(vertx, database));
  }

  /** Counts one refusal of {@code origin} for the tenant's widget; written within {@link #FLUSH_DELAY_MS}. */
  public void record(UUID tenantId, String origin) {
    if (!WidgetOrigin.valid(origin)) {
      return;
    }
    Key key = new Key(tenantId, WidgetOrigin.normalize(origin));
    if (!pending.containsKey(key) && pending.size() >= PENDING_MAX) {
      return;
    }
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    pending.merge(key, new Seen(1, now, now), Seen::plus);
    if (flushScheduled.compareAndSet(false, true)) {
      vertx.setTimer(FLUSH_DELAY_MS, id -> flush());
    }
  }

  /** Writes what is pending, one transaction per tenant; completes when all are written. */
  Future<Void> flush() {
    flushScheduled.set(false);
    Map<UUID, List<Tuple>> byTenant = new HashMap<>();
    for (Key key : List.copyOf(pending.keySet())) {
      Seen seen = pending.remove(key);
      if (seen != null) {
        byTenant.computeIfAbsent(key.tenantId(), t -> new ArrayList<>())
            .add(Tuple.of(key.tenantId(), key.origin(), seen.refusals(), seen.first(), seen.last()));
      }
    }
    List<Future<?>> writes = new ArrayList<>();
    byTenant.forEach((tenantId, rows) -> writes.add(database.inTenant(tenantId, c -> c.preparedQuery(
            "INSERT INTO widget_refused_origins (tenant_id, origin, refusals, first_seen, last_seen) "
                + "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, origin) DO UPDATE SET "
                + "refusals = widget_refused_origins.refusals + EXCLUDED.refusals, "
                + "last_seen = greatest(widget_refused_origins.last_seen, EXCLUDED.last_seen)").executeBatch(rows)
        // allowed meanwhile (the console's "allow"), or beyond the most recent: not worth listing
        .compose(x -> c.query("DELETE FROM widget_refused_origins r USING widget_settings w "
            + "WHERE r.origin = ANY (w.allowed_origins)").execute())
        .compose(x -> c.preparedQuery("DELETE FROM widget_refused_origins WHERE origin IN (SELECT origin FROM "
            + "widget_refused_origins ORDER BY last_seen DESC OFFSET $1)").execute(Tuple.of(KEPT_PER_TENANT))))
        .onFailure(err -> LOG.warn("could not record refused widget origins of tenant {}: {}", tenantId,
            err.toString()))));
    return Future.join(writes).mapEmpty();
  }
}
