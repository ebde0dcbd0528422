package ai.deepchat.launcher;

import ai.deepchat.platform.Platform;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.cluster.ClusterManagers;
import ai.deepchat.platform.cluster.ClusterQuorum;
import ai.deepchat.platform.cluster.NodeDrain;
import ai.deepchat.platform.concurrent.WorkerPools;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.config.Role;
import ai.deepchat.platform.db.DatabaseBootstrap;
import ai.deepchat.platform.security.AuthChangeVerticle;
import ai.deepchat.platform.nativelib.NativeLibraries;
import ai.deepchat.gateway.GatewayAdmission;
import ai.deepchat.platform.metrics.PlatformMetrics;
import ai.deepchat.platform.metrics.TenantLabels;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One running node: Vert.x (clustered or not), the database, and the verticles of its roles. Start
 * and close are blocking and meant for the launcher's main thread and for tests.
 */
public final class Node implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  private static final int AWAIT_SECONDS = 120;

  private final Vertx vertx;
  private final DatabaseBootstrap database;
  private final Platform platform;
  private final RoleDeployer.Deployed deployed;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Optional<DemoSeed.Created> demoCreated;

  private Node(Vertx vertx, DatabaseBootstrap database, Platform platform, RoleDeployer.Deployed deployed,
               Optional<DemoSeed.Created> demoCreated) {
    this.demoCreated = demoCreated;
    this.vertx = vertx;
    this.database = database;
    this.platform = platform;
    this.deployed = deployed;
  }

  public static Node start(PlatformConfig config) {
    return start(config, false);
  }

  /**
   * With {@code closedByShutdownHook} (the launcher, which closes the node from its JVM shutdown hook),
   * the embedded database waits at JVM exit for that close, from the moment it starts, instead of
   * stopping at once: the drain still stores answers. Its wait is bounded by the longest a close takes
   * before it stops the database (the drain's two waits, then Vert.x's close).
   */
  static Node start(PlatformConfig config, boolean closedByShutdownHook) {
    NativeLibraries.useCacheDirectory(config.engine().nativeCacheDir());
    Vertx vertx = createVertx(config);
    DatabaseBootstrap database = null;
    try {
      Codecs.registerAll(vertx);
      WorkerPools.install(vertx, config.workers());
      ClusterQuorum quorum = ClusterQuorum.install(vertx, config.cluster().quorum());
      Duration holdAtJvmExit = closedByShutdownHook
          ? Duration.ofSeconds(gatewayDrainBound(config) + partsDrainBound(config) + AWAIT_SECONDS) : Duration.ZERO;
      database = DatabaseBootstrap.start(vertx, config, holdAtJvmExit);
      if (database.migrationsApplied() > 0) {
        LOG.info("applied {} database migration(s)", database.migrationsApplied());
      }
      MeterRegistry registry = BackendRegistries.getDefaultNow();
      if (registry != null) {
        PlatformMetrics.install(new PlatformMetrics(registry,
            new TenantLabels(config.metrics().tenants(), config.metrics().tenantBuckets())));
        PlatformMetrics.get().registerCluster(quorum::members, quorum::hasMajority);
        PlatformMetrics.get().registerPoolUses(database.database()::poolUses);
      }
      if (config.database().apiKeyCache() && config.roles().contains(Role.GATEWAY)) { // the one role that checks API keys
        await(vertx.deployVerticle(new AuthChangeVerticle(database.database())));
      }
      Platform platform = new Platform(config, database.database(), nodeId(config));
      Optional<DemoSeed.Created> demoCreated = config.database().embedded() && config.seed().enabled()
          ? DemoSeed.ensure(platform) : Optional.empty();
      RoleDeployer.Deployed deployed = await(RoleDeployer.deploy(vertx, platform));
      if (config.database().embedded() && config.seed().enabled() && deployed.rag() != null) {
        await(DemoSeed.ensureDemoDocument(platform, deployed.rag()));
      }
      return new Node(vertx, database, platform, deployed, demoCreated);
    } catch (RuntimeException e) {
      if (database != null) {
        database.close();
      }
      await(vertx.close());
      throw e;
    }
  }

  private static String nodeId(PlatformConfig config) {
    return config.cluster().enabled() ? config.cluster().host() + ":" + config.cluster().port() + "/"
        + UUID.randomUUID().toString().substring(0, 8) : "local";
  }

  private static Vertx createVertx(PlatformConfig config) {
    VertxOptions options = new VertxOptions()
        // epoll where the platform has it (Linux; netty-transport-native-epoll ships with the launcher), else NIO
        .setPreferNativeTransport(true)
        .setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true)
            .setJvmMetricsEnabled(true)
            .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    VertxBuilder builder = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory());
    if (!config.cluster().enabled()) {
      return builder.build();
    }
    options.setEventBusOptions(ClusterManagers.eventBus(config.cluster()));
    return await(builder.with(options).withClusterManager(ClusterManagers.hazelcast(config.cluster())).buildClustered());
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(AWAIT_SECONDS, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("timed out", e);
    }
  }

  private void drain() {
    int grace = platform.config().operations().shutdownGraceSeconds();
    int delay = platform.config().operations().shutdownReadinessDelaySeconds();
    // workers and pipelines stop taking work and finish theirs at the same time as the gateway drains
    NodeDrain parts = NodeDrain.of(vertx);
    Future<Boolean> partsDrained = parts.drainAll();
    GatewayAdmission.find(vertx).ifPresent(admission -> {
      LOG.info("draining: readiness DOWN, new streams refused, up to {} s for {} request(s) in flight",
          grace, admission.inFlightRequests());
      boolean finished;
      try {
        finished = admission.drain(vertx, Duration.ofSeconds(delay), Duration.ofSeconds(grace))
            .toCompletionStage().toCompletableFuture().get(gatewayDrainBound(platform.config()),
                TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        finished = false;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        finished = false;
      }
      if (!finished) {
        LOG.warn("grace period over with {} request(s) still in flight; closing them",
            admission.inFlightRequests());
      }
    });
    if (parts.size() > 0) {
      // each part bounds its own wait (ENGINE_DRAIN_SECONDS, SHUTDOWN_GRACE_SECONDS); this is a backstop
      try {
        long bound = partsDrainBound(platform.config());
        if (!partsDrained.toCompletionStage().toCompletableFuture().get(bound, TimeUnit.SECONDS)) {
          LOG.warn("drained with work cut at its deadline");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        LOG.warn("drain did not complete: {}", e.toString());
      }
    }
  }

  private static long gatewayDrainBound(PlatformConfig config) {
    return config.operations().shutdownGraceSeconds() + 10L;
  }

  private static long partsDrainBound(PlatformConfig config) {
    return Math.max(config.operations().shutdownGraceSeconds(), config.engine().drainSeconds()) + 15L;
  }

  /** The database this node started (the embedded server, when it runs one). */
  public DatabaseBootstrap database() {
    return database;
  }

  public int httpPort() {
    return deployed.httpPort();
  }

  /** Where /metrics is served: MANAGEMENT_PORT on gateway nodes, the HTTP port on the others. */
  public int managementPort() {
    return deployed.managementPort();
  }

  /** What this start seeded (the demo tenant's one-time credentials), for the launcher's banner; empty after the first start. */
  Optional<DemoSeed.Created> demoCreated() {
    return demoCreated;
  }

  public Platform platform() {
    return platform;
  }

  public Vertx vertx() {
    return vertx;
  }

  /**
   * Drains (readiness DOWN, new streams refused, in-flight requests given SHUTDOWN_GRACE_SECONDS to
   * finish; engine workers and pipelines stop taking work and finish theirs, see {@link NodeDrain}),
   * stops verticles (the HTTP server closes its port), leaves the cluster, then stops the
   * database and waits until its server has exited (a restart can take the data directory at once).
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      drain();
      await(vertx.close());
    } finally {
      database.close();
    }
  }
}
