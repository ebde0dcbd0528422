package ai.deepchat.policy.moderation;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Moderates a streamed answer chunk by chunk. A word may arrive split across chunks, so the tail that
 * could still be the beginning of a word is held back: at most {@code maxWordLength - 1} folded chars
 * (one more only when a whole-word match of maximal length still waits for its right boundary).
 * Everything before it is released, masked, at once. In block mode the first match stops the stream:
 * the clean text before the word is released, nothing after it, and the caller ends the answer (e.g.
 * with the tenant's blocked reply).
 *
 * <p>One instance per stream; not thread-safe (a stream is handled on one context).
 */
public final class StreamingModerator {

  /** What to send now; {@code stopped} once a blocked word was seen. */
  public record Output(String text, boolean stopped, List<String> matchedWords) {
  }

  private final WordMatcher matcher;
  private final boolean block;
  private final Set<String> matched = new LinkedHashSet<>();
  // matched as an immutable list, copied again only when it grew: every delta's output carries it (#25)
  private List<String> matchedList = List.of();
  private String pending = "";
  private int before = -1;
  private boolean stopped;

  public StreamingModerator(WordMatcher matcher, boolean block) {
    this.matcher = matcher;
    this.block = block;
  }

  /** Feeds the next chunk; returns the text that may be sent now (possibly empty). */
  public Output accept(String chunk) {
    if (stopped) {
      return output("");
    }
    if (matcher.isEmpty()) {
      return output(chunk == null ? "" : chunk);
    }
    pending = chunk == null || chunk.isEmpty() ? pending : pending + chunk;
    return drain(false);
  }

  /** Ends the stream: releases what was held back, masked. */
  public Output finish() {
    if (stopped || matcher.isEmpty()) {
      return output("");
    }
    return drain(true);
  }

  /** Entries of the word list seen so far, for logs and audit. */
  public List<String> matchedWords() {
    if (matchedList.size() != matched.size()) { // the set only grows
      matchedList = List.copyOf(matched);
    }
    return matchedList;
  }

  public boolean stopped() {
    return stopped;
  }

  /** Chars currently held back (for tests and metrics). */
  public int heldBack() {
    return pending.length();
  }

  private Output drain(boolean atEnd) {
    // a high surrogate at the end waits for its pair, so folding never sees half a code point
    String scanned = !atEnd && !pending.isEmpty() && Character.isHighSurrogate(pending.charAt(pending.length() - 1))
        ? pending.substring(0, pending.length() - 1) : pending;
    NormalizedText norm = NormalizedText.of(scanned);
    WordMatcher.Scan scan = matcher.scan(norm, before, atEnd);
    int n = norm.length();
    if (block && !scan.hits().isEmpty()) {
      // the clean text before the word still goes out; nothing after it does
      scan.hits().forEach(h -> matched.add(h.word()));
      String clean = scanned.substring(0, norm.start[scan.hits().get(0).start()]);
      stopped = true;
      pending = "";
      return output(clean);
    }
    int release = atEnd ? n : Math.min(Math.max(0, n - (matcher.maxWordLength() - 1)), scan.undecidedFrom());
    release = extendOverMatches(release, scan.hits());
    // the cut must fall between original code points: one of them may fold to several chars (㎏ -> kg)
    while (release > 0 && release < n && norm.start[release] == norm.start[release - 1]) {
      int back = release;
      while (back > 0 && norm.start[back] == norm.start[back - 1]) {
        back--;
      }
      if (!touches(scan.hits(), back, release)) {
        release = back;
        break;
      }
      while (release < n && norm.start[release] == norm.start[release - 1]) {
        release++;
      }
      release = extendOverMatches(release, scan.hits());
    }
    int cut = release >= n ? scanned.length() : norm.start[release];
    List<WordMatcher.Match> masks = new ArrayList<>();
    for (WordMatcher.Hit hit : scan.hits()) {
      if (hit.start() < release) {
        masks.add(new WordMatcher.Match(norm.start[hit.start()], norm.end[hit.end()], hit.word()));
        matched.add(hit.word());
      }
    }
    if (scan.undecidedFrom() < release) {
      // only reachable when a straddling match overlaps a word still waiting for its boundary:
      // mask the released part rather than let half a word through
      masks.add(new WordMatcher.Match(norm.start[scan.undecidedFrom()], cut, ""));
    }
    String out = WordMatcher.mask(scanned.substring(0, cut), masks);
    if (release > 0) {
      before = norm.text.charAt(release - 1);
    }
    pending = pending.substring(cut);
    return output(out);
  }

  /** Moves the cut past every complete match that straddles it, so a match is released whole (masked). */
  private static int extendOverMatches(int release, List<WordMatcher.Hit> hits) {
    boolean moved = true;
    while (moved) {
      moved = false;
      for (WordMatcher.Hit hit : hits) {
        if (hit.start() < release && hit.end() >= release) {
          release = hit.end() + 1;
          moved = true;
        }
      }
    }
    return release;
  }

  private static boolean touches(List<WordMatcher.Hit> hits, int from, int release) {
    for (WordMatcher.Hit hit : hits) {
      if (hit.start() < release && hit.end() >= from) {
        return true;
      }
    }
    return false;
  }

  private Output output(String text) {
    return new Output(text, stopped, matchedWords());
  }
}
