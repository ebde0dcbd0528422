package ai.deepchat.tokenizer.tools;

import ai.deepchat.tokenizer.DeepSeekTokenizer;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The ids of DeepSeek's tool-call markers in one vocabulary. Each marker is a single added token, so
 * the block is recognised by id: the same text typed by a user, or spelled by ordinary tokens, is text.
 */
public record ToolCallMarkers(int callsBegin, int callsEnd, int callBegin, int callEnd, int sep) {

  public static final String CALLS_BEGIN = "<｜tool▁calls▁begin｜>";
  public static final String CALLS_END = "<｜tool▁calls▁end｜>";
  public static final String CALL_BEGIN = "<｜tool▁call▁begin｜>";
  public static final String CALL_END = "<｜tool▁call▁end｜>";
  public static final String SEP = "<｜tool▁sep｜>";

  /** The markers of {@code tokenizer}; empty when its vocabulary lacks any of them (not a DeepSeek model). */
  public static Optional<ToolCallMarkers> of(DeepSeekTokenizer tokenizer) {
    OptionalInt[] ids = {tokenizer.tokenToId(CALLS_BEGIN), tokenizer.tokenToId(CALLS_END),
        tokenizer.tokenToId(CALL_BEGIN), tokenizer.tokenToId(CALL_END), tokenizer.tokenToId(SEP)};
    for (OptionalInt id : ids) {
      if (id.isEmpty()) {
        return Optional.empty();
      }
    }
    return Optional.of(new ToolCallMarkers(ids[0].getAsInt(), ids[1].getAsInt(), ids[2].getAsInt(),
        ids[3].getAsInt(), ids[4].getAsInt()));
  }

  public boolean isMarker(int id) {
    return id == callsBegin || id == callsEnd || id == callBegin || id == callEnd || id == sep;
  }
}
