package ai.deepchat.rag.ingest;

import java.util.Objects;

/**
 * A wall-clock budget for parsing one document, enforced inside flexmark: the text is handed to it
 * through {@link #watch}, whose reads check the clock every few thousand characters, so a parse that
 * overruns stops with {@link Expired} instead of holding an ingestion worker. A backstop: parsing is
 * linear, but a backstop does not rely on that. It acts at the next character read, so a flexmark
 * loop that reads none (joining line pieces, pairing emphasis) overruns it until that loop ends.
 * The format extractors ({@code ingest.format}) call {@link #check()} per page, paragraph or row.
 */
public final class ParseDeadline {

  /** Thrown from inside the parser once the budget is spent. */
  public static final class Expired extends RuntimeException {
    Expired() {
      super("parse deadline passed", null, false, false);
    }
  }

  private static final int READS_PER_CHECK = 4_096;

  private final long deadlineNanos;
  private int reads;

  private ParseDeadline(long deadlineNanos) {
    this.deadlineNanos = deadlineNanos;
  }

  /** A deadline {@code budgetNanos} from now. */
  public static ParseDeadline in(long budgetNanos) {
    return new ParseDeadline(System.nanoTime() + budgetNanos);
  }

  /** Nanoseconds left of the budget (negative once spent), for work outside the JVM that must stop too. */
  public long remainingNanos() {
    return deadlineNanos - System.nanoTime();
  }

  /** Throws {@link Expired} when the budget is spent. */
  public void check() {
    if (System.nanoTime() - deadlineNanos > 0) {
      throw new Expired();
    }
  }

  /** {@code text} as a CharSequence whose reads check this deadline. */
  CharSequence watch(String text) {
    return new Watched(text, 0, text.length());
  }

  private final class Watched implements CharSequence {
    private final String text;
    private final int start;
    private final int end;

    Watched(String text, int start, int end) {
      this.text = text;
      this.start = start;
      this.end = end;
    }

    @Override
    public int length() {
      return end - start;
    }

    @Override
    public char charAt(int index) {
      Objects.checkIndex(index, end - start);
      if (++reads == READS_PER_CHECK) {
        reads = 0;
        check();
      }
      return text.charAt(start + index);
    }

    @Override
    public CharSequence subSequence(int from, int to) {
      Objects.checkFromToIndex(from, to, end - start);
      check();
      return new Watched(text, start + from, start + to);
    }

    @Override
    public String toString() {
      check();
      return text.substring(start, end);
    }
  }
}
