package ai.deepchat.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One native tokenizer per distinct tokenizer.json: the pipeline's bundled copy (no config) and the
 * worker's model folder (with config) share it, each with its own config; the last close frees it.
 */
class TokenizerRegistryTest {

  @Test
  void twoFoldersWithTheSameTokenizerShareOneInstanceEachWithItsOwnConfig(@TempDir Path tmp) throws Exception {
    Path model = Golden.deepSeekV3Dir();
    Path bundled = Files.createDirectories(tmp.resolve("bundled"));
    Files.copy(model.resolve(DeepSeekTokenizer.FILE_NAME), bundled.resolve(DeepSeekTokenizer.FILE_NAME));
    int before = TokenizerRegistry.live();

    DeepSeekTokenizer worker = TokenizerRegistry.acquire(model);
    DeepSeekTokenizer pipeline = TokenizerRegistry.acquire(bundled.resolve(DeepSeekTokenizer.FILE_NAME), Optional.empty());
    assertThat(TokenizerRegistry.live()).as("one native tokenizer for the same bytes at two paths").isEqualTo(before + 1);
    assertThat(worker.config()).as("the model folder's tokenizer_config.json").isPresent();
    assertThat(worker.bosTokenId()).isPresent();
    assertThat(pipeline.config()).as("the bundled copy has no config").isEmpty();
    assertThat(pipeline.encode("Hello, world", false)).containsExactly(worker.encode("Hello, world", false));

    worker.close();
    worker.close(); // a second close of one handle releases nothing more
    assertThatThrownBy(() -> worker.encode("x")).isInstanceOf(IllegalStateException.class);
    assertThat(pipeline.encode("still served", false)).isNotEmpty();
    assertThat(TokenizerRegistry.live()).as("kept while a holder remains").isEqualTo(before + 1);

    pipeline.close();
    assertThat(TokenizerRegistry.live()).as("freed with its last holder").isEqualTo(before);
  }

  @Test
  void aDifferentTokenizerFileGetsItsOwnInstance(@TempDir Path tmp) throws Exception {
    Path model = Golden.deepSeekV3Dir();
    Path edited = Files.createDirectories(tmp.resolve("edited"));
    // the same tokenizer with one byte of whitespace more: another file, so another instance
    Files.write(edited.resolve(DeepSeekTokenizer.FILE_NAME),
        (Files.readString(model.resolve(DeepSeekTokenizer.FILE_NAME)) + "\n").getBytes());
    int before = TokenizerRegistry.live();
    try (DeepSeekTokenizer a = TokenizerRegistry.acquire(model); DeepSeekTokenizer b = TokenizerRegistry.acquire(edited)) {
      assertThat(TokenizerRegistry.live()).isEqualTo(before + 2);
      assertThat(b.encode("same ids", false)).containsExactly(a.encode("same ids", false));
    }
    assertThat(TokenizerRegistry.live()).isEqualTo(before);
  }

  @Test
  void aMissingFileFailsWithTheTokenizersOwnMessage(@TempDir Path tmp) {
    assertThatThrownBy(() -> TokenizerRegistry.acquire(tmp))
        .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer.json not found");
  }
}
