package ai.deepchat.platform.cluster;

import ai.deepchat.platform.config.PlatformConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.net.JksOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.time.Duration;

/**
 * Hazelcast membership for clustered mode: TCP-IP join with an explicit member list (no multicast)
 * or Kubernetes discovery of a headless service,
 * a short no-heartbeat timeout so dead nodes leave quickly, and graceful shutdown so a stopping node
 * hands its partitions back before it leaves; event-bus routes repaired after members leave
 * ({@link RepairingClusterManager}) and each node's own subscriptions kept in the cluster map
 * ({@link SubscriptionSelfCheck}).
 */
public final class ClusterManagers {

  /** Seconds between Hazelcast's checks for another cluster to merge with (after a split). */
  static final int MERGE_DELAY_SECONDS = 10;

  private ClusterManagers() {
  }

  public static HazelcastClusterManager hazelcast(PlatformConfig.Cluster cluster) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName("deepchat");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(cluster.heartbeatTimeoutSeconds()));
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    // No Hazelcast shutdown hook: on SIGTERM it would leave the cluster at once, while the node still
    // drains (its answers would lose their routes, and peers would take its running generations for
    // dead). The launcher's hook drains, then Vert.x leaves the cluster gracefully on close.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.shutdownhook.policy", "GRACEFUL");
    config.setProperty("hazelcast.graceful.shutdown.max.wait", "30");
    // A member dropped while alive (a long GC pause, a frozen VM) finds itself alone when it resumes
    // and serves as a one-node island until the split-brain check merges it back: check every 10 s
    // instead of Hazelcast's 300 s first / 100 s next (RELIABILITY.md scenario 11).
    config.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(MERGE_DELAY_SECONDS));
    config.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(MERGE_DELAY_SECONDS));
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // announce CLUSTER_HOST, not whichever interface Hazelcast would pick on a host with several
    if (!cluster.host().isBlank() && !cluster.host().equals("0.0.0.0")) {
      config.setProperty("hazelcast.local.localAddress", cluster.host());
    }
    config.getNetworkConfig().setPort(cluster.port()).setPortAutoIncrement(true);
    config.getNetworkConfig().getInterfaces().setEnabled(false);
    config.getNetworkConfig().setPublicAddress(null);
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (cluster.kubernetes()) {
      kubernetesJoin(join, cluster);
    } else {
      join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members().isEmpty()
          ? java.util.List.of(cluster.host()) : cluster.members());
      join.getTcpIpConfig().setConnectionTimeoutSeconds(5);
    }
    return new RepairingClusterManager(config, Duration.ofSeconds(cluster.selfCheckSeconds()));
  }

  /**
   * Hazelcast's built-in Kubernetes discovery in DNS-less API mode: members are the ready endpoints
   * of a headless service (the pod's service account needs get/list on endpoints and pods). The
   * namespace defaults to the pod's own (read by Hazelcast from the service-account mount).
   */
  private static void kubernetesJoin(JoinConfig join, PlatformConfig.Cluster cluster) {
    join.getTcpIpConfig().setEnabled(false);
    var k8s = join.getKubernetesConfig().setEnabled(true)
        .setProperty("service-name", cluster.kubernetesServiceName())
        .setProperty("service-port", String.valueOf(cluster.port()));
    cluster.kubernetesNamespace().ifPresent(ns -> k8s.setProperty("namespace", ns));
  }

  /** Event-bus transport between nodes: bound to the cluster host, TLS when a key store is configured. */
  public static EventBusOptions eventBus(PlatformConfig.Cluster cluster) {
    EventBusOptions options = new EventBusOptions()
        .setHost(cluster.host()).setPort(cluster.eventBusPort())
        .setClusterPublicHost(cluster.host());
    cluster.tls().ifPresent(tls -> {
      JksOptions store = new JksOptions().setPath(tls.keyStore().toString()).setPassword(tls.password());
      options.setSsl(true).setKeyCertOptions(store).setTrustOptions(store);
    });
    return options;
  }
}
