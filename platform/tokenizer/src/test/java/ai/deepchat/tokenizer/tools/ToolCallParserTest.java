package ai.deepchat.tokenizer.tools;

import ai.deepchat.platform.engine.EngineMessages.ToolCall;
import ai.deepchat.platform.engine.EngineMessages.ToolCallDelta;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.Golden;
import ai.deepchat.tokenizer.stream.GenerationText;
import ai.deepchat.tokenizer.stream.ReasoningSplitter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALLS_BEGIN;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALLS_END;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALL_BEGIN;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.CALL_END;
import static ai.deepchat.tokenizer.tools.ToolCallMarkers.SEP;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * DeepSeek-V3 tool-call blocks as the engine produces them: real token ids of the real tokenizer, fed
 * one id at a time through {@link GenerationText}, the way the worker does.
 */
class ToolCallParserTest {

  static DeepSeekTokenizer tokenizer;
  static int eos;

  @BeforeAll
  static void load() {
    tokenizer = DeepSeekTokenizer.load(Golden.deepSeekV3Dir());
    eos = tokenizer.eosTokenId().orElseThrow();
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  /** What a client assembles from the streamed pieces. */
  record Output(String content, List<ToolCall> calls, int pieces, int began) {
  }

  static String call(String name, String args) {
    return CALL_BEGIN + "function" + SEP + name + "\n```json\n" + args + "\n```" + CALL_END;
  }

  static int[] ids(String output) {
    return tokenizer.encode(output, false);
  }

  static Output run(int[] ids, boolean finish) {
    return run(ids, finish, Set.of("get_weather", "search-web_2", "now", "f", "g"));
  }

  static Output run(int[] ids, boolean finish, Set<String> offered) {
    GenerationText text = new GenerationText(tokenizer, ReasoningSplitter.thinkingInOutput(), List.of(), offered);
    StringBuilder content = new StringBuilder();
    List<String> callIds = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<StringBuilder> args = new ArrayList<>();
    int pieces = 0;
    List<GenerationText.Step> steps = new ArrayList<>();
    for (int id : ids) {
      steps.add(text.accept(id));
    }
    if (finish) {
      steps.add(text.finish());
    }
    for (GenerationText.Step step : steps) {
      content.append(step.content()).append(step.reasoning());
      for (ToolCallDelta d : step.toolCalls()) {
        pieces++;
        if (d.index() == callIds.size()) { // the first piece of a call: id, name, empty arguments
          assertThat(d.id()).matches("call_[0-9a-f]{24}");
          assertThat(d.name()).isNotNull();
          assertThat(d.arguments()).isEmpty();
          callIds.add(d.id());
          names.add(d.name());
          args.add(new StringBuilder());
        } else {
          assertThat(d.index()).isEqualTo(callIds.size() - 1);
          assertThat(d.id()).isNull();
          assertThat(d.name()).isNull();
          assertThat(d.arguments()).isNotEmpty();
          args.get(d.index()).append(d.arguments());
        }
      }
    }
    List<ToolCall> calls = new ArrayList<>();
    for (int i = 0; i < callIds.size(); i++) {
      calls.add(new ToolCall(callIds.get(i), names.get(i), args.get(i).toString()));
    }
    return new Output(content.toString(), calls, pieces, text.toolCalls());
  }

  static int[] withEos(int[] ids) {
    int[] out = Arrays.copyOf(ids, ids.length + 1);
    out[ids.length] = eos;
    return out;
  }

  @Test
  void markersAreSingleTokensOfTheVocabulary() {
    ToolCallMarkers m = ToolCallMarkers.of(tokenizer).orElseThrow();
    assertThat(ids(CALLS_BEGIN + CALL_BEGIN + SEP + CALL_END + CALLS_END))
        .containsExactly(m.callsBegin(), m.callBegin(), m.sep(), m.callEnd(), m.callsEnd());
  }

  @Test
  void oneCallAfterSomeText() {
    String args = "{\"city\": \"Paris\", \"days\": 3}";
    Output out = run(withEos(ids("Let me look that up." + CALLS_BEGIN + call("get_weather", args) + CALLS_END)),
        true);
    assertThat(out.content()).isEqualTo("Let me look that up.");
    assertThat(out.calls()).hasSize(1);
    assertThat(out.calls().get(0).name()).isEqualTo("get_weather");
    assertThat(out.calls().get(0).arguments()).isEqualTo(args);
    assertThat(out.pieces()).isGreaterThan(2); // arguments stream in fragments, not at the end
    assertThat(out.began()).isEqualTo(1);
  }

  @Test
  void parallelCallsWithMultiByteArguments() {
    String first = "{\"city\": \"北京\", \"note\": \"🌧️ \\\"rain\\\"\"}";
    String second = "{\"q\": \"```not a fence```\", \"n\": [1, 2]}";
    String third = "{}";
    Output out = run(withEos(ids(CALLS_BEGIN + call("get_weather", first) + "\n" + call("search-web_2", second)
        + "\n" + call("now", third) + CALLS_END)), true);
    assertThat(out.content()).isEmpty();
    assertThat(out.calls()).extracting(ToolCall::name).containsExactly("get_weather", "search-web_2", "now");
    assertThat(out.calls()).extracting(ToolCall::arguments).containsExactly(first, second, third);
    assertThat(out.calls()).extracting(ToolCall::id).doesNotHaveDuplicates();
  }

  @Test
  void everyCutOfTheStreamShowsOnlyAPrefixOfTheTrueArgumentsAndNoMarkerText() {
    // whatever id the generation stops at (max_tokens), nothing but argument text reaches a client:
    // the fences and newlines around the arguments are held back until known, markers never decoded
    String first = "{\"a\": \"x\\ny\", \"b\": 1}";
    String second = "{\"path\": \"/tmp/🙂.txt\"}";
    int[] ids = ids("Ok." + CALLS_BEGIN + call("f", first) + "\n" + call("g", second) + CALLS_END);
    for (int cut = 0; cut <= ids.length; cut++) {
      for (boolean finish : new boolean[] {false, true}) {
        Output out = run(Arrays.copyOf(ids, cut), finish);
        assertThat("Ok.").startsWith(out.content());
        assertThat(out.content()).doesNotContain("｜", "```");
        List<String> truth = List.of(first, second);
        for (int i = 0; i < out.calls().size(); i++) {
          assertThat(truth.get(i)).as("cut at %d", cut).startsWith(out.calls().get(i).arguments());
        }
      }
    }
    assertThat(run(ids, true).calls()).extracting(ToolCall::arguments).containsExactly(first, second);
  }

  @Test
  void theClosingFenceSplitOverSeveralTokensIsHeldBackUntilKnown() {
    // "\n", "``", "`" as separate tokens: the arguments end before the newline, whichever way it is cut
    String args = "{\"k\": 1}";
    int[] head = ids(CALLS_BEGIN + CALL_BEGIN + "function" + SEP + "f\n```json\n" + args);
    int[] fence = concat(ids("\n"), ids("``"), ids("`"));
    int[] tail = ids(CALL_END + CALLS_END);
    Output out = run(withEos(concat(head, fence, tail)), true);
    assertThat(out.calls()).extracting(ToolCall::arguments).containsExactly(args);
    // and a backtick-newline inside the arguments that is not the fence stays in them
    String tricky = "{\"k\": \"a\"}\n``";
    Output kept = run(withEos(ids(CALLS_BEGIN + CALL_BEGIN + "function" + SEP + "f\n```json\n" + tricky
        + CALL_END + CALLS_END)), true);
    assertThat(kept.calls().get(0).arguments()).isEqualTo(tricky);
  }

  @Test
  void aCallCutBeforeItsNameEndedProducesNothingAndNoText() {
    Output out = run(ids("Hi" + CALLS_BEGIN + CALL_BEGIN + "function" + SEP + "get_wea"), true);
    assertThat(out.content()).isEqualTo("Hi");
    assertThat(out.calls()).isEmpty();
    assertThat(out.began()).isZero();
  }

  @Test
  void textAfterTheBlockAndBetweenCallsIsDropped() {
    Output out = run(withEos(ids(CALLS_BEGIN + call("f", "{}") + "\nstray words\n" + call("g", "{}") + CALLS_END
        + "trailing")), true);
    assertThat(out.content()).isEmpty();
    assertThat(out.calls()).extracting(ToolCall::name).containsExactly("f", "g");
  }

  @Test
  void aCallWithoutTheBlockMarkerOrFenceStillParses() {
    Output out = run(withEos(ids("x" + CALL_BEGIN + "function" + SEP + "f\n{\"a\": 1}" + CALL_END)), true);
    assertThat(out.content()).isEqualTo("x");
    assertThat(out.calls()).extracting(ToolCall::arguments).containsExactly("{\"a\": 1}");
  }

  @Test
  void callsToToolsNotOfferedAreDroppedAndTheOthersNumberedFromZero() {
    int[] ids = withEos(ids("ok" + CALLS_BEGIN + call("delete_all", "{\"really\": true}") + "\n"
        + call("get_weather", "{\"city\": \"Oslo\"}") + CALLS_END));
    Output out = run(ids, true, Set.of("get_weather"));
    assertThat(out.content()).isEqualTo("ok");
    assertThat(out.calls()).extracting(ToolCall::name).containsExactly("get_weather");
    assertThat(out.calls()).extracting(ToolCall::arguments).containsExactly("{\"city\": \"Oslo\"}");
    // offered none (tool_choice none, or no tools): nothing is called, and the block is still no content
    Output none = run(ids, true, Set.of());
    assertThat(none.calls()).isEmpty();
    assertThat(none.began()).isZero();
    assertThat(none.content()).isEqualTo("ok");
  }

  @Test
  void outputWithoutMarkersIsUntouched() {
    Output out = run(withEos(ids("Plain answer with ``` fences\n``` and a newline")), true);
    assertThat(out.content()).isEqualTo("Plain answer with ``` fences\n``` and a newline");
    assertThat(out.calls()).isEmpty();
  }

  private static int[] concat(int[]... parts) {
    return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
  }
}
