package ai.deepchat.platform.cluster;

import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.bus.RecordCodec;
import ai.deepchat.platform.canary.CanaryMessages;
import ai.deepchat.platform.chat.ChatMessages;
import ai.deepchat.platform.engine.EngineMessages;
import ai.deepchat.platform.policy.PolicyMessages;
import ai.deepchat.platform.rag.RagMessages;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static ai.deepchat.platform.testing.Await.await;
import static ai.deepchat.platform.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every record registered on the bus ({@link Codecs#messageTypes()}) crosses between two clustered nodes
 * and comes back unchanged, filled and empty. The types are enumerated, so a new contract is covered as
 * soon as it is registered.
 */
class MessageWireTest {

  private static final String ECHO = "test.wire.echo";
  /** The classes that declare the bus contracts, one per feature. */
  private static final List<Class<?>> CONTRACTS = List.of(EngineMessages.class, RagMessages.class,
      ChatMessages.class, PolicyMessages.class, CanaryMessages.class, ClusterMessages.class);

  /** Records declared beside the contracts that stay in process (each node moderates and audits itself). */
  private static final Set<Class<?>> IN_PROCESS = Set.of(PolicyMessages.ModerationVerdict.class,
      PolicyMessages.AuditEntry.class, PolicyMessages.AuditReceipt.class);

  private static LoopbackCluster cluster;
  private static Vertx sender;
  private static final AtomicReference<Object> received = new AtomicReference<>();

  @BeforeAll
  static void startTwoNodes() throws Exception {
    cluster = LoopbackCluster.started(2);
    sender = cluster.node(0);
    Vertx receiver = cluster.node(1);
    await(receiver.eventBus().consumer(ECHO, msg -> {
      received.set(msg.body());
      msg.reply(msg.body());
    }).completion());
    until("the echo consumer is known on the other node", Duration.ofSeconds(30), () ->
        sender.eventBus().request(ECHO, "ping", new DeliveryOptions().setSendTimeout(1000))
            .toCompletionStage().toCompletableFuture().handle((r, e) -> e == null).get());
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  static Stream<Arguments> samples() {
    return Codecs.messageTypes().stream().flatMap(t -> Stream.of(
        Arguments.of(t.getSimpleName() + " filled", RecordSamples.filled(t)),
        Arguments.of(t.getSimpleName() + " empty", RecordSamples.empty(t))));
  }

  @SuppressWarnings("unchecked")
  private static <T extends Record> T throughCodec(T value) {
    RecordCodec<T> codec = new RecordCodec<>((Class<T>) value.getClass());
    Buffer wire = Buffer.buffer("prefix");
    codec.encodeToWire(wire, value);
    return codec.decodeFromWire("prefix".length(), wire);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void aRegisteredRecordCrossesTheWireUnchanged(String label, Record sample) throws Exception {
    assertThat(throughCodec(sample)).isEqualTo(sample);

    Object reply = await(sender.eventBus().request(ECHO, sample)).body();
    assertThat(received.get()).as("what the other node decoded").isEqualTo(sample).isNotSameAs(sample);
    assertThat(reply).as("the reply, encoded there and decoded here").isEqualTo(sample).isNotSameAs(sample);
  }

  /** A new record beside the contracts is either registered (and so tested above) or named in-process here. */
  @Test
  void everyRecordDeclaredWithTheContractsIsRegisteredOrInProcess() {
    List<Class<?>> declared = CONTRACTS.stream().flatMap(c -> Arrays.stream(c.getDeclaredClasses()))
        .filter(Class::isRecord).filter(c -> !IN_PROCESS.contains(c)).toList();
    List<Class<?>> registered = List.copyOf(Codecs.messageTypes());
    assertThat(declared).isNotEmpty();
    assertThat(registered).containsAll(declared).doesNotHaveDuplicates().doesNotContainAnyElementsOf(IN_PROCESS);
  }
}
