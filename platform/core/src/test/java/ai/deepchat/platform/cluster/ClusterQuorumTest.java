package ai.deepchat.platform.cluster;

import ai.deepchat.platform.config.ConfigException;
import ai.deepchat.platform.config.ConfigLoader;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The majority rule for new chat turns: its default, its memory of having been whole, and real membership. */
class ClusterQuorumTest {

  private final LoopbackCluster cluster = new LoopbackCluster(15711, 15712);

  @AfterEach
  void close() throws Exception {
    cluster.close();
  }

  @Test
  void theDefaultIsAMajorityOfTheMemberListFromThreeMembersOn() {
    assertThat(quorum(Map.of("CLUSTER", "hazelcast", "CLUSTER_MEMBERS", "a,b"))).isZero();
    assertThat(quorum(Map.of("CLUSTER", "hazelcast", "CLUSTER_MEMBERS", "a,b,c"))).isEqualTo(2);
    assertThat(quorum(Map.of("CLUSTER", "hazelcast", "CLUSTER_MEMBERS", "a,b,c,d"))).isEqualTo(3);
    assertThat(quorum(Map.of("CLUSTER", "hazelcast", "CLUSTER_MEMBERS", "a:1,b:2,c:3,d:4,e:5"))).isEqualTo(3);
    assertThat(quorum(Map.of("CLUSTER", "hazelcast", "CLUSTER_MEMBERS", "a,b,c", "CLUSTER_QUORUM", "0"))).isZero();
    assertThat(quorum(Map.of("CLUSTER", "hazelcast", "CLUSTER_DISCOVERY", "kubernetes"))).isZero();
    assertThat(quorum(Map.of("CLUSTER", "hazelcast", "CLUSTER_DISCOVERY", "kubernetes", "CLUSTER_QUORUM", "2")))
        .isEqualTo(2);
    assertThatThrownBy(() -> quorum(Map.of("CLUSTER_QUORUM", "-1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("CLUSTER_QUORUM");
    assertThatThrownBy(() -> quorum(Map.of("CLUSTER_QUORUM", "many")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("CLUSTER_QUORUM");
  }

  @Test
  void aNodeThatWasWholeRefusesOnceItSeesTooFewMembers() {
    AtomicInteger members = new AtomicInteger(1);
    ClusterQuorum q = new ClusterQuorum(3, members::get);
    assertThat(q.hasMajority()).as("starting: the others have not joined yet").isTrue();
    members.set(3);
    assertThat(q.hasMajority()).isTrue();
    members.set(2);
    assertThat(q.hasMajority()).as("cut off from the majority").isFalse();
    members.set(5);
    assertThat(q.hasMajority()).as("healed").isTrue();
    assertThat(new ClusterQuorum(0, () -> 1).hasMajority()).as("no rule").isTrue();
  }

  @Test
  void followsRealHazelcastMembership() throws Exception {
    Vertx a = cluster.start(15711);
    ClusterQuorum q = ClusterQuorum.install(a, 2);
    assertThat(ClusterQuorum.of(a)).isSameAs(q);
    assertThat(q.hasMajority()).as("alone at start").isTrue();
    Vertx b = cluster.start(15712);
    until("b joins", Duration.ofSeconds(30), () -> q.members() == 2);
    cluster.stop(b);
    until("b leaves", Duration.ofSeconds(30), () -> q.members() == 1);
    assertThat(q.hasMajority()).as("alone after having had company").isFalse();
    cluster.start(15712);
    until("the majority again", Duration.ofSeconds(30), q::hasMajority);

    Vertx local = cluster.track(Vertx.vertx());
    assertThat(ClusterQuorum.install(local, 2).hasMajority()).as("not clustered: no rule").isTrue();
    assertThat(ClusterQuorum.of(local).quorum()).isZero();
  }

  private static int quorum(Map<String, String> env) {
    return ConfigLoader.load(env, new String[0]).cluster().quorum();
  }
}
