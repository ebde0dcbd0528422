package ai.deepchat.policy.plugin;

import ai.deepchat.platform.cache.TenantCache;
import ai.deepchat.platform.db.Database;
import ai.deepchat.platform.outbound.OutboundPolicy;
import ai.deepchat.policy.PolicyMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The plugins found on the class path and each tenant's enabled ones (plugin_configs). Plugins run
 * in name order; the first direct answer ends pre-processing. A plugin that fails or takes longer
 * than {@link #HOOK_TIMEOUT_MS} is skipped for that message (logged), so a broken plugin never breaks
 * chat; post hooks run through {@link PostHooks}. Tenant configurations are cached for 30 s in a
 * {@link TenantCache}, dropped at once when a policy change is published.
 */
public final class PluginRegistry {

  static final long HOOK_TIMEOUT_MS = 12_000;
  private static final Duration MAX_AGE = Duration.ofSeconds(30);
  private static final Logger LOG = LoggerFactory.getLogger(PluginRegistry.class);

  /** One enabled plugin of a tenant with its configuration. */
  public record Enabled(ChatPlugin plugin, JsonObject config) {
  }

  private final Vertx vertx;
  private final Database database;
  private final Map<String, ChatPlugin> plugins;
  private final HttpClient httpClient;
  private final OutboundPolicy outbound;
  private final TenantCache<List<Enabled>> cache;

  public PluginRegistry(Vertx vertx, Database database, List<ChatPlugin> plugins, OutboundPolicy outbound) {
    this.vertx = vertx;
    this.database = database;
    this.outbound = outbound;
    Map<String, ChatPlugin> byName = new TreeMap<>();
    for (ChatPlugin p : plugins) {
      if (byName.putIfAbsent(p.name(), p) != null) {
        throw new IllegalStateException("two plugins are named " + p.name());
      }
    }
    this.plugins = Collections.unmodifiableMap(byName);
    this.cache = TenantCache.create(vertx, MAX_AGE, this::load);
    // plugins set followRedirects(false) per request (the default): a redirect could lead anywhere unchecked
    this.httpClient = vertx.createHttpClient(new HttpClientOptions()
        .setVerifyHost(true).setForceSni(true)
        .setConnectTimeout(5000).setIdleTimeout(15).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(16));
  }

  /** Every {@link ChatPlugin} listed under META-INF/services on the class path; outbound calls under {@code outbound}. */
  public static PluginRegistry load(Vertx vertx, Database database, OutboundPolicy outbound) {
    List<ChatPlugin> found = new ArrayList<>();
    ServiceLoader.load(ChatPlugin.class).forEach(found::add);
    return new PluginRegistry(vertx, database, found, outbound);
  }

  public Map<String, ChatPlugin> available() {
    return plugins;
  }

  /** Checks a configuration an admin wants to save; fails with the plugin's message. */
  public void validate(String plugin, JsonObject config) {
    ChatPlugin p = plugins.get(plugin);
    if (p == null) {
      throw new IllegalArgumentException("no plugin named " + plugin);
    }
    PostHooks.validateTimeout(config);
    p.validateConfig(config, outbound);
  }

  /** Runs the tenant's enabled plugins on a user message, before intent routing. */
  public Future<PluginOutcome> preProcess(UUID tenantId, String message) {
    Context caller = Vertx.currentContext();
    return enabled(tenantId).compose(list -> preFrom(caller, tenantId, list, 0, message));
  }

  /** The tenant's post hooks as enabled now; a turn takes them once and runs them on its answer. */
  public Future<PostHooks> postHooks(UUID tenantId) {
    return enabled(tenantId).map(list -> new PostHooks(tenantId, list, e -> context(tenantId, e)));
  }

  public void invalidate(UUID tenantId) {
    cache.invalidate(tenantId);
  }

  public Future<List<Enabled>> enabled(UUID tenantId) {
    return plugins.isEmpty() ? Future.succeededFuture(List.of()) : cache.get(tenantId);
  }

  private Future<List<Enabled>> load(UUID tenantId) {
    return database.inTenant(tenantId, conn -> conn
            .query("SELECT plugin, config FROM plugin_configs WHERE enabled ORDER BY plugin").execute())
        .map(rows -> {
          List<Enabled> list = new ArrayList<>();
          for (var r : rows) {
            ChatPlugin p = plugins.get(r.getString("plugin"));
            Object cfg = r.getValue("config");
            if (p != null) {
              list.add(new Enabled(p, cfg instanceof JsonObject j ? j : new JsonObject()));
            }
          }
          return List.copyOf(list);
        });
  }

  public Future<Void> close() {
    return Future.all(cache.close(), httpClient.close()).mapEmpty();
  }

  private PluginContext context(UUID tenantId, Enabled e) {
    return new PluginContext(vertx, tenantId, e.config(), httpClient, outbound);
  }

  /**
   * {@code step} bounded to {@code ms}, completing on {@code caller} (when there is one): a plugin may
   * complete its future, and a timeout fires, on any thread, but the pipeline's state is its event loop's.
   */
  static <T> Future<T> bounded(Context caller, Future<T> step, long ms) {
    Future<T> timed = step.timeout(ms, TimeUnit.MILLISECONDS);
    if (caller == null) {
      return timed;
    }
    Promise<T> onCaller = Promise.promise();
    timed.onComplete(ar -> caller.runOnContext(v -> onCaller.handle(ar)));
    return onCaller.future();
  }

  private Future<PluginOutcome> preFrom(Context caller, UUID tenantId, List<Enabled> list, int i, String message) {
    if (i >= list.size()) {
      return Future.succeededFuture(new PluginOutcome(message, null, null));
    }
    Enabled e = list.get(i);
    Future<PreResult> step;
    try {
      step = e.plugin().preProcess(context(tenantId, e), message);
    } catch (RuntimeException err) {
      step = Future.failedFuture(err);
    }
    return bounded(caller, step, HOOK_TIMEOUT_MS)
        .recover(err -> {
          LOG.warn("tenant {}: plugin {} pre-processing failed: {}", tenantId, e.plugin().name(), err.toString());
          PolicyMetrics.pluginFailed(e.plugin().name(), "pre");
          return Future.succeededFuture(PreResult.proceed(message));
        })
        .compose(r -> {
          String next = r.message() == null ? message : r.message();
          return r.answered() ? Future.succeededFuture(new PluginOutcome(next, r.answer(), e.plugin().name()))
              : preFrom(caller, tenantId, list, i + 1, next);
        });
  }
}
