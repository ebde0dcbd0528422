package ai.deepchat.tokenizer.stream;

import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** Token ids of a generation through all three stages, one id at a time. */
class GenerationTextTest {

  static DeepSeekTokenizer tokenizer;

  @BeforeAll
  static void load() {
    tokenizer = DeepSeekTokenizer.load(Golden.deepSeekV3Dir());
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  private record Out(String reasoning, String content, boolean stopped) {
  }

  private static Out streamed(String output, Supplier<ReasoningSplitter> mode, List<String> stops) {
    GenerationText text = new GenerationText(tokenizer, mode.get(), stops);
    StringBuilder reasoning = new StringBuilder();
    StringBuilder content = new StringBuilder();
    int[] ids = tokenizer.encode(output, false);
    int eos = tokenizer.eosTokenId().orElseThrow();
    int[] withEos = java.util.Arrays.copyOf(ids, ids.length + 1);
    withEos[ids.length] = eos; // the engine's final token: must not show up as text
    boolean stopped = false;
    for (int id : withEos) {
      GenerationText.Step step = text.accept(id);
      reasoning.append(step.reasoning());
      content.append(step.content());
      if (step.stopped()) {
        stopped = true;
        assertThat(text.accept(id).isEmpty()).isTrue();
        break;
      }
    }
    if (!stopped) {
      GenerationText.Step last = text.finish();
      reasoning.append(last.reasoning());
      content.append(last.content());
    }
    return new Out(reasoning.toString(), content.toString(), stopped);
  }

  /** The same stages applied once to the whole text. */
  private static Out whole(String output, Supplier<ReasoningSplitter> mode, List<String> stops) {
    ReasoningSplitter splitter = mode.get();
    ReasoningSplitter.Delta a = splitter.accept(output);
    ReasoningSplitter.Delta b = splitter.finish();
    StopMatcher matcher = new StopMatcher(stops);
    StopMatcher.Result r = matcher.accept(a.content() + b.content());
    return new Out(a.reasoning() + b.reasoning(), r.stopped() ? r.text() : r.text() + matcher.finish(),
        r.stopped());
  }

  @Test
  void streamingTokenByTokenEqualsProcessingTheWholeText() {
    List<String> outputs = List.of(
        "<think>\n推理 🤖 step by step\n</think>\n\nAnswer: 42 END tail",
        "推理 🤖 step</think>\n\n答案 END",
        "<think>no answer yet",
        "Just an answer with 🤖 and no stop");
    List<List<String>> stopSets = List.of(List.of(), List.of("END"), List.of("step", " 🤖"));
    for (Supplier<ReasoningSplitter> mode : List.<Supplier<ReasoningSplitter>>of(
        ReasoningSplitter::thinkingInOutput, ReasoningSplitter::thinkingOpenedByPrompt)) {
      for (String output : outputs) {
        for (List<String> stops : stopSets) {
          assertThat(streamed(output, mode, stops)).as("%s / %s", output, stops)
              .isEqualTo(whole(output, mode, stops));
        }
      }
    }
  }

  @Test
  void stopsApplyToTheAnswerNotTheReasoning() {
    Out out = streamed("<think>\n推理 🤖 step\n</think>\n\nAnswer: 42 step tail",
        ReasoningSplitter::thinkingInOutput, List.of("step"));
    assertThat(out).isEqualTo(new Out("推理 🤖 step", "Answer: 42 ", true));
  }
}
