package ai.deepchat.policy.moderation;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StreamingModeratorTest {

  private final WordMatcher matcher = WordMatcher.of(List.of("赌博网站", "casino", "代开发票", "bad"));

  private static String stream(StreamingModerator m, String... chunks) {
    StringBuilder out = new StringBuilder();
    for (String c : chunks) {
      StreamingModerator.Output o = m.accept(c);
      out.append(o.text());
    }
    return out.append(m.finish().text()).toString();
  }

  @Test
  void everyTwoWaySplitMasksLikeTheWholeText() {
    String text = "Try the CASINO or 赌博网站, not bad at all; 代开发票 too. Ｂａｄ!";
    String expected = matcher.mask(text);
    assertThat(expected).doesNotContainIgnoringCase("casino").doesNotContain("赌博网站").doesNotContain("代开发票");
    for (int i = 0; i <= text.length(); i++) {
      StreamingModerator m = new StreamingModerator(matcher, false);
      assertThat(stream(m, text.substring(0, i), text.substring(i))).as("split at %d", i).isEqualTo(expected);
    }
  }

  @Test
  void everyThreeWaySplitMasksLikeTheWholeText() {
    String text = "x casino 赌博网站 bad";
    String expected = matcher.mask(text);
    for (int i = 0; i <= text.length(); i++) {
      for (int j = i; j <= text.length(); j++) {
        StreamingModerator m = new StreamingModerator(matcher, false);
        assertThat(stream(m, text.substring(0, i), text.substring(i, j), text.substring(j)))
            .as("split at %d,%d", i, j).isEqualTo(expected);
      }
    }
  }

  @Test
  void oneCharacterChunksHoldBackLessThanTheLongestWord() {
    String text = "no casino here, 请勿代开发票。";
    StreamingModerator m = new StreamingModerator(matcher, false);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      out.append(m.accept(text.substring(i, i + 1)).text());
      // one more only right after "casino", whose right word boundary is still unknown
      assertThat(m.heldBack()).isLessThanOrEqualTo(text.startsWith("casino", i - 5)
          ? matcher.maxWordLength() : matcher.maxWordLength() - 1);
    }
    out.append(m.finish().text());
    assertThat(out.toString()).isEqualTo("no ****** here, 请勿****。");
    assertThat(m.matchedWords()).containsExactly("casino", "代开发票");
  }

  @Test
  void cjkWordsNeverHoldBackMoreThanTheLongestWordLessOne() {
    WordMatcher cjk = WordMatcher.of(List.of("赌博网站", "发票"));
    String text = "这里有赌博网站和代开发票的广告，请注意。";
    StreamingModerator m = new StreamingModerator(cjk, false);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      out.append(m.accept(text.substring(i, i + 1)).text());
      assertThat(m.heldBack()).isLessThanOrEqualTo(3);
    }
    out.append(m.finish().text());
    assertThat(out.toString()).isEqualTo("这里有****和代开**的广告，请注意。");
  }

  @Test
  void releasesTextThatCannotStartAWordRightAway() {
    StreamingModerator m = new StreamingModerator(matcher, false);
    // 5 = longest word (6) - 1 chars held; the rest goes out at once
    assertThat(m.accept("Hello there, friend").text()).isEqualTo("Hello there, f");
    assertThat(m.heldBack()).isEqualTo(5);
    assertThat(m.finish().text()).isEqualTo("riend");
  }

  @Test
  void blockModeStopsAtTheFirstWordEvenWhenSplit() {
    StreamingModerator m = new StreamingModerator(matcher, true);
    StringBuilder out = new StringBuilder();
    out.append(m.accept("Welcome to our ca").text());
    StreamingModerator.Output o = m.accept("sino tonight");
    out.append(o.text());
    assertThat(o.stopped()).isTrue();
    assertThat(out.toString()).doesNotContain("ca").isEqualTo("Welcome to our ");
    assertThat(m.accept("more").text()).isEmpty();
    assertThat(m.finish().stopped()).isTrue();
    assertThat(m.matchedWords()).containsExactly("casino");
  }

  @Test
  void wordBoundaryIsDecidedByTheNextChunk() {
    StreamingModerator m = new StreamingModerator(matcher, false);
    StringBuilder out = new StringBuilder(m.accept("it is bad").text());
    out.append(m.accept("ge number 7").text()).append(m.finish().text());
    assertThat(out.toString()).isEqualTo("it is badge number 7");
  }

  @Test
  void fullWidthWordSplitAcrossChunks() {
    StreamingModerator m = new StreamingModerator(matcher, false);
    String out = stream(m, "ＣＡＳ", "ｉｎｏ!");
    assertThat(out).isEqualTo("******!");
  }

  @Test
  void surrogatePairSplitAcrossChunksStaysWhole() {
    WordMatcher emoji = WordMatcher.of(List.of("😀😀"));
    String text = "a😀😀b";
    for (int i = 0; i <= text.length(); i++) {
      StreamingModerator m = new StreamingModerator(emoji, false);
      assertThat(stream(m, text.substring(0, i), text.substring(i))).isEqualTo("a**b");
    }
  }

  @Test
  void emptyListPassesChunksThrough() {
    StreamingModerator m = new StreamingModerator(WordMatcher.EMPTY, false);
    assertThat(m.accept("anything").text()).isEqualTo("anything");
    assertThat(m.finish().text()).isEmpty();
  }
}
