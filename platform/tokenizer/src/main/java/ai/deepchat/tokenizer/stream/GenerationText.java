package ai.deepchat.tokenizer.stream;

import ai.deepchat.tokenizer.DeepSeekTokenizer;

import java.util.List;
import java.util.Optional;

/**
 * The text side of one generation: token ids in, reasoning and content deltas out. Chains the
 * {@link IncrementalDetokenizer} (special tokens such as EOS dropped), the
 * {@link ReasoningSplitter}, and a {@link StopMatcher} on the content only: a stop string inside the
 * reasoning would cut the model off before it answers. Not thread-safe: one per generation.
 */
public final class GenerationText {

  /**
   * @param reasoning reasoning text to send now
   * @param content   answer text to send now
   * @param stopped   a stop string ended the answer; stop generating
   * @param stop      which stop string
   */
  public record Step(String reasoning, String content, boolean stopped, Optional<String> stop) {
    public boolean isEmpty() {
      return reasoning.isEmpty() && content.isEmpty();
    }
  }

  private final IncrementalDetokenizer detokenizer;
  private final ReasoningSplitter splitter;
  private final StopMatcher stops;

  public GenerationText(DeepSeekTokenizer tokenizer, ReasoningSplitter splitter,
      List<String> stopStrings) {
    this.detokenizer = new IncrementalDetokenizer(tokenizer, true);
    this.splitter = splitter;
    this.stops = new StopMatcher(stopStrings);
  }

  public Step accept(int tokenId) {
    if (stops.stopped()) {
      return new Step("", "", true, Optional.empty());
    }
    return apply(splitter.accept(detokenizer.accept(tokenId)));
  }

  /** Ends the generation (EOS or length): flushes everything held back. */
  public Step finish() {
    if (stops.stopped()) {
      return new Step("", "", true, Optional.empty());
    }
    ReasoningSplitter.Delta last = splitter.accept(detokenizer.finish());
    ReasoningSplitter.Delta tail = splitter.finish();
    Step step = apply(new ReasoningSplitter.Delta(last.reasoning() + tail.reasoning(),
        last.content() + tail.content()));
    return step.stopped() ? step
        : new Step(step.reasoning(), step.content() + stops.finish(), false, Optional.empty());
  }

  private Step apply(ReasoningSplitter.Delta delta) {
    StopMatcher.Result result = stops.accept(delta.content());
    return new Step(delta.reasoning(), result.text(), result.stopped(), result.stop());
  }
}
