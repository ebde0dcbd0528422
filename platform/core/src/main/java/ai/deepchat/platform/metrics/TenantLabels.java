package ai.deepchat.platform.metrics;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bounded values for the {@code tenant} label. Every distinct label value is a separate time series
 * in Prometheus, and a platform can hold thousands of tenants, so a tenant id is never used as a
 * label as-is: tenants on the operator's allow-list ({@code METRICS_TENANTS}) keep their own value,
 * every other tenant lands in one of {@code METRICS_TENANT_BUCKETS} stable hash buckets
 * ({@code bucket-00}..), or in {@code other} when buckets are 0. The series count per metric is
 * therefore at most allow-list + buckets, whatever the number of tenants. A hot bucket tells the
 * operator to look (the bucket of a tenant is reproducible with {@link #label}) and, if wanted, to
 * add that tenant to the allow-list.
 */
public final class TenantLabels {

  public static final String OTHER = "other";
  public static final String NONE = "none";

  /** Tenants whose label is remembered; beyond it labels are computed again (still bounded values). */
  private static final int CACHED = 10_000;

  private final Set<String> allowed;
  private final int buckets;
  private final String[] bucketNames;
  /** Every stream start asks (a SHA-256 and a format each time showed in event-loop profiles). */
  private final Map<String, String> cache = new ConcurrentHashMap<>();

  public TenantLabels(List<String> allowed, int buckets) {
    if (buckets < 0 || buckets > 1024) {
      throw new IllegalArgumentException("buckets must be 0..1024");
    }
    this.allowed = Set.copyOf(allowed.stream().map(TenantLabels::normalize).toList());
    this.buckets = buckets;
    this.bucketNames = new String[buckets];
    for (int i = 0; i < buckets; i++) {
      bucketNames[i] = String.format("bucket-%02d", i);
    }
  }

  /** Default: no allow-list, 16 buckets. */
  public static TenantLabels hashed() {
    return new TenantLabels(List.of(), 16);
  }

  /** The label value for a tenant id (a UUID string or slug); null or blank means no tenant. */
  public String label(String tenant) {
    if (tenant == null || tenant.isBlank()) {
      return NONE;
    }
    String cached = cache.get(tenant);
    if (cached != null) {
      return cached;
    }
    String key = normalize(tenant);
    String label = allowed.contains(key) ? key : buckets == 0 ? OTHER : bucketNames[bucketOf(key)];
    if (cache.size() < CACHED) {
      cache.put(tenant, label);
    }
    return label;
  }

  /**
   * A label value for something a tenant named or owns (a model version), which must not appear on
   * /metrics as it is: {@code v-} and the first 10 hex digits of the SHA-256 of its id. Stable, so an
   * operator can compute it from the id to find the series.
   */
  public static String opaque(String id) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
      return "v-" + java.util.HexFormat.of().formatHex(d, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The most label values this mapping can produce. */
  public int maxValues() {
    return allowed.size() + Math.max(buckets, 1) + 1;
  }

  private int bucketOf(String key) {
    // A cryptographic hash so the spread is even and stable across JVMs and restarts.
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      int n = ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
      return Integer.remainderUnsigned(n, buckets);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String normalize(String tenant) {
    return tenant.trim().toLowerCase(java.util.Locale.ROOT);
  }
}
