package ai.deepchat.tokenizer;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The HF reference data in test resources (copied by scripts/copy-tokenizer-fixtures.sh, produced by
 * scripts/make_tokenizer_golden.py).
 */
public record Golden(String reference, List<Encoding> encodings, List<Chat> chats) {

  public record Encoding(String text, int[] ids,
      @JsonProperty("ids_with_special") int[] idsWithSpecial) {
  }

  public record Chat(List<Map<String, Object>> messages,
      @JsonProperty("add_generation_prompt") boolean addGenerationPrompt,
      String rendered, int[] ids) {
  }

  /** Folder with tokenizer.json, tokenizer_config.json and golden.json of the DeepSeek-V3 tokenizer. */
  public static Path deepSeekV3Dir() {
    try {
      return Path.of(Golden.class.getResource("/fixtures/tokenizers/deepseek-v3").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Golden deepSeekV3() {
    try {
      return new ObjectMapper()
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
          .readValue(deepSeekV3Dir().resolve("golden.json").toFile(), Golden.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
