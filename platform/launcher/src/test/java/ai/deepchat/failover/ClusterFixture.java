package ai.deepchat.failover;

import ai.deepchat.launcher.NodeProcess;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.cluster.ClusterManagers;
import ai.deepchat.platform.config.PlatformConfig;
import ai.deepchat.platform.db.DatabaseEndpoint;
import ai.deepchat.platform.db.EmbeddedDatabase;
import ai.deepchat.platform.security.TenantKeys;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Several node processes clustered over loopback (TCP member list), or each in a network namespace
 * of its own ({@link NetnsLab}), sharing one real PostgreSQL server the test controls, with a tenant
 * and API key ready. Closing stops every node, then PostgreSQL.
 */
final class ClusterFixture implements AutoCloseable {

  /** DATABASE_APP_PASSWORD of every node, as in a real deployment. */
  static final String APP_PASSWORD = "failover-app-password-0123";

  final EmbeddedDatabase pg;
  final String jdbc;
  /** The nodes' logs: {@code target/cluster-logs/<test class>/<test method>/<node>.log}, kept after the run. */
  final Path logs;
  private final Path dir;
  private final NodeNetwork network;
  private final TcpForwarder database;
  private final Map<String, String> base = new HashMap<>();
  private final List<NodeProcess> nodes = java.util.Collections.synchronizedList(new ArrayList<>());
  private final List<Integer> hazelcastPorts = new ArrayList<>();
  private final List<Vertx> probes = new ArrayList<>();

  ClusterFixture(Path dir, int nodeCount, Map<String, String> extra) throws Exception {
    this(dir, nodeCount, extra, NodeNetwork.LOOPBACK);
  }

  ClusterFixture(Path dir, int nodeCount, Map<String, String> extra, NodeNetwork network) throws Exception {
    this.dir = dir;
    this.network = network;
    this.logs = logsOfCaller();
    pg = EmbeddedDatabase.start(dir.resolve("pg"), NodeProcess.freePort());
    jdbc = createDatabase(pg);
    // nodes outside this network namespace reach PostgreSQL (listening on loopback) through a relay
    database = network == NodeNetwork.LOOPBACK ? null : TcpForwarder.start(NodeProcess.freePort(), pg.port());
    StringBuilder members = new StringBuilder();
    for (int i = 0; i < nodeCount; i++) {
      int port = NodeProcess.freePort();
      hazelcastPorts.add(port);
      members.append(i == 0 ? "" : ",").append(network.clusterHost(i)).append(':').append(port);
    }
    base.putAll(Map.of("CLUSTER", "hazelcast", "CLUSTER_MEMBERS", members.toString(),
        "CLUSTER_HEARTBEAT_TIMEOUT_SECONDS", "5", "DB_POOL_SIZE", "4",
        "JWT_SECRET", "failover-test-secret-0123456789abcdef", "DATABASE_APP_PASSWORD", APP_PASSWORD));
    base.putAll(extra);
  }

  /**
   * A folder of the module's {@code target} for the logs of the nodes the calling test starts, emptied
   * first: the test's temporary folder is deleted in CI, and a failure there (PartitionTest's merge)
   * could not be read afterwards. Written as the nodes run, so a test killed by a timeout keeps them too.
   */
  private static Path logsOfCaller() throws IOException {
    StackWalker.StackFrame test = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
        .walk(frames -> frames.filter(f -> f.getDeclaringClass() != ClusterFixture.class).findFirst()).orElseThrow();
    Path logs = Path.of(System.getProperty("basedir", "."), "target", "cluster-logs",
        test.getDeclaringClass().getSimpleName(), test.getMethodName()).toAbsolutePath();
    if (Files.exists(logs)) {
      try (var old = Files.walk(logs)) {
        for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    System.out.println("cluster node logs: " + Files.createDirectories(logs));
    return logs;
  }

  /** Starts node {@code index} (its own Hazelcast port) with {@code roles}, and waits until it is ready. */
  NodeProcess start(int index, String name, String roles) throws Exception {
    return start(index, name, roles, NodeProcess.freePort());
  }

  /** Starts nodes 0..n-1 at once (names and roles by index) and returns them, in order, once all are ready. */
  List<NodeProcess> startAll(List<String> names, List<String> roles) throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(names.size());
    try {
      List<java.util.concurrent.Future<NodeProcess>> starting = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        int index = i;
        starting.add(pool.submit(() -> start(index, names.get(index), roles.get(index))));
      }
      List<NodeProcess> started = new ArrayList<>();
      for (var f : starting) {
        started.add(f.get(180, TimeUnit.SECONDS));
      }
      return started;
    } finally {
      pool.shutdown();
    }
  }

  /** Starts node {@code index} on a given HTTP port (a restarted node keeps its address). */
  NodeProcess start(int index, String name, String roles, int httpPort) throws Exception {
    Map<String, String> env = new HashMap<>(base);
    env.put("ROLES", roles);
    env.put("CLUSTER_PORT", String.valueOf(hazelcastPorts.get(index)));
    env.put("CLUSTER_HOST", network.clusterHost(index));
    env.put("DATABASE_URL", databaseUrl(pg, network.databaseHost(index), database == null ? pg.port() : database.port()));
    String host = network.httpHost(index);
    env.put("HTTP_HOST", host);
    NodeProcess node = NodeProcess.start(name, dir, logs, host, httpPort, env, network.launcher(index));
    try {
      node.awaitReady(Duration.ofSeconds(120));
    } catch (Throwable notReady) {
      // not yet in `nodes`, so close() would leave it running (and its /tmp) after the failed test
      node.sigkill();
      throw notReady;
    }
    nodes.add(node);
    return node;
  }

  /** A tenant with generous limits (these tests are about failures, not quotas); returns its API key. */
  String tenantWithKey(String slug) throws Exception {
    try (Connection c = owner()) {
      UUID tenant;
      try (PreparedStatement st = c.prepareStatement("INSERT INTO tenants (slug, name) VALUES (?, ?) RETURNING id")) {
        st.setString(1, slug);
        st.setString(2, slug);
        ResultSet rs = st.executeQuery();
        rs.next();
        tenant = (UUID) rs.getObject(1);
      }
      try (PreparedStatement st = c.prepareStatement("INSERT INTO tenant_settings (tenant_id, requests_per_minute,"
          + " api_key_requests_per_minute) VALUES (?, 100000, 100000) ON CONFLICT (tenant_id) DO UPDATE"
          + " SET requests_per_minute = 100000, api_key_requests_per_minute = 100000")) {
        st.setObject(1, tenant);
        st.executeUpdate();
      }
      TenantKeys.NewApiKey key = TenantKeys.newApiKey(tenant);
      try (PreparedStatement st = c.prepareStatement(
          "INSERT INTO api_keys (tenant_id, name, key_prefix, key_hash) VALUES (?, 'failover', ?, ?)")) {
        st.setObject(1, tenant);
        st.setString(2, key.prefix());
        st.setString(3, key.hash());
        st.executeUpdate();
      }
      return key.plaintext();
    }
  }

  /**
   * A clustered Vert.x in this JVM, joined like a node (same member list, heartbeat, codecs) but
   * running nothing: it probes the bus the way nodes see it. Closed with the fixture.
   */
  Vertx joinProbe() throws Exception {
    PlatformConfig.Cluster cluster = new PlatformConfig.Cluster("hazelcast",
        List.of(base.get("CLUSTER_MEMBERS").split(",")), network.probeHost(), NodeProcess.freePort(), 0,
        Integer.parseInt(base.get("CLUSTER_HEARTBEAT_TIMEOUT_SECONDS")), Optional.empty());
    Vertx vertx = Vertx.builder().with(new VertxOptions().setEventBusOptions(ClusterManagers.eventBus(cluster)))
        .withClusterManager(ClusterManagers.hazelcast(cluster)).buildClustered()
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    Codecs.registerAll(vertx);
    probes.add(vertx);
    return vertx;
  }

  Connection owner() throws Exception {
    return DriverManager.getConnection(jdbc, pg.ownerEndpoint().user(), pg.ownerEndpoint().password());
  }

  /**
   * Creates the nodes' database and the application login, as an operator does before nodes start
   * (ops/compose/initdb): nodes given DATABASE_APP_PASSWORD share one login instead of each setting a
   * password of its own under the others. Returns the database's JDBC URL.
   */
  static String createDatabase(EmbeddedDatabase pg) throws Exception {
    DatabaseEndpoint owner = pg.ownerEndpoint();
    try (Connection c = DriverManager.getConnection(owner.jdbcUrl(), owner.user(), owner.password());
         Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE deepchat");
      s.execute("CREATE ROLE deepchat_app LOGIN PASSWORD '" + APP_PASSWORD + "' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE");
    }
    return new DatabaseEndpoint(owner.host(), owner.port(), "deepchat", owner.user(), owner.password()).jdbcUrl();
  }

  /** DATABASE_URL of a node reaching the database at {@code host:port}, as the superuser with its password. */
  static String databaseUrl(EmbeddedDatabase pg, String host, int port) {
    return "postgres://" + pg.ownerEndpoint().user() + ":" + pg.ownerEndpoint().password() + "@" + host + ":" + port
        + "/deepchat";
  }

  @Override
  public void close() throws Exception {
    // nodes first: a probe that cannot leave a stuck cluster must not leave them running for the
    // rest of the suite (a frozen node's peers spun a core each for half an hour once)
    try {
      for (NodeProcess n : nodes) {
        n.sigkill();
      }
      for (NodeProcess n : nodes) {
        n.awaitExit(Duration.ofSeconds(20));
      }
      for (Vertx probe : probes) {
        probe.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    } finally {
      if (database != null) {
        database.close();
      }
      pg.close();
    }
  }
}
