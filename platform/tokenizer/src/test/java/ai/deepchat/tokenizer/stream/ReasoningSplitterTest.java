package ai.deepchat.tokenizer.stream;

import ai.deepchat.tokenizer.stream.ReasoningSplitter.Delta;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static ai.deepchat.tokenizer.stream.ReasoningSplitter.CLOSE;
import static ai.deepchat.tokenizer.stream.ReasoningSplitter.OPEN;
import static org.assertj.core.api.Assertions.assertThat;

class ReasoningSplitterTest {

  private static final List<String> OUTPUTS = List.of(
      "<think>\nLet me add.\n2+2=4\n</think>\n\nThe answer is 4.",
      "  <think>abc</think>def",
      "<think>\n中文推理 🤖\n</think>\n\n答案是 🤖 。",
      "plain answer <think> not reasoning </think> here",
      "<think>unclosed reasoning  \n",
      "<think></think>",
      "<think>x</think>   ",
      "</think>answer after a close only",
      "reasoning without open</think>\n\nanswer",
      "a</thinkx>b</think>c</think>d",
      "<think><think>twice</think>x",
      "<thi",
      "<",
      "\n\n",
      "");

  /** The documented result for a whole output, written independently of the streaming code. */
  private static Delta expected(String output, boolean openedByPrompt) {
    String s = output.stripLeading();
    if (s.startsWith(OPEN)) {
      s = s.substring(OPEN.length());
    } else if (!openedByPrompt) {
      return new Delta("", output);
    }
    int close = s.indexOf(CLOSE);
    if (close < 0) {
      return new Delta(s.strip(), "");
    }
    return new Delta(s.substring(0, close).strip(),
        s.substring(close + CLOSE.length()).stripLeading());
  }

  private static Delta run(Supplier<ReasoningSplitter> factory, List<String> deltas) {
    ReasoningSplitter splitter = factory.get();
    StringBuilder reasoning = new StringBuilder();
    StringBuilder content = new StringBuilder();
    for (String d : deltas) {
      Delta out = splitter.accept(d);
      reasoning.append(out.reasoning());
      content.append(out.content());
    }
    Delta last = splitter.finish();
    return new Delta(reasoning.append(last.reasoning()).toString(),
        content.append(last.content()).toString());
  }

  @Test
  void everySplitOfEveryOutputGivesTheWholeOutputResult() {
    for (boolean opened : new boolean[] {false, true}) {
      Supplier<ReasoningSplitter> factory = opened ? ReasoningSplitter::thinkingOpenedByPrompt
          : ReasoningSplitter::thinkingInOutput;
      for (String output : OUTPUTS) {
        Delta want = expected(output, opened);
        for (List<String> split : Splits.of(output)) {
          assertThat(run(factory, split)).as("%s, opened=%s, split %s", output, opened, split)
              .isEqualTo(want);
        }
      }
    }
  }

  @Test
  void theDefinitionSeparatesTheTypicalShapes() {
    // Pins the definition itself, so the test above cannot pass with a degenerate one.
    assertThat(expected(OUTPUTS.get(0), false))
        .isEqualTo(new Delta("Let me add.\n2+2=4", "The answer is 4."));
    assertThat(expected("reasoning</think>\n\nanswer", true))
        .isEqualTo(new Delta("reasoning", "answer"));
    assertThat(expected("reasoning</think>\n\nanswer", false))
        .isEqualTo(new Delta("", "reasoning</think>\n\nanswer"));
  }

  @Test
  void textThatCannotBeATagIsNotHeld() {
    ReasoningSplitter s = ReasoningSplitter.thinkingInOutput();
    assertThat(s.accept("Hi")).isEqualTo(new Delta("", "Hi"));
    assertThat(s.accept(" there")).isEqualTo(new Delta("", " there"));

    ReasoningSplitter r = ReasoningSplitter.thinkingInOutput();
    assertThat(r.accept("<think>\n")).isEqualTo(new Delta("", ""));
    assertThat(r.accept("step one")).isEqualTo(new Delta("step one", ""));
    assertThat(r.accept(" and <")).isEqualTo(new Delta(" and", "")); // "<" may open </think>
    assertThat(r.accept("b>")).isEqualTo(new Delta(" <b>", ""));
    assertThat(r.inContent()).isFalse();
    assertThat(r.accept("</think>\n\nDone")).isEqualTo(new Delta("", "Done"));
    assertThat(r.inContent()).isTrue();
  }

  @Test
  void modeFollowsTheRenderedPrompt() {
    assertThat(run(() -> ReasoningSplitter.forPrompt("<｜User｜>q<｜Assistant｜><think>\n"),
        List.of("r</think>a"))).isEqualTo(new Delta("r", "a"));
    assertThat(run(() -> ReasoningSplitter.forPrompt("<｜User｜>q<｜Assistant｜>"),
        List.of("r</think>a"))).isEqualTo(new Delta("", "r</think>a"));
  }
}
