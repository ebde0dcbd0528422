package ai.deepchat.chat.intent;

import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Tenant-written regular expressions, evaluated with a step budget: a catastrophic pattern
 * (ReDoS) gives up instead of holding an event loop. The budget counts character reads, which is what
 * backtracking multiplies.
 */
final class BoundedRegex {

  private static final long MAX_READS = 200_000;

  private BoundedRegex() {
  }

  static Optional<Pattern> compile(String pattern) {
    try {
      return Optional.of(Pattern.compile(pattern, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE));
    } catch (PatternSyntaxException e) {
      return Optional.empty();
    }
  }

  /** True when the pattern is found; false when it is not or the budget runs out. */
  static boolean find(Pattern pattern, String text) {
    try {
      return pattern.matcher(new Budgeted(text, new long[] {MAX_READS})).find();
    } catch (BudgetExceeded e) {
      return false;
    }
  }

  private static final class BudgetExceeded extends RuntimeException {
    BudgetExceeded() {
      super(null, null, false, false);
    }
  }

  private record Budgeted(String text, long[] left) implements CharSequence {
    @Override
    public int length() {
      return text.length();
    }

    @Override
    public char charAt(int index) {
      if (--left[0] < 0) {
        throw new BudgetExceeded();
      }
      return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new Budgeted(text.substring(start, end), left);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
