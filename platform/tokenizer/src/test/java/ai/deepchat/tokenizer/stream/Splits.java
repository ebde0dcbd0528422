package ai.deepchat.tokenizer.stream;

import java.util.ArrayList;
import java.util.List;

/** Every way to cut a text into deltas that streaming tests need. */
final class Splits {

  private Splits() {
  }

  /**
   * All cuts into 1, 2 and 3 pieces (empty pieces included, since a delta may be empty), plus one
   * character per delta.
   */
  static List<List<String>> of(String text) {
    List<List<String>> out = new ArrayList<>();
    int n = text.length();
    for (int i = 0; i <= n; i++) {
      for (int j = i; j <= n; j++) {
        out.add(List.of(text.substring(0, i), text.substring(i, j), text.substring(j)));
      }
    }
    List<String> chars = new ArrayList<>();
    text.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
    out.add(chars);
    return out;
  }
}
