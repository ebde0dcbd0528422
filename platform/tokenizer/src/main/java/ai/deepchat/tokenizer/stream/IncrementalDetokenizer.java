package ai.deepchat.tokenizer.stream;

import ai.deepchat.tokenizer.DeepSeekTokenizer;

import java.util.Arrays;

/**
 * Turns generated token ids into text deltas as they arrive.
 *
 * <p>Byte-level BPE tokens can end inside a multi-byte UTF-8 character (an emoji is often two
 * tokens), and decoding such a token alone yields U+FFFD; decoding tokens one by one also loses the
 * spacing some decoders derive from context. So, as in vLLM and TGI, a small window of recent ids is
 * decoded with the tokenizer's own decoder and only new text is emitted; trailing U+FFFD (a
 * character still incomplete) is held back until the token that completes it arrives, while the
 * complete characters before it go out at once. The window restarts at the last point where the
 * text was complete, keeping one step of context for decoders that need it. Concatenated deltas plus
 * {@link #finish()} equal the decode of all ids. Not thread-safe: one instance per generation.
 */
final class IncrementalDetokenizer {

  private static final char REPLACEMENT = '\uFFFD';

  private final DeepSeekTokenizer tokenizer;
  private final boolean skipSpecialTokens;
  private int[] ids = new int[64];
  private int size;
  /** Start of the decode window. */
  private int prefixOffset;
  /** Where the text was last complete; the next window starts here. */
  private int readOffset;
  /** Characters of the current window's text already emitted. */
  private int emitted;

  /**
   * @param skipSpecialTokens drop special tokens (EOS and the like) from the text, as a chat
   *                          response does; non-special added tokens such as {@code <think>} stay
   */
  public IncrementalDetokenizer(DeepSeekTokenizer tokenizer, boolean skipSpecialTokens) {
    this.tokenizer = tokenizer;
    this.skipSpecialTokens = skipSpecialTokens;
  }

  /** Adds one generated id; returns the text it completes, possibly empty. */
  public String accept(int tokenId) {
    if (tokenId < 0 || tokenId >= tokenizer.vocabSize()) {
      // a model's embedding table is often padded past the tokenizer (DeepSeek-V3: 129,280 rows for
      // 128,815 tokens); those ids have no text, and HF's decoder skips them too
      return "";
    }
    if (size == ids.length) {
      ids = Arrays.copyOf(ids, size * 2);
    }
    ids[size++] = tokenId;
    String window = tokenizer.decode(ids, prefixOffset, size, skipSpecialTokens);
    int complete = window.length();
    while (complete > 0 && window.charAt(complete - 1) == REPLACEMENT) {
      complete--;
    }
    String delta = complete > emitted ? window.substring(emitted, complete) : "";
    emitted = Math.max(emitted, complete);
    if (complete == window.length()) {
      prefixOffset = readOffset;
      readOffset = size;
      emitted = tokenizer.decode(ids, prefixOffset, size, skipSpecialTokens).length();
    }
    return delta;
  }

  /**
   * Ends the stream: returns what is still held back, i.e. an incomplete character decoded as
   * U+FFFD (exactly what a full decode shows for it). Accepting more ids afterwards starts over
   * from the ids so far.
   */
  public String finish() {
    String window = tokenizer.decode(ids, prefixOffset, size, skipSpecialTokens);
    String rest = window.length() > emitted ? window.substring(emitted) : "";
    prefixOffset = readOffset = size;
    emitted = 0;
    return rest;
  }

  /** The ids accepted so far. */
  public int[] ids() {
    return Arrays.copyOf(ids, size);
  }
}
