package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.FinishReason;
import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.platform.bus.Codecs;
import ai.deepchat.platform.bus.StreamOutbox;
import ai.deepchat.platform.engine.EngineMessages.GenerationEvent;
import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.stream.GenerationText;
import ai.deepchat.tokenizer.stream.ReasoningSplitter;
import ai.deepchat.tokenizer.tools.ToolCallAssembler;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

import static ai.deepchat.platform.testing.Await.until;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALLS_BEGIN;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALLS_END;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALL_BEGIN;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALL_END;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.SEP;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The worker's events for a generation that calls tools, fed the token ids of DeepSeek's tool-call
 * block (what the engine gives the stream): pieces of calls in the DELTA events, never text, and the
 * finish reason "tool_calls" when the model stopped after calling an offered tool.
 */
class GenerationStreamToolsTest {

  @TempDir
  static Path dataDir;
  static Vertx vertx;
  static DeepSeekTokenizer tokenizer;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    Codecs.registerAll(vertx);
    tokenizer = DeepSeekTokenizer.load(TinyTestModel.ensure(dataDir));
  }

  @AfterAll
  static void close() throws Exception {
    tokenizer.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static List<GenerationEvent> generate(String output, FinishReason reason, Set<String> offered)
      throws Exception {
    String address = "test.generation." + java.util.UUID.randomUUID();
    List<GenerationEvent> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<GenerationEvent>consumer(address, m -> events.add(m.body()));
    GenerationText text = new GenerationText(tokenizer, ReasoningSplitter.thinkingInOutput(), List.of(), offered);
    GenerationStream stream = new GenerationStream("r1", address, StreamOutbox.manual(vertx.eventBus()), text,
        () -> { }, new LongAdder(), 0);
    int[] ids = tokenizer.encode(output, false);
    for (int id : ids) {
      stream.onToken(id);
    }
    stream.onFinish(reason, 10, ids.length);
    until("the DONE event", java.time.Duration.ofSeconds(10),
        () -> !events.isEmpty() && events.get(events.size() - 1).kind() == GenerationEvent.Kind.DONE);
    return events;
  }

  private static List<ToolCall> calls(List<GenerationEvent> events) {
    ToolCallAssembler calls = new ToolCallAssembler();
    events.forEach(e -> calls.accept(e.toolCalls()));
    return calls.calls();
  }

  private static String call(String name, String args) {
    return CALL_BEGIN + "function" + SEP + name + "\n```json\n" + args + "\n```" + CALL_END;
  }

  @Test
  void callsToAnOfferedToolEndWithToolCalls() throws Exception {
    List<GenerationEvent> events = generate("Sure." + CALLS_BEGIN + call("get_weather", "{\"city\": \"Oslo\"}")
        + CALLS_END, FinishReason.STOP, Set.of("get_weather"));
    assertThat(events.get(events.size() - 1).finishReason()).isEqualTo("tool_calls");
    assertThat(calls(events)).extracting(ToolCall::name, ToolCall::arguments)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("get_weather", "{\"city\": \"Oslo\"}"));
    String content = events.stream().filter(e -> e.content() != null).map(GenerationEvent::content)
        .reduce("", String::concat);
    assertThat(content).isEqualTo("Sure.");
  }

  @Test
  void aCallToAToolNotOfferedIsNoCallAndTheAnswerSimplyStops() throws Exception {
    List<GenerationEvent> events = generate("Sure." + CALLS_BEGIN + call("rm_rf", "{}") + CALLS_END,
        FinishReason.STOP, Set.of("get_weather"));
    assertThat(events.get(events.size() - 1).finishReason()).isEqualTo("stop");
    assertThat(calls(events)).isEmpty();
  }

  @Test
  void aBlockCutByTheTokenLimitEndsWithLength() throws Exception {
    List<GenerationEvent> events = generate(CALLS_BEGIN + CALL_BEGIN + "function" + SEP + "get_weather\n```json\n{\"ci",
        FinishReason.LENGTH, Set.of("get_weather"));
    assertThat(events.get(events.size() - 1).finishReason()).isEqualTo("length");
    assertThat(calls(events)).extracting(ToolCall::arguments).containsExactly("{\"ci");
  }
}
