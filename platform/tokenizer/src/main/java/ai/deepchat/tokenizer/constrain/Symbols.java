package ai.deepchat.tokenizer.constrain;

import java.nio.charset.StandardCharsets;

/** Input symbols beyond bytes: DeepSeek's tool-call markers, each one special token. */
final class Symbols {
  static final int CALLS_BEGIN = 256;
  static final int CALL_BEGIN = 257;
  static final int SEP = 258;
  static final int CALL_END = 259;
  static final int CALLS_END = 260;
  static final int MARKERS = 5;

  /** The markers' token texts, in symbol order (from the DeepSeek-V3 chat template). */
  static final String[] MARKER_TEXT = {
      "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>",
      "<｜tool▁calls▁end｜>"};

  private Symbols() {
  }

  static int[] utf8(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    int[] out = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[i] & 0xff;
    }
    return out;
  }

  static int[] concat(int[]... parts) {
    int n = 0;
    for (int[] p : parts) {
      n += p.length;
    }
    int[] out = new int[n];
    int at = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
