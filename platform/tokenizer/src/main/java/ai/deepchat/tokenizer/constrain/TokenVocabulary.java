package ai.deepchat.tokenizer.constrain;

import ai.deepchat.tokenizer.ByteLevel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * A byte-level BPE vocabulary as constrained decoding walks it, built once per model: every
 * ordinary token's bytes (GPT-2's byte-to-unicode mapping undone; a token may hold part of a UTF-8
 * character), the tokens sorted by bytes with the common prefix of each with the one before (a trie
 * laid flat: a walk reuses the shared prefix's states and skips a whole subtree when a byte is
 * refused), the "plain" tokens that leave a free JSON string unchanged, and the ids of the tool-call
 * markers. Added tokens (special and control tokens) are never in the walk; the markers and EOS are
 * allowed explicitly.
 */
public final class TokenVocabulary {
  private static final ObjectMapper JSON = new ObjectMapper();

  final int size;
  final byte[][] bytes;
  final Walk all;
  /** Tokens that are not plain: the only ones a plainStable state must walk. */
  final Walk odd;
  final long[] plain;
  /** plainFrom[id]: where the plain rest of a token begins (past the end when no rest is plain). */
  final int[] plainFrom;
  /** The longest token in bytes. */
  final int longest;
  /** Tokens that are not all ASCII digits: the only ones a state with a digitRoom must walk. */
  final Walk nonDigit;
  /** digitsUpTo[k]: the tokens of 1 to k ASCII digits, up to the longest such token. */
  final long[][] digitsUpTo;
  /** The most ASCII digits any token starts with: more room for digits than that changes no mask. */
  final int digitLead;
  /** markerIds[s - 256]: the token of marker symbol s, -1 when the vocabulary lacks it. */
  final int[] markerIds;
  final boolean singleBytes;

  /**
   * Ids sorted by their bytes (unsigned), lcp[i]: bytes shared with the id before; ends[nodes[i] + d
   * - lcp[i]] for d in [lcp[i], length): the first index past the tokens sharing i's first d + 1
   * bytes (a trie's subtree, laid flat). The tokens' bytes are laid out in this order too (token i
   * is text[offsets[i]] to text[offsets[i + 1]], plainFrom[i] where its plain rest begins), so a walk
   * reads memory in sequence.
   */
  record Walk(int[] ids, int[] lcp, int[] nodes, int[] ends, byte[] text, int[] offsets, int[] plainFrom) {

    /** The next index to walk when token i's byte at depth d (>= lcp[i]) is refused. */
    int after(int i, int d) {
      return ends[nodes[i] + d - lcp[i]];
    }
  }

  private TokenVocabulary(int size, byte[][] bytes, int[] markerIds) {
    this.size = size;
    this.bytes = bytes;
    this.markerIds = markerIds;
    this.plain = new long[words(size)];
    int plainCount = 0;
    boolean[] single = new boolean[256];
    for (int id = 0; id < size; id++) {
      byte[] b = bytes[id];
      if (b != null && b.length == 1) {
        single[b[0] & 0xff] = true;
      }
      if (b != null && isPlain(b)) {
        plain[id >>> 6] |= 1L << id;
        plainCount++;
      }
    }
    boolean allSingles = true;
    for (boolean s : single) {
      allSingles &= s;
    }
    this.singleBytes = allSingles;
    int[] allIds = new int[countTokens()];
    int[] oddIds = new int[allIds.length - plainCount];
    int a = 0;
    int o = 0;
    for (int id = 0; id < size; id++) {
      if (bytes[id] != null) {
        allIds[a++] = id;
        if ((plain[id >>> 6] & (1L << id)) == 0) {
          oddIds[o++] = id;
        }
      }
    }
    this.plainFrom = new int[size];
    int longestToken = 0;
    for (int id = 0; id < size; id++) {
      byte[] b = bytes[id];
      plainFrom[id] = Integer.MAX_VALUE;
      if (b != null) {
        longestToken = Math.max(longestToken, b.length);
        for (int p = 0; p < b.length; p++) {
          if (isPlain(Arrays.copyOfRange(b, p, b.length))) {
            plainFrom[id] = p;
            break;
          }
        }
      }
    }
    this.longest = longestToken;
    this.all = walk(allIds);
    this.odd = walk(oddIds);
    int longest = 0;
    int digitTokens = 0;
    int lead = 0;
    for (int id : allIds) {
      int k = 0;
      while (k < bytes[id].length && bytes[id][k] >= '0' && bytes[id][k] <= '9') {
        k++;
      }
      lead = Math.max(lead, k);
      if (isDigits(bytes[id])) {
        longest = Math.max(longest, bytes[id].length);
        digitTokens++;
      }
    }
    this.digitLead = lead;
    this.digitsUpTo = new long[longest + 1][words(size)];
    int[] nonDigitIds = new int[allIds.length - digitTokens];
    int n = 0;
    for (int id : allIds) {
      if (isDigits(bytes[id])) {
        for (int k = bytes[id].length; k <= longest; k++) {
          digitsUpTo[k][id >>> 6] |= 1L << id;
        }
      } else {
        nonDigitIds[n++] = id;
      }
    }
    this.nonDigit = walk(nonDigitIds);
  }

  private static boolean isDigits(byte[] b) {
    for (byte x : b) {
      if (x < '0' || x > '9') {
        return false;
      }
    }
    return b.length > 0;
  }

  /**
   * Reads the vocabulary of a {@code tokenizer.json}; {@code modelVocab}: the model's embedding rows
   * (often more than the tokenizer's ids), the length of a token mask.
   */
  public static TokenVocabulary load(Path tokenizerJson, int modelVocab) {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(tokenizerJson));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + tokenizerJson, e);
    }
    byte[][] bytes = new byte[modelVocab][];
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("model").path("vocab").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      int id = e.getValue().asInt(-1);
      if (id >= 0 && id < modelVocab) {
        bytes[id] = ByteLevel.decode(e.getKey()); // null: not byte-level, never allowed
      }
    }
    int[] markers = new int[Symbols.MARKERS];
    Arrays.fill(markers, -1);
    for (JsonNode t : root.path("added_tokens")) {
      int id = t.path("id").asInt(-1);
      if (id >= 0 && id < modelVocab) {
        bytes[id] = null; // added tokens are special or control: never part of constrained text
        for (int m = 0; m < Symbols.MARKERS; m++) {
          if (Symbols.MARKER_TEXT[m].equals(t.path("content").asText())) {
            markers[m] = id;
          }
        }
      }
    }
    return new TokenVocabulary(modelVocab, bytes, markers);
  }

  /** For tests: a vocabulary of the given token texts (UTF-8), ids in order. */
  static TokenVocabulary of(String... tokens) {
    byte[][] bytes = new byte[tokens.length][];
    for (int i = 0; i < tokens.length; i++) {
      bytes[i] = tokens[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    int[] markers = new int[Symbols.MARKERS];
    Arrays.fill(markers, -1);
    return new TokenVocabulary(tokens.length, bytes, markers);
  }

  /** Mask length in bits: the model's vocabulary. */
  public int size() {
    return size;
  }

  /** Whether every byte is a token of its own, which the budget guarantee relies on. */
  public boolean hasSingleBytes() {
    return singleBytes;
  }

  static int words(int bits) {
    return (bits + 63) >>> 6;
  }

  private int countTokens() {
    int n = 0;
    for (byte[] b : bytes) {
      if (b != null) {
        n++;
      }
    }
    return n;
  }

  private Walk walk(int[] ids) {
    Integer[] boxed = Arrays.stream(ids).boxed().toArray(Integer[]::new);
    Arrays.sort(boxed, (x, y) -> Arrays.compareUnsigned(bytes[x], bytes[y]));
    int n = boxed.length;
    int[] sorted = new int[n];
    int[] lcp = new int[n];
    int[] nodes = new int[n + 1];
    for (int i = 0; i < n; i++) {
      sorted[i] = boxed[i];
      if (i > 0) {
        lcp[i] = Math.max(0, Arrays.mismatch(bytes[sorted[i - 1]], bytes[sorted[i]]));
      }
      nodes[i + 1] = nodes[i] + Math.max(0, bytes[sorted[i]].length - lcp[i]);
    }
    // right to left, the indices that may end a subtree: nearest on top, lcp falling downwards
    int[] ends = new int[nodes[n]];
    int[] stack = new int[n];
    int top = 0;
    for (int i = n - 1; i >= 0; i--) {
      int k = top - 1;
      for (int d = bytes[sorted[i]].length - 1; d >= lcp[i]; d--) {
        while (k >= 0 && lcp[stack[k]] > d) {
          k--;
        }
        ends[nodes[i] + d - lcp[i]] = k >= 0 ? stack[k] : n;
      }
      while (top > 0 && lcp[stack[top - 1]] >= lcp[i]) {
        top--;
      }
      stack[top++] = i;
    }
    int[] offsets = new int[n + 1];
    int[] plainFromAt = new int[n];
    for (int i = 0; i < n; i++) {
      offsets[i + 1] = offsets[i] + bytes[sorted[i]].length;
      plainFromAt[i] = plainFrom[sorted[i]];
    }
    byte[] text = new byte[offsets[n]];
    for (int i = 0; i < n; i++) {
      System.arraycopy(bytes[sorted[i]], 0, text, offsets[i], bytes[sorted[i]].length);
    }
    return new Walk(sorted, lcp, nodes, ends, text, offsets, plainFromAt);
  }

  /** Printable ASCII but '"' and '\', or whole UTF-8 characters: stays inside a JSON string body. */
  private static boolean isPlain(byte[] b) {
    State body = StringValue.INSTANCE.start().step('"');
    State s = body;
    for (byte x : b) {
      int c = x & 0xff;
      if (c == '"' || c == '\\') {
        return false;
      }
      s = s.step(c);
      if (s == null) {
        return false;
      }
    }
    return b.length > 0 && s.equals(body);
  }
}
