package ai.deepchat.platform.cluster;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.ConfigLoader;
import ai.deepchat.platform.config.PlatformConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** CLUSTER_DISCOVERY=kubernetes builds Hazelcast's Kubernetes join instead of the TCP member list. */
class KubernetesDiscoveryTest {

  private static PlatformConfig load(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]);
  }

  @Test
  void kubernetesDiscoveryNamesTheHeadlessServiceAndNamespace() {
    PlatformConfig config = load(Map.of("CLUSTER", "hazelcast", "CLUSTER_DISCOVERY", "kubernetes",
        "CLUSTER_K8S_SERVICE", "deepchat-hz", "CLUSTER_K8S_NAMESPACE", "chat-prod", "CLUSTER_HOST", "10.1.2.3"));
    var join = ClusterManagers.hazelcast(config.cluster()).getConfig().getNetworkConfig().getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperty("service-name")).isEqualTo("deepchat-hz");
    assertThat(join.getKubernetesConfig().getProperty("namespace")).isEqualTo("chat-prod");
    assertThat(join.getKubernetesConfig().getProperty("service-port")).isEqualTo("5701");
  }

  @Test
  void namespaceDefaultsToThePodsOwnAndTcpStaysTheDefault() {
    var k8s = ClusterManagers.hazelcast(load(Map.of("CLUSTER", "hazelcast", "CLUSTER_DISCOVERY", "kubernetes"))
        .cluster()).getConfig().getNetworkConfig().getJoin().getKubernetesConfig();
    assertThat(k8s.getProperty("service-name")).isEqualTo("deepchat-hazelcast");
    assertThat(k8s.getProperty("namespace")).isNull();

    var tcp = ClusterManagers.hazelcast(load(Map.of("CLUSTER", "hazelcast", "CLUSTER_MEMBERS", "10.0.0.1,10.0.0.2"))
        .cluster()).getConfig().getNetworkConfig().getJoin();
    assertThat(tcp.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(tcp.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(tcp.getTcpIpConfig().getMembers()).containsExactly("10.0.0.1", "10.0.0.2");
  }

  @Test
  void badDiscoveryValuesNameTheirKey() {
    assertThatThrownBy(() -> load(Map.of("CLUSTER_DISCOVERY", "multicast")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("CLUSTER_DISCOVERY");
    assertThatThrownBy(() -> load(Map.of("CLUSTER_K8S_SERVICE", "Bad_Name")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("CLUSTER_K8S_SERVICE");
    assertThatThrownBy(() -> load(Map.of("SHUTDOWN_GRACE_SECONDS", "-1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SHUTDOWN_GRACE_SECONDS");
    assertThatThrownBy(() -> load(Map.of("MAX_CONCURRENT_STREAMS", "0")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("MAX_CONCURRENT_STREAMS");
    assertThatThrownBy(() -> load(Map.of("METRICS_TENANTS", "acme,drop table")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("METRICS_TENANTS");
    PlatformConfig ok = load(Map.of("SHUTDOWN_GRACE_SECONDS", "5", "MAX_CONCURRENT_STREAMS", "3",
        "METRICS_TENANTS", "acme, 0f3c", "METRICS_TENANT_BUCKETS", "0"));
    assertThat(ok.operations()).isEqualTo(new PlatformConfig.Operations(5, 0, 3, 2));
    assertThat(ok.metrics().tenants()).containsExactly("acme", "0f3c");
    assertThat(ok.metrics().tenantBuckets()).isZero();
  }
}
