package ai.deepchat.platform.bus;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.util.stream.Collectors.toMap;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one failure-code enum of the bus: codes are a wire contract (nodes of different versions read
 * each other's), a consumer's {@code fail} reads back as the same failure on a real event bus, and
 * retry-or-fail comes from the enum.
 */
class BusFailureTest {

  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void codesAreTheWireContract() {
    // changing one of these breaks rolling upgrades: a code once used keeps its meaning
    Map<BusFailure, Integer> codes = Arrays.stream(BusFailure.values()).collect(toMap(f -> f, BusFailure::code));
    assertThat(codes).containsExactlyInAnyOrderEntriesOf(Map.ofEntries(
        Map.entry(BusFailure.INVALID_REQUEST, 400), Map.entry(BusFailure.MESSAGE_TOO_LONG, 4001),
        Map.entry(BusFailure.CONTEXT_TOO_LONG, 4002), Map.entry(BusFailure.NOT_FOUND, 404),
        Map.entry(BusFailure.MODEL_NOT_FOUND, 4040), Map.entry(BusFailure.CONVERSATION_NOT_FOUND, 4041),
        Map.entry(BusFailure.CONFLICT, 409), Map.entry(BusFailure.TURN_IN_PROGRESS, 4090),
        Map.entry(BusFailure.TOO_LARGE, 413), Map.entry(BusFailure.UNSUPPORTED_TYPE, 415),
        Map.entry(BusFailure.INTERNAL, 500), Map.entry(BusFailure.STORAGE_ERROR, 5001),
        Map.entry(BusFailure.BACKEND_ERROR, 502), Map.entry(BusFailure.UNAVAILABLE, 503),
        Map.entry(BusFailure.BACKEND_UNAVAILABLE, 5031), Map.entry(BusFailure.BACKEND_TIMEOUT, 504),
        Map.entry(BusFailure.TIMEOUT, 5041)));
    assertThat(Arrays.stream(BusFailure.values()).map(BusFailure::apiCode).distinct()).hasSize(BusFailure.values().length);
    for (BusFailure f : BusFailure.values()) {
      // a specific code is its status times ten plus a digit, so an unknown one reads as its generic failure
      assertThat(f.code() < 1000 ? f.code() : f.code() / 10).as(f.name()).isEqualTo(f.httpStatus());
      assertThat(BusFailure.ofCode(f.code())).contains(f);
      assertThat(BusFailure.ofApiCode(f.apiCode())).contains(f);
    }
  }

  @Test
  void unknownSpecificCodesReadAsTheirGenericFailure() {
    // the chat pipeline of the previous version replied 4000, 5000 and 5030
    assertThat(BusFailure.ofCode(4000)).contains(BusFailure.INVALID_REQUEST);
    assertThat(BusFailure.ofCode(5000)).contains(BusFailure.INTERNAL);
    assertThat(BusFailure.ofCode(5030)).contains(BusFailure.UNAVAILABLE);
    assertThat(BusFailure.ofCode(4099)).contains(BusFailure.CONFLICT);
    assertThat(BusFailure.ofCode(418)).isEmpty();
    assertThat(BusFailure.ofCode(-1)).isEmpty();
    assertThat(BusFailure.ofApiCode(null)).isEmpty();
    assertThat(BusFailure.ofApiCode("no_such_code")).isEmpty();
  }

  @Test
  void onlyUnavailabilityIsWorthRetrying() {
    assertThat(Arrays.stream(BusFailure.values()).filter(BusFailure::retryable))
        .containsExactlyInAnyOrder(BusFailure.UNAVAILABLE, BusFailure.BACKEND_UNAVAILABLE);
  }

  @Test
  void aConsumersFailureReadsBackAsTheSameFailure() throws Exception {
    String address = "test.bus-failure." + System.nanoTime();
    vertx.eventBus().<String>consumer(address, msg -> BusFailure.valueOf(msg.body()).fail(msg, "because"))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    for (BusFailure f : BusFailure.values()) {
      Throwable err = failure(address, f.name());
      assertThat(err).isInstanceOf(ReplyException.class).hasMessage("because");
      assertThat(BusFailure.of(err)).as(f.name()).isEqualTo(f);
    }
  }

  @Test
  void aReplyThatNeverCameIsUnavailable() throws Exception {
    Throwable noConsumer = failure("test.bus-failure.nobody." + System.nanoTime(), "x");
    assertThat(BusFailure.of(noConsumer)).isEqualTo(BusFailure.UNAVAILABLE);
    assertThat(BusFailure.of(noConsumer).retryable()).isTrue();

    String silent = "test.bus-failure.silent." + System.nanoTime();
    vertx.eventBus().consumer(silent, msg -> { })
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Throwable timedOut = vertx.eventBus().request(silent, "x", new DeliveryOptions().setSendTimeout(50))
        .toCompletionStage().toCompletableFuture().handle((r, e) -> e).get(10, TimeUnit.SECONDS);
    assertThat(BusFailure.of(unwrap(timedOut))).isEqualTo(BusFailure.UNAVAILABLE);
  }

  @Test
  void exceptionsCarryTheirFailure() {
    assertThat(BusFailure.of(BusFailure.TURN_IN_PROGRESS.exception("busy"))).isEqualTo(BusFailure.TURN_IN_PROGRESS);
    assertThat(BusFailure.of(new java.io.IOException("connection reset"))).isEqualTo(BusFailure.UNAVAILABLE);
    assertThat(BusFailure.of(new IllegalStateException("bug"))).isEqualTo(BusFailure.INTERNAL);
  }

  private static Throwable failure(String address, String body) throws Exception {
    return unwrap(vertx.eventBus().request(address, body).toCompletionStage().toCompletableFuture()
        .handle((r, e) -> e).get(10, TimeUnit.SECONDS));
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
  }
}
