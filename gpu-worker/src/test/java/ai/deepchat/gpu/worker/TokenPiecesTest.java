package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.testmodel.TinyTestModel;
import ai.deepchat.tokenizer.DeepSeekTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Log-probabilities spell the answer's text: a special token the streamed text leaves out (the test
 * model once sampled "<｜Assistant｜>" at temperature 1, and the OpenAI conformance check saw its bytes
 * in the log-probabilities but not in the content) is hidden from them too; ordinary tokens are not.
 */
class TokenPiecesTest {

  @Test
  void specialTokensTheTextSkipsAreHiddenFromLogprobs(@TempDir Path dir) throws Exception {
    Path model = TinyTestModel.ensure(dir);
    try (DeepSeekTokenizer tokenizer = DeepSeekTokenizer.load(model)) {
      TokenPieces pieces = TokenPieces.load(model, tokenizer);
      int assistant = tokenizer.tokenToId("<｜Assistant｜>").orElseThrow();
      assertThat(tokenizer.decode(new int[] {assistant}, true)).as("the streamed text skips it").isEmpty();
      assertThat(pieces.hidden(assistant)).isTrue();
      int[] hello = tokenizer.encode("Hello", false);
      assertThat(pieces.hidden(hello[0])).as("an ordinary token").isFalse();
      assertThat(pieces.text(hello[0])).isEqualTo("Hello");
    }
  }
}
