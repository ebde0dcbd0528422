package ai.deepchat.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Token ids against HF's own output for the DeepSeek-V3 tokenizer. */
class DeepSeekTokenizerTest {

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

  @Test
  void goldenHasTheDocumentedShape() {
    assertThat(golden.encodings()).hasSize(11);
    assertThat(golden.chats()).hasSize(3);
  }

  @Test
  void encodesEveryGoldenTextToHfIds() {
    for (Golden.Encoding e : golden.encodings()) {
      assertThat(tokenizer.encode(e.text(), false)).as(e.text()).containsExactly(e.ids());
      assertThat(tokenizer.encode(e.text(), true)).as(e.text())
          .containsExactly(e.idsWithSpecial());
      assertThat(tokenizer.encode(e.text())).as(e.text()).containsExactly(e.idsWithSpecial());
    }
  }

  @Test
  void theIdsAloneAreTheIdsOfDjlsFullEncoding() {
    // encode() asks the native encoding for its ids only (#25); DJL's full Encoding is the reference
    java.util.List<String> texts = new java.util.ArrayList<>();
    golden.encodings().forEach(e -> texts.add(e.text()));
    golden.chats().forEach(c -> texts.add(c.rendered()));
    texts.add("What are your opening hours? (12.3)");
    texts.add("<｜User｜>ignore that<｜Assistant｜> é ñ 中文 🙂 \t\n  ");
    texts.add(String.join("\n", texts).repeat(40));
    texts.add("");
    for (String text : texts) {
      for (boolean special : new boolean[] {false, true}) {
        int[] full = tokenizer.encodeThroughEncoding(text, special);
        assertThat(tokenizer.encode(text, special)).as(text).containsExactly(full);
        assertThat(tokenizer.count(text, special)).as(text).isEqualTo(full.length);
      }
    }
    assertThat(texts.get(texts.size() - 2).length()).isGreaterThan(10_000);
  }

  @Test
  void skippingSpecialTokensAlsoDropsTheChatControlTokensV3MarksNonSpecial() {
    int assistant = tokenizer.tokenToId("<｜Assistant｜>").orElseThrow();
    int toolSep = tokenizer.tokenToId("<｜tool▁sep｜>").orElseThrow();
    int eos = tokenizer.tokenToId("<｜end▁of▁sentence｜>").orElseThrow();
    int[] hello = tokenizer.encode("Hello there", false);
    int[] ids = new int[hello.length + 3];
    ids[0] = assistant;
    System.arraycopy(hello, 0, ids, 1, hello.length);
    ids[hello.length + 1] = toolSep;
    ids[hello.length + 2] = eos;
    assertThat(tokenizer.decode(ids, true)).isEqualTo("Hello there");
    // without skipping, every token shows (HF's default), so prompts still render exactly
    assertThat(tokenizer.decode(ids, false)).startsWith("<｜Assistant｜>Hello there").endsWith("<｜end▁of▁sentence｜>");
  }

  @Test
  void decodeRoundTripsEveryGoldenText() {
    for (Golden.Encoding e : golden.encodings()) {
      assertThat(tokenizer.decode(e.ids())).isEqualTo(e.text());
    }
  }

  @Test
  void longInputIsNotTruncated() {
    // DJL truncates to 512 tokens unless told not to; 200 copies of every golden text are well past.
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      golden.encodings().forEach(e -> sb.append(e.text()).append('\n'));
    }
    String text = sb.toString();
    int[] ids = tokenizer.encode(text, false);
    assertThat(ids.length).isGreaterThan(512);
    assertThat(tokenizer.decode(ids)).isEqualTo(text);
  }

  @Test
  void chatIdsAreTheEncodingOfTheRenderedText() {
    // HF's apply_chat_template(tokenize=True) encodes the rendered text without adding specials.
    for (Golden.Chat chat : golden.chats()) {
      assertThat(tokenizer.encode(chat.rendered(), false)).containsExactly(chat.ids());
    }
  }

  @Test
  void specialTokensMapBothWays() {
    TokenizerConfig config = tokenizer.config().orElseThrow();
    String bos = config.bosToken().orElseThrow();
    String eos = config.eosToken().orElseThrow();
    int bosId = tokenizer.bosTokenId().orElseThrow();
    int eosId = tokenizer.eosTokenId().orElseThrow();
    assertThat(tokenizer.encode(bos, false)).containsExactly(bosId);
    assertThat(tokenizer.encode(eos, false)).containsExactly(eosId);
    assertThat(tokenizer.idToToken(bosId)).contains(bos);
    assertThat(tokenizer.tokenToId(eos)).hasValue(eosId);
    assertThat(tokenizer.isSpecial(bosId)).isTrue();
    // The golden chats start with the BOS text, and its id is what HF put first.
    assertThat(golden.chats().get(0).ids()[0]).isEqualTo(bosId);
    assertThat(tokenizer.decode(new int[] {bosId, eosId}, true)).isEmpty();
    assertThat(tokenizer.decode(new int[] {bosId, eosId}, false)).isEqualTo(bos + eos);
  }

  @Test
  void everyAddedTokenEncodesToItsOwnId() {
    // Covers the role markers used by the template (<｜User｜>, <｜Assistant｜>) without naming ids.
    for (Golden.Chat chat : golden.chats()) {
      for (int id : chat.ids()) {
        tokenizer.idToToken(id).ifPresent(text ->
            assertThat(tokenizer.encode(text, false)).containsExactly(id));
      }
    }
    assertThat(tokenizer.idToToken(golden.encodings().get(0).ids()[0])).isEmpty();
    assertThat(tokenizer.tokenToId("not a token")).isEmpty();
  }

  @Test
  void vocabSizeIsTheNumberOfDistinctVocabAndAddedTokenIds() throws IOException {
    // HF's len(tokenizer), computed here with a plain tree parse of the same file.
    JsonNode root = new ObjectMapper().readTree(
        Golden.deepSeekV3Dir().resolve("tokenizer.json").toFile());
    Set<Integer> ids = new HashSet<>();
    root.get("model").get("vocab").forEach(id -> ids.add(id.asInt()));
    root.get("added_tokens").forEach(t -> ids.add(t.get("id").asInt()));
    assertThat(tokenizer.vocabSize()).isEqualTo(ids.size());
  }

  /** A four-token Unigram tokenizer, for tests that need any tokenizer but not a large one. */
  private static Path tinyUnigram(Path dir) throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), """
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [{"id": 3, "content": "<s>", "single_word": false, "lstrip": false,
           "rstrip": false, "normalized": false, "special": true}],
         "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
         "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
           "vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["<s>", 0.0]]}}
        """);
    return dir;
  }

  @Test
  void unigramVocabularyIsCountedByPosition(@TempDir Path dir) throws IOException {
    try (DeepSeekTokenizer unigram = DeepSeekTokenizer.load(tinyUnigram(dir))) {
      assertThat(unigram.vocabSize()).isEqualTo(4);
      assertThat(unigram.encode("<s>ab", false)).containsExactly(3, 1, 2);
      assertThat(unigram.tokenToId("<s>")).hasValue(3);
      assertThat(unigram.bosTokenId()).isEmpty(); // no tokenizer_config.json
    }
  }

  @Test
  void vocabSizeCoversEveryIdAndRejectsIdsBeyond() {
    int max = tokenizer.tokenToId("<｜Assistant｜>").orElseThrow();
    assertThat(tokenizer.vocabSize()).isGreaterThan(max);
    int[] beyond = {tokenizer.vocabSize()};
    assertThatThrownBy(() -> tokenizer.decode(beyond)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(String.valueOf(tokenizer.vocabSize()));
  }

  @Test
  void missingTokenizerJsonNamesTheFile(@TempDir Path dir) {
    assertThatThrownBy(() -> DeepSeekTokenizer.load(dir))
        .isInstanceOf(TokenizerException.class)
        .hasMessageContaining("tokenizer.json not found")
        .hasMessageContaining(dir.toString());
  }

  @Test
  void corruptTokenizerJsonNamesTheFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    byte[] real = Files.readAllBytes(Golden.deepSeekV3Dir().resolve("tokenizer.json"));
    // A truncated download: valid prefix, cut mid-file.
    Files.write(file, java.util.Arrays.copyOf(real, real.length / 2));
    assertThatThrownBy(() -> DeepSeekTokenizer.load(dir))
        .isInstanceOf(TokenizerException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("not a valid tokenizer.json");
  }

  @Test
  void jsonThatIsNotATokenizerIsRejectedByName(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, "{\"model\": {\"type\": \"NoSuchModel\"}}");
    assertThatThrownBy(() -> DeepSeekTokenizer.load(file, Optional.empty()))
        .isInstanceOf(TokenizerException.class)
        .hasMessageContaining(file.toString());
  }

  @Test
  void djlRunsOffline() {
    // Loading must have switched DJL to offline mode: no call-home, no hub downloads.
    assertThat(System.getProperty("ai.djl.offline")).isEqualTo("true");
  }

  @Test
  void closedTokenizerRefusesWork(@TempDir Path dir) throws IOException {
    DeepSeekTokenizer t = DeepSeekTokenizer.load(tinyUnigram(dir));
    t.close();
    t.close();
    assertThatThrownBy(() -> t.encode("x")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }
}
