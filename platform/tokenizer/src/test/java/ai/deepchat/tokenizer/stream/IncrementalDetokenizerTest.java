package ai.deepchat.tokenizer.stream;

import ai.deepchat.tokenizer.DeepSeekTokenizer;
import ai.deepchat.tokenizer.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class IncrementalDetokenizerTest {

  static Golden golden;
  static DeepSeekTokenizer tokenizer;

  @BeforeAll
  static void load() {
    golden = Golden.deepSeekV3();
    tokenizer = DeepSeekTokenizer.load(Golden.deepSeekV3Dir());
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  /** Streams {@code ids}, checking each delta; returns deltas plus the final flush. */
  private static List<String> stream(int[] ids, boolean skipSpecial, boolean expectClean) {
    IncrementalDetokenizer detok = new IncrementalDetokenizer(tokenizer, skipSpecial);
    List<String> deltas = new ArrayList<>();
    StringBuilder sofar = new StringBuilder();
    for (int k = 0; k < ids.length; k++) {
      String delta = detok.accept(ids[k]);
      if (expectClean) {
        assertThat(delta).doesNotContain("\uFFFD");
      }
      if (!delta.isEmpty()) {
        assertThat(Character.isHighSurrogate(delta.charAt(delta.length() - 1))).isFalse();
      }
      sofar.append(delta);
      String decoded = tokenizer.decode(Arrays.copyOf(ids, k + 1), skipSpecial);
      // Emits every complete character at once, and nothing a later token could revise: only a
      // trailing incomplete character (U+FFFD in the decode so far) is held.
      assertThat(sofar.toString()).isEqualTo(decoded.replaceAll("\uFFFD+$", ""));
      deltas.add(delta);
    }
    deltas.add(detok.finish());
    assertThat(detok.ids()).containsExactly(ids);
    return deltas;
  }

  @Test
  void idsPastTheTokenizerVocabularyAreSkippedNotFatal() {
    int[] ids = tokenizer.encode("Hello world");
    IncrementalDetokenizer detok = new IncrementalDetokenizer(tokenizer, true);
    StringBuilder text = new StringBuilder(detok.accept(ids[0]));
    // the model's padding rows (DeepSeek-V3 has 129,280 embedding rows) and garbage have no text
    assertThat(detok.accept(tokenizer.vocabSize())).isEmpty();
    assertThat(detok.accept(129_279)).isEmpty();
    assertThat(detok.accept(-1)).isEmpty();
    for (int k = 1; k < ids.length; k++) {
      text.append(detok.accept(ids[k]));
    }
    text.append(detok.finish());
    assertThat(text.toString()).isEqualTo("Hello world");
    assertThat(detok.ids()).containsExactly(ids);
  }

  @Test
  void deltasOfEveryGoldenTextAddUpToTheFullDecode() {
    for (Golden.Encoding e : golden.encodings()) {
      String joined = String.join("", stream(e.ids(), false, true));
      assertThat(joined).isEqualTo(tokenizer.decode(e.ids())).isEqualTo(e.text());
    }
  }

  @Test
  void characterSplitAcrossTokensIsEmittedWholeWithTheTokenCompletingIt() {
    int found = 0;
    for (Golden.Encoding e : golden.encodings()) {
      List<String> deltas = stream(e.ids(), false, true);
      for (int k = 0; k + 1 < e.ids().length; k++) {
        if (!tokenizer.decode(new int[] {e.ids()[k]}).endsWith("\uFFFD")) {
          continue;
        }
        // Token k ends inside a character: the text decoded through k+1 ends where it completes.
        String through = tokenizer.decode(Arrays.copyOf(e.ids(), k + 2));
        String tail = tokenizer.decode(Arrays.copyOf(e.ids(), k + 1));
        String held = tail.substring(0, tail.indexOf('\uFFFD'));
        assertThat(String.join("", deltas.subList(0, k + 1))).isEqualTo(held);
        assertThat(held + deltas.get(k + 1)).isEqualTo(through);
        found++;
      }
    }
    // The emoji at the end of the third golden text is two byte-level tokens.
    assertThat(found).isPositive();
  }

  @Test
  void specialTokensAreKeptOrSkippedLikeFullDecode() {
    for (Golden.Chat chat : golden.chats()) {
      assertThat(String.join("", stream(chat.ids(), false, true)))
          .isEqualTo(tokenizer.decode(chat.ids(), false)).isEqualTo(chat.rendered());
      assertThat(String.join("", stream(chat.ids(), true, true)))
          .isEqualTo(tokenizer.decode(chat.ids(), true));
    }
  }

  @Test
  void arbitraryIdSequencesIncludingInvalidUtf8MatchFullDecode() {
    // Random byte-level tokens often form invalid UTF-8; U+FFFD must then appear exactly where
    // the full decode has it, no more, no less.
    SplittableRandom random = new SplittableRandom(20240601);
    List<Integer> pool = new ArrayList<>();
    for (Golden.Encoding e : golden.encodings()) {
      for (int id : e.ids()) {
        pool.add(id);
      }
    }
    for (int run = 0; run < 20; run++) {
      int[] ids = new int[60];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = random.nextInt(3) == 0 ? random.nextInt(1, 128000) : pool.get(random.nextInt(
            pool.size()));
      }
      assertThat(String.join("", stream(ids, true, false)))
          .isEqualTo(tokenizer.decode(ids, true));
    }
  }

  @Test
  void plainTokensAreEmittedAtOnce() {
    int[] ids = golden.encodings().get(0).ids(); // "Hello, world!": ASCII only
    IncrementalDetokenizer detok = new IncrementalDetokenizer(tokenizer, true);
    for (int id : ids) {
      assertThat(detok.accept(id)).isEqualTo(tokenizer.decode(new int[] {id}));
    }
    assertThat(detok.finish()).isEmpty();
  }
}
