package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.TokenConstraint;
import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.tokenizer.constrain.ConstrainedDecoder;
import ai.deepchat.tokenizer.constrain.Grammar;
import ai.deepchat.tokenizer.constrain.TokenMasker;
import ai.deepchat.tokenizer.constrain.TokenVocabulary;

import java.nio.file.Path;

/**
 * A served model's constrained decoding: the vocabulary laid out for masks on first use (a few
 * hundred milliseconds, on the admission thread that needs it), then shared by every constrained
 * generation of the model with its mask cache.
 */
final class ConstrainedOutput {
  private final Path tokenizerJson;
  private final int modelVocab;
  private volatile TokenMasker masker;

  ConstrainedOutput(Path tokenizerJson, int modelVocab) {
    this.tokenizerJson = tokenizerJson;
    this.modelVocab = modelVocab;
  }

  /**
   * The engine-side constraint of one generation.
   *
   * @throws IllegalArgumentException (a SchemaException among them) when the constraint cannot be
   *     enforced: the caller's request is at fault
   */
  TokenConstraint start(OutputConstraint constraint, int maxTokens, int[] eosTokenIds) {
    ConstrainedDecoder decoder = new ConstrainedDecoder(masker(), Grammar.of(constraint), maxTokens, eosTokenIds);
    return new TokenConstraint() {
      @Override
      public long[] nextMask() {
        return decoder.nextMask();
      }

      @Override
      public void accept(int tokenId) {
        decoder.accept(tokenId);
      }
    };
  }

  private TokenMasker masker() {
    TokenMasker m = masker;
    if (m == null) {
      synchronized (this) {
        m = masker;
        if (m == null) {
          m = new TokenMasker(TokenVocabulary.load(tokenizerJson, modelVocab));
          masker = m;
        }
      }
    }
    return m;
  }
}
