package ai.deepchat.policy.moderation;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Stops a streamed answer that gives away the tenant's system prompt (an instruction planted in a
 * document or a question may ask the model for it). Both texts are compared folded (as the word list
 * folds them) and with only letters and digits, so re-spacing, case, punctuation and full-width forms do
 * not hide a copy. Two things count as a leak: a recited stretch of the prompt ({@link #RECITAL_WEIGHT},
 * about a sentence; a CJK char weighs {@link #CJK_WEIGHT}), and any secret-looking word of the prompt
 * (a code, key or canary: {@link #SECRET_CHARS} or more letters and digits, both present; links and
 * e-mail addresses are not secrets) copied whole.
 * Shorter overlaps (an answer naming the company, or the assistant's role) pass.
 *
 * <p>A copy may arrive split across deltas, so once the tail of the answer that is a piece of the prompt
 * weighs {@link #HOLD_WEIGHT} (a suffix automaton of the prompt tracks the longest such tail in constant
 * time per char) it is held back until it stops matching; shorter pieces, which every text shares with
 * a prompt, go out at once, so ordinary answers stream as before. A piece followed by
 * {@link #MAX_GAP} chars that are not letters or digits ends there, so a stream of punctuation is never
 * held. On a leak the text before the copied stretch (its first few chars at most) is released and
 * nothing after it: the caller ends the answer.
 *
 * <p>One instance per stream; not thread-safe (a stream is handled on one context).
 */
public final class PromptLeakGuard {

  /** Weight of a copied stretch that counts as a recital: a Latin letter or digit weighs 1. */
  public static final int RECITAL_WEIGHT = 60;
  /** A CJK char carries about three Latin letters' worth of text. */
  static final int CJK_WEIGHT = 3;
  /** Folded letters and digits of a prompt word that make it a secret when it mixes letters and digits. */
  public static final int SECRET_CHARS = 8;
  /** Weight from which a copied piece is held back rather than streamed. */
  static final int HOLD_WEIGHT = 4;
  /** Chars other than letters and digits after which a copied piece ends. */
  static final int MAX_GAP = 16;

  /** What to send now; {@code leaked} once a copied run was seen. */
  public record Output(String text, boolean leaked) {
  }

  /** What a prompt compiles to: immutable, so the turns of every tenant using the prompt share it. */
  private record Compiled(SuffixAutomaton automaton, List<String> secrets) {
  }

  /** Compiled prompts by their text: a few hundred KB each for long prompts, built once, not per turn. */
  private static final Cache<String, Compiled> COMPILED = Caffeine.newBuilder().maximumSize(1024)
      .expireAfterAccess(Duration.ofMinutes(10)).build();

  private static final PromptLeakGuard NONE = new PromptLeakGuard(null, List.of());

  private final SuffixAutomaton prompt;
  /** The prompt's secret words, folded to letters and digits. */
  private final List<String> secrets;
  /** Original chars not yet released; {@code pendingFrom} is the stream offset of the first. */
  private final StringBuilder pending = new StringBuilder();
  private long pendingFrom;
  private long streamed;
  /** The folded chars of the current run (a piece of the prompt), oldest first: stream offset << 16 | char. */
  private final ArrayDeque<Long> run = new ArrayDeque<>();
  private int runWeight;
  /** Chars other than letters and digits since the run last grew. */
  private int gap;
  private int state;
  private char highSurrogate;
  private boolean leaked;

  private PromptLeakGuard(SuffixAutomaton prompt, List<String> secrets) {
    this.prompt = prompt;
    this.secrets = secrets;
  }

  /** A guard for answers given under {@code systemPrompt}; one that passes everything when there is none. */
  public static PromptLeakGuard forPrompt(String systemPrompt) {
    if (systemPrompt == null || systemPrompt.isBlank()) {
      return NONE;
    }
    Compiled c = COMPILED.get(systemPrompt, PromptLeakGuard::compile);
    return c.automaton() == null ? NONE : new PromptLeakGuard(c.automaton(), c.secrets());
  }

  /**
   * As {@link #forPrompt}, but only from what was compiled already (null when {@code systemPrompt} was not): no
   * compilation, so cheap enough for an event loop.
   */
  public static PromptLeakGuard ifCompiled(String systemPrompt) {
    if (systemPrompt == null || systemPrompt.isBlank()) {
      return NONE;
    }
    Compiled c = COMPILED.getIfPresent(systemPrompt);
    return c == null ? null : c.automaton() == null ? NONE : new PromptLeakGuard(c.automaton(), c.secrets());
  }

  private static Compiled compile(String systemPrompt) {
    List<String> secrets = new ArrayList<>();
    for (String word : systemPrompt.split("\\s+")) {
      if (word.contains("://") || word.contains("@") || word.regionMatches(true, 0, "www.", 0, 4)) {
        continue; // links and addresses in a prompt are there to be given out
      }
      String w = folded(word);
      if (w.length() >= SECRET_CHARS && w.chars().anyMatch(Character::isDigit)
          && w.chars().anyMatch(Character::isLetter)) {
        secrets.add(w);
      }
    }
    String all = folded(systemPrompt);
    return new Compiled(all.isEmpty() ? null : SuffixAutomaton.of(all), List.copyOf(secrets));
  }

  /** Letters and digits of {@code text}, folded. */
  private static String folded(String text) {
    StringBuilder out = new StringBuilder();
    text.codePoints().forEach(cp -> NormalizedText.fold(cp).chars().filter(Character::isLetterOrDigit)
        .forEach(ch -> out.append((char) ch)));
    return out.toString();
  }

  /** Feeds the next chunk; returns the text that may be sent now (possibly empty). */
  public Output accept(String chunk) {
    if (prompt == null) {
      return new Output(chunk == null ? "" : chunk, false);
    }
    if (leaked || chunk == null) {
      return new Output("", leaked);
    }
    for (int i = 0; i < chunk.length(); i++) {
      char c = chunk.charAt(i);
      if (highSurrogate != 0) {
        char high = highSurrogate;
        highSurrogate = 0;
        if (Character.isLowSurrogate(c)) {
          if (feed(Character.toCodePoint(high, c))) {
            return leak();
          }
          continue;
        }
        if (feed(high)) {
          return leak();
        }
      }
      if (Character.isHighSurrogate(c)) {
        highSurrogate = c; // folding waits for the whole code point
      } else if (feed(c)) {
        return leak();
      }
    }
    long keepFrom = runWeight < HOLD_WEIGHT ? streamed : Math.max(pendingFrom, run.peekFirst() >>> 16);
    String out = pending.substring(0, (int) (keepFrom - pendingFrom));
    pending.delete(0, out.length());
    pendingFrom = keepFrom;
    return new Output(out, false);
  }

  /** Ends the stream: what was held back is a piece shorter than a leak, and goes out. */
  public Output finish() {
    if (prompt == null || leaked) {
      return new Output("", leaked);
    }
    if (highSurrogate != 0) {
      pending.append(highSurrogate);
      highSurrogate = 0;
    }
    String out = pending.toString();
    pending.setLength(0);
    clearRun();
    return new Output(out, false);
  }

  public boolean leaked() {
    return leaked;
  }

  /** Appends one code point of the answer; true when the run became a leak. */
  private boolean feed(int cp) {
    long at = streamed;
    pending.appendCodePoint(cp);
    streamed += Character.charCount(cp);
    if (cp < 0x80) {
      return feedAscii((char) cp, at); // most of most answers: no folded string per char
    }
    String f = NormalizedText.fold(cp);
    boolean significant = false;
    for (int k = 0; k < f.length(); k++) {
      if (Character.isLetterOrDigit(f.charAt(k))) {
        significant = true;
        gap = 0;
        step(f.charAt(k), at);
        if (runWeight >= RECITAL_WEIGHT || endsWithSecret()) {
          return true;
        }
      }
    }
    if (!significant && ++gap >= MAX_GAP) {
      clearRun();
    }
    return false;
  }

  /** {@link #feed} for an ASCII char, folded in place (as {@link NormalizedText#fold} folds it). */
  private boolean feedAscii(char c, long at) {
    char f = c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    if (!Character.isLetterOrDigit(f)) {
      if (++gap >= MAX_GAP) {
        clearRun();
      }
      return false;
    }
    gap = 0;
    step(f, at);
    return runWeight >= RECITAL_WEIGHT || endsWithSecret();
  }

  /** The text before the copied run goes out; nothing after it ever does. */
  private Output leak() {
    leaked = true;
    String clean = pending.substring(0, (int) (Math.max(pendingFrom, run.peekFirst() >>> 16) - pendingFrom));
    pending.setLength(0);
    clearRun();
    return new Output(clean, true);
  }

  /** Extends the run by {@code c}, or shortens it from the front until it is a piece of the prompt again. */
  private void step(char c, long at) {
    while (state != 0 && prompt.next(state, c) < 0) {
      state = prompt.link[state];
      while (run.size() > prompt.length[state]) {
        runWeight -= weight((char) (run.pollFirst() & 0xFFFF));
      }
    }
    int next = prompt.next(state, c);
    if (next < 0) {
      clearRun();
      return;
    }
    state = next;
    run.addLast(at << 16 | c);
    runWeight += weight(c);
  }

  private void clearRun() {
    run.clear();
    runWeight = 0;
    state = 0;
  }

  private static int weight(char c) {
    if (c < 0x80) {
      return 1; // asked per char of the run: no script lookup for ASCII
    }
    return Character.isIdeographic(c) || Character.UnicodeScript.of(c) == Character.UnicodeScript.HANGUL
        || Character.UnicodeScript.of(c) == Character.UnicodeScript.HIRAGANA
        || Character.UnicodeScript.of(c) == Character.UnicodeScript.KATAKANA ? CJK_WEIGHT : 1;
  }

  /** Whether the run ends with a whole secret word of the prompt. */
  private boolean endsWithSecret() {
    for (String secret : secrets) {
      if (secret.length() <= run.size()) {
        var it = run.descendingIterator();
        int i = secret.length() - 1;
        while (i >= 0 && (char) (it.next() & 0xFFFF) == secret.charAt(i)) {
          i--;
        }
        if (i < 0) {
          return true;
        }
      }
    }
    return false;
  }

  /** The suffix automaton of one text: every substring is a path from state 0 (Blumer et al.). */
  private static final class SuffixAutomaton {
    final int[] link;
    final int[] length;
    private final List<Map<Character, Integer>> edges;

    private SuffixAutomaton(int[] link, int[] length, List<Map<Character, Integer>> edges) {
      this.link = link;
      this.length = length;
      this.edges = edges;
    }

    int next(int state, char c) {
      Integer to = edges.get(state).get(c);
      return to == null ? -1 : to;
    }

    static SuffixAutomaton of(CharSequence s) {
      int max = 2 * s.length() + 1;
      int[] link = new int[max];
      int[] length = new int[max];
      List<Map<Character, Integer>> edges = new ArrayList<>(max);
      edges.add(new HashMap<>());
      link[0] = -1;
      int last = 0;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        int cur = edges.size();
        edges.add(new HashMap<>());
        length[cur] = length[last] + 1;
        int p = last;
        while (p >= 0 && !edges.get(p).containsKey(c)) {
          edges.get(p).put(c, cur);
          p = link[p];
        }
        if (p < 0) {
          link[cur] = 0;
        } else {
          int q = edges.get(p).get(c);
          if (length[p] + 1 == length[q]) {
            link[cur] = q;
          } else {
            int clone = edges.size();
            edges.add(new HashMap<>(edges.get(q)));
            length[clone] = length[p] + 1;
            link[clone] = link[q];
            while (p >= 0 && Integer.valueOf(q).equals(edges.get(p).get(c))) {
              edges.get(p).put(c, clone);
              p = link[p];
            }
            link[q] = clone;
            link[cur] = clone;
          }
        }
        last = cur;
      }
      link[0] = 0;
      return new SuffixAutomaton(link, length, edges);
    }
  }
}
