package ai.deepchat.policy.moderation;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WordMatcherTest {

  private final WordMatcher matcher = WordMatcher.of(List.of("赌博", "Casino", "ass", "代开发票"));

  @Test
  void englishMatchesIgnoreCaseAndFullWidth() {
    assertThat(matcher.mask("Visit our CASINO today")).isEqualTo("Visit our ****** today");
    // full-width Latin letters (U+FF23...) fold to ASCII; each original char is masked once
    assertThat(matcher.mask("Ｃａｓｉｎｏ night")).isEqualTo("****** night");
    assertThat(matcher.mask("ｃＡｓＩｎＯ")).isEqualTo("******");
    assertThat(matcher.find("ｃＡｓＩｎＯ")).singleElement()
        .satisfies(m -> assertThat(m.word()).isEqualTo("Casino"));
  }

  @Test
  void chineseMatchesAnywhereInsideText() {
    assertThat(matcher.mask("网上赌博违法")).isEqualTo("网上**违法");
    assertThat(matcher.mask("可以代开发票吗？")).isEqualTo("可以****吗？");
    assertThat(matcher.matches("你好，世界")).isFalse();
  }

  @Test
  void latinWordsMatchOnlyAsWholeWords() {
    assertThat(matcher.matches("a world-class product")).isFalse();
    assertThat(matcher.matches("assassin")).isFalse();
    assertThat(matcher.mask("you ass!")).isEqualTo("you ***!");
    // a CJK neighbour is a word boundary for a Latin word
    assertThat(matcher.mask("你是ass吗")).isEqualTo("你是***吗");
  }

  @Test
  void invisibleCharactersDoNotHideAWord() {
    String zeroWidth = "赌\u200B博";
    assertThat(matcher.mask(zeroWidth)).isEqualTo("***");
    assertThat(matcher.mask("cas\u00ADino")).isEqualTo("*******");
  }

  @Test
  void wordsEnteredInFullWidthOrMixedCaseMatchPlainText() {
    WordMatcher m = WordMatcher.of(List.of("ＢＡＤ", " spam "));
    assertThat(m.mask("bad spam")).isEqualTo("*** ****");
    assertThat(m.maxWordLength()).isEqualTo(4);
  }

  @Test
  void overlappingWordsMaskTheirUnion() {
    WordMatcher m = WordMatcher.of(List.of("发票", "代开发"));
    assertThat(m.mask("代开发票")).isEqualTo("****");
  }

  @Test
  void surrogatePairsAreMaskedAsOneCharacter() {
    WordMatcher m = WordMatcher.of(List.of("😀x"));
    assertThat(m.mask("a😀x b")).isEqualTo("a** b");
  }

  @Test
  void emptyListMatchesNothing() {
    assertThat(WordMatcher.of(List.of(" ", "")).isEmpty()).isTrue();
    assertThat(WordMatcher.EMPTY.mask("anything")).isEqualTo("anything");
  }
}
