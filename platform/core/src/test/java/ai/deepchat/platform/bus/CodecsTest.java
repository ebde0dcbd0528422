package ai.deepchat.platform.bus;

import ai.deepchat.platform.policy.PolicyMessages.TenantPolicyChanged;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Codecs are registered once per Vert.x instance, and a clash with another codec is not hidden. */
class CodecsTest {

  @Test
  void registeringTwiceOnOneInstanceIsOnceAndAClashIsReported() throws Exception {
    Vertx shared = Vertx.vertx();
    Vertx clashing = Vertx.vertx();
    try {
      Codecs.registerAll(shared);
      Codecs.registerAll(shared);
      String address = "test.codecs." + System.nanoTime();
      shared.eventBus().<Object>consumer(address, msg -> msg.reply(msg.body()));
      Object echoed = shared.eventBus().request(address, new TenantPolicyChanged("t"))
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).body();
      assertThat(echoed).isEqualTo(new TenantPolicyChanged("t"));

      // someone else's codec for one of our records: registering ours must fail loudly, not be skipped
      clashing.eventBus().registerDefaultCodec(TenantPolicyChanged.class, new RecordCodec<>(TenantPolicyChanged.class));
      assertThatThrownBy(() -> Codecs.registerAll(clashing)).isInstanceOf(IllegalStateException.class);
    } finally {
      shared.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      clashing.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
