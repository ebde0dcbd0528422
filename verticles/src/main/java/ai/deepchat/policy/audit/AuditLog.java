package ai.deepchat.policy.audit;

import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.policy.AuditTrail;
import ai.deepchat.platform.policy.PolicyMessages.AuditEntry;
import ai.deepchat.platform.policy.PolicyMessages.AuditReceipt;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

/**
 * The append-only, per-tenant hash-chained audit log (table audit_log; the application role may only
 * SELECT and INSERT it). Each row's hash is SHA-256 over the previous row's hash of the same tenant
 * (or {@link #GENESIS} for the first) and a canonical serialization of the row's fields, so changing
 * or deleting a row breaks the chain at that row or the next one. Appends of one tenant are serialized
 * by a transaction-scoped advisory lock, so the chain never forks.
 *
 * <p>The details are hashed in PostgreSQL's own jsonb text form (keys sorted, fixed spacing), which is
 * what a verifier reads back. Deleting the newest rows leaves a shorter valid chain; an operator who
 * needs to detect that keeps the latest hash elsewhere (it is returned by every append).
 */
public final class AuditLog implements AuditTrail {

  public static final String GENESIS = "0".repeat(64);
  private static final int PAGE = 500;
  private static final int MAX_FIELD = 2000;

  /** The outcome of walking a tenant's chain; {@code firstBrokenId} is null when it is intact. */
  public record Verification(boolean intact, long rowsChecked, Long firstBrokenId, String problem) {
  }

  private final Database database;
  private final Clock clock;

  public AuditLog(Database database, Clock clock) {
    this.database = database;
    this.clock = clock;
  }

  public AuditLog(Database database) {
    this(database, Clock.systemUTC());
  }

  /** Appends in a transaction of its own. */
  @Override
  public Future<AuditReceipt> append(AuditEntry entry) {
    UUID tenant;
    try {
      tenant = UUID.fromString(entry.tenantId());
      validate(entry);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return database.inTenant(tenant, conn -> append(conn, entry));
  }

  /**
   * Appends inside the caller's {@link Database#inTenant} transaction, so the audited change and its
   * audit row commit or roll back together. {@code entry.tenantId()} must be that transaction's tenant.
   */
  @Override
  public Future<AuditReceipt> append(SqlConnection conn, AuditEntry entry) {
    try {
      UUID.fromString(entry.tenantId());
      validate(entry);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    String tenant = entry.tenantId().toLowerCase();
    OffsetDateTime at = OffsetDateTime.ofInstant(clock.instant().truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC);
    JsonObject details = new JsonObject(entry.details() == null ? Map.of() : entry.details());
    String target = entry.target() == null ? "" : entry.target();
    // the same lock key as any other writer of audit_log (the console), so no two appends interleave
    return conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtextextended('audit:' || $1::uuid::text, 0))")
        .execute(Tuple.of(tenant))
        .compose(locked -> conn.preparedQuery("SELECT $1::jsonb::text AS details, (SELECT hash FROM audit_log"
                + " WHERE tenant_id = $2::uuid ORDER BY id DESC LIMIT 1) AS prev")
            .execute(Tuple.of(details, tenant)))
        .compose(rows -> {
          Row row = rows.iterator().next();
          String detailsText = row.getString("details");
          String prev = row.getString("prev") == null ? GENESIS : row.getString("prev");
          String hash = hash(prev, tenant, entry.actor(), entry.action(), target, entry.ip(), detailsText,
              micros(at.toInstant()));
          return conn.preparedQuery("INSERT INTO audit_log (tenant_id, actor, action, target, ip, details,"
                  + " created_at, prev_hash, hash) VALUES ($1::uuid, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9)"
                  + " RETURNING id")
              .execute(Tuple.tuple().addString(tenant).addString(entry.actor()).addString(entry.action())
                  .addString(target).addString(entry.ip()).addString(detailsText).addOffsetDateTime(at)
                  .addString(prev).addString(hash))
              .map(inserted -> new AuditReceipt(inserted.iterator().next().getLong("id"), hash));
        });
  }

  /** Walks the tenant's chain from the first row; reports the first row whose links or hash do not hold. */
  public Future<Verification> verify(UUID tenantId) {
    return verifyFrom(tenantId, 0L, GENESIS, 0L);
  }

  private Future<Verification> verifyFrom(UUID tenantId, long afterId, String expectedPrev, long checked) {
    return database.inTenant(tenantId, conn -> conn.preparedQuery("SELECT id, tenant_id::text AS tenant, actor,"
            + " action, target, ip, details::text AS details, created_at, prev_hash, hash FROM audit_log"
            + " WHERE id > $1 ORDER BY id LIMIT " + PAGE).execute(Tuple.of(afterId)))
        .compose(rows -> {
          String prev = expectedPrev;
          long n = checked;
          long last = afterId;
          for (Row r : rows) {
            long id = r.getLong("id");
            if (!prev.equals(r.getString("prev_hash"))) {
              return Future.succeededFuture(new Verification(false, n, id,
                  "prev_hash does not match the previous row's hash (a row before it was changed or removed)"));
            }
            String expected = hash(prev, r.getString("tenant"), r.getString("actor"), r.getString("action"),
                r.getString("target"), r.getString("ip"), r.getString("details"),
                micros(r.getOffsetDateTime("created_at").toInstant()));
            if (!expected.equals(r.getString("hash"))) {
              return Future.succeededFuture(new Verification(false, n, id, "hash does not match the row's content"));
            }
            prev = r.getString("hash");
            last = id;
            n++;
          }
          if (rows.size() < PAGE) {
            return Future.succeededFuture(new Verification(true, n, null, null));
          }
          return verifyFrom(tenantId, last, prev, n);
        });
  }

  /** SHA-256 (hex) over the previous hash and the row's fields, each length-prefixed so none can bleed into another. */
  static String hash(String prevHash, String tenantId, String actor, String action, String target, String ip,
                     String detailsJson, long createdAtMicros) {
    StringBuilder canonical = new StringBuilder(256).append("deepchat-audit-v1\n");
    for (String field : new String[] {prevHash, tenantId, actor, action, target, ip, detailsJson,
        Long.toString(createdAtMicros)}) {
      if (field == null) {
        canonical.append("-\n");
      } else {
        canonical.append(field.getBytes(StandardCharsets.UTF_8).length).append(':').append(field).append('\n');
      }
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(canonical.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }

  private static void validate(AuditEntry e) {
    if (e.actor() == null || e.actor().isBlank() || e.actor().length() > MAX_FIELD) {
      throw new IllegalArgumentException("audit actor is required (at most " + MAX_FIELD + " chars)");
    }
    if (e.action() == null || e.action().isBlank() || e.action().length() > MAX_FIELD) {
      throw new IllegalArgumentException("audit action is required (at most " + MAX_FIELD + " chars)");
    }
    if (e.target() != null && e.target().length() > MAX_FIELD) {
      throw new IllegalArgumentException("audit target is longer than " + MAX_FIELD + " chars");
    }
    if (e.ip() != null && e.ip().length() > 64) {
      throw new IllegalArgumentException("audit ip is longer than 64 chars");
    }
  }
}
