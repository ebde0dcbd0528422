package ai.deepchat.tokenizer.stream;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class StopMatcherTest {

  private record Outcome(String text, Optional<String> stop) {
  }

  /** Where a generation checking after every character stops: the stop that completes first. */
  private static Outcome expected(String text, List<String> stops) {
    for (int end = 1; end <= text.length(); end++) {
      String seen = text.substring(0, end);
      String best = null;
      for (String stop : stops) {
        if (!stop.isEmpty() && seen.endsWith(stop) && (best == null || stop.length() > best.length())) {
          best = stop;
        }
      }
      if (best != null) {
        return new Outcome(text.substring(0, end - best.length()), Optional.of(best));
      }
    }
    return new Outcome(text, Optional.empty());
  }

  private static Outcome run(List<String> stops, List<String> deltas) {
    StopMatcher matcher = new StopMatcher(stops);
    StringBuilder out = new StringBuilder();
    for (String d : deltas) {
      StopMatcher.Result r = matcher.accept(d);
      out.append(r.text());
      if (r.stopped()) {
        assertThat(matcher.stopped()).isTrue();
        assertThat(matcher.accept("more")).extracting(StopMatcher.Result::text).isEqualTo("");
        return new Outcome(out.toString(), r.stop());
      }
    }
    return new Outcome(out.append(matcher.finish()).toString(), Optional.empty());
  }

  private static final List<List<String>> STOP_SETS = List.of(
      List.of("</answer>"),
      List.of("\n\nUser:", "###"),
      List.of("abcd", "bc"),
      List.of("aab"),
      List.of("ab", "b"),
      List.of("停止", "🤖"),
      List.of(""),
      List.of());

  private static final List<String> TEXTS = List.of(
      "the answer</answer> and more",
      "hello\n\nUser: next turn ### x",
      "xabcdy",
      "aaab aab",
      "cab",
      "请停止 now 🤖",
      "no stops in here <an/ans",
      "</answer",
      "");

  @Test
  void everySplitStopsWhereTheWholeTextWould() {
    for (List<String> stops : STOP_SETS) {
      for (String text : TEXTS) {
        Outcome want = expected(text, stops);
        for (List<String> split : Splits.of(text)) {
          assertThat(run(stops, split)).as("%s in %s split %s", stops, text, split)
              .isEqualTo(want);
        }
      }
    }
  }

  @Test
  void theDefinitionPrefersTheStopThatCompletesFirst() {
    // "bc" completes before "abcd" can; a longer stop wins only when both end together.
    assertThat(expected("xabcdy", List.of("abcd", "bc")))
        .isEqualTo(new Outcome("xa", Optional.of("bc")));
    assertThat(expected("cab", List.of("ab", "b"))).isEqualTo(new Outcome("c", Optional.of("ab")));
    assertThat(expected("no stop", List.of("zz"))).isEqualTo(new Outcome("no stop", Optional.empty()));
  }

  @Test
  void holdsOnlyWhatCouldStillBecomeAStop() {
    StopMatcher m = new StopMatcher(List.of("</answer>"));
    assertThat(m.accept("plain text").text()).isEqualTo("plain text");
    assertThat(m.accept("tail </ans").text()).isEqualTo("tail ");
    // "</ansX" can no longer match: released with the next delta.
    assertThat(m.accept("X more").text()).isEqualTo("</ansX more");
    assertThat(m.accept("<").text()).isEmpty();
    assertThat(m.finish()).isEqualTo("<");
  }
}
