package ai.deepchat.channel.wechat;

import ai.deepchat.platform.cluster.LoopbackCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static ai.deepchat.platform.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The access token on a real two-node Hazelcast cluster: one fetch for both nodes, never two at once. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessTokensClusterTest {

  private LoopbackCluster cluster;

  @BeforeAll
  void start() throws Exception {
    cluster = LoopbackCluster.started(2);
  }

  @AfterAll
  void stop() throws Exception {
    cluster.close();
  }

  @Test
  void bothNodesShareOneFetchedTokenAndRefetchOnceAfterItWasInvalidated() throws Exception {
    ChannelConfig ch = new ChannelConfig(UUID.randomUUID(), UUID.randomUUID(), "wechat", "c", "wx1", null, "s", "t",
        null, "plaintext", "", true);
    AtomicInteger fetches = new AtomicInteger();
    AtomicInteger concurrent = new AtomicInteger();
    AtomicInteger maxConcurrent = new AtomicInteger();
    Function<Vertx, Function<ChannelConfig, Future<JsonObject>>> slowWeChat = vertx -> c -> {
      fetches.incrementAndGet();
      maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
      Promise<JsonObject> reply = Promise.promise();
      vertx.setTimer(300, t -> {
        concurrent.decrementAndGet();
        reply.complete(new JsonObject().put("access_token", "T" + fetches.get()).put("expires_in", 7200));
      });
      return reply.future();
    };
    List<Future<String>> asked = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Vertx node = cluster.node(i % 2);
      asked.add(new AccessTokens(node).get(ch, "https://api.weixin.qq.com", slowWeChat.apply(node)));
    }
    await(Future.all(asked));
    assertThat(new HashSet<>(asked.stream().map(Future::result).toList())).containsExactly("T1");
    assertThat(fetches.get()).isEqualTo(1);

    // WeChat refused T1: node 0 drops it; the next asks on both nodes fetch one new token
    await(new AccessTokens(cluster.node(0)).invalidate(ch, "https://api.weixin.qq.com", "T1"));
    List<Future<String>> again = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Vertx node = cluster.node(i % 2);
      again.add(new AccessTokens(node).get(ch, "https://api.weixin.qq.com", slowWeChat.apply(node)));
    }
    await(Future.all(again));
    assertThat(new HashSet<>(again.stream().map(Future::result).toList())).containsExactly("T2");
    assertThat(fetches.get()).isEqualTo(2);
    assertThat(maxConcurrent.get()).isEqualTo(1);
    // a stale invalidation (of T1, already replaced) leaves T2 alone
    await(new AccessTokens(cluster.node(1)).invalidate(ch, "https://api.weixin.qq.com", "T1"));
    assertThat(await(new AccessTokens(cluster.node(1)).get(ch, "https://api.weixin.qq.com", slowWeChat.apply(cluster.node(1))))).isEqualTo("T2");
  }
}
