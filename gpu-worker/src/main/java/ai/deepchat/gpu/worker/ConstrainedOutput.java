package ai.deepchat.gpu.worker;

import ai.deepchat.gpu.engine.TokenConstraint;
import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.tokenizer.constrain.ConstrainedDecoder;
import ai.deepchat.tokenizer.constrain.Grammar;
import ai.deepchat.tokenizer.constrain.TokenMasker;
import ai.deepchat.tokenizer.constrain.TokenVocabulary;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A served model's constrained decoding: the vocabulary is laid out for masks in the background as
 * the model loads (a second or so of parsing and sorting that would otherwise delay the first
 * constrained request past its admission timeout), then shared by every constrained generation of
 * the model with its mask cache.
 */
final class ConstrainedOutput {
  private final CompletableFuture<TokenMasker> masker = new CompletableFuture<>();

  ConstrainedOutput(Path tokenizerJson, int modelVocab) {
    Thread warm = new Thread(() -> {
      try {
        masker.complete(new TokenMasker(TokenVocabulary.load(tokenizerJson, modelVocab)));
      } catch (RuntimeException | Error e) {
        masker.completeExceptionally(e);
      }
    }, "constrain-vocabulary");
    warm.setDaemon(true);
    warm.start();
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

  /** Waits for the vocabulary if it is still being laid out (admission threads may block). */
  private TokenMasker masker() {
    return masker.join();
  }
}
