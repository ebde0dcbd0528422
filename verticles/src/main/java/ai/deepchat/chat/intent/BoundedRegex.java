package ai.deepchat.chat.intent;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Tenant-written regular expressions, evaluated with a step budget: a catastrophic pattern
 * (ReDoS) gives up instead of holding an event loop. The budget counts character reads, which is what
 * backtracking multiplies. java.util.regex also recurses once per repetition of a group such as
 * {@code (a|b)*} or {@code (.|\s)*}, so on a long message such a pattern overflows the stack: the rule
 * is then skipped for that message (it forces nothing; routing goes on by FAQ similarity), and one
 * short line per pattern is logged, never the thousand-frame trace. {@link #problem} refuses both kinds
 * of pattern when a rule is written.
 */
public final class BoundedRegex {

  private static final Logger LOG = LoggerFactory.getLogger(BoundedRegex.class);
  private static final long MAX_READS = 200_000;
  private static final int MAX_REPORTED = 10_000;
  private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();
  /** Short texts that exponential backtracking cannot get through within the budget. */
  private static final List<String> SHORT_PROBES = List.of("a".repeat(40) + "!", "ab".repeat(20) + "!",
      "1".repeat(40) + "!", "a ".repeat(20) + "!", "汉".repeat(40) + "!");
  /**
   * Units of long texts on which recursion per repetition overflows a thread's stack; long enough
   * for JIT-compiled (smaller) frames too, with a budget to match.
   */
  private static final List<String> LONG_PROBE_UNITS = List.of("a", "ab ", "1", "汉字 ", "a\n");
  private static final int LONG_PROBE_CHARS = 200_000;
  private static final long PROBE_READS = 5_000_000;

  /** Why a pattern is refused; {@code detail} is the syntax error's description, else empty. */
  public record Problem(Kind kind, String detail) {
    public enum Kind { SYNTAX, BACKTRACKING, RECURSION }
  }

  private BoundedRegex() {
  }

  static Optional<Pattern> compile(String pattern) {
    try {
      return Optional.of(Pattern.compile(pattern, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE));
    } catch (PatternSyntaxException e) {
      return Optional.empty();
    }
  }

  /**
   * Why a rule's pattern is refused, or empty when it is fine: invalid syntax, catastrophic
   * backtracking on a short text, or a stack overflow on a long one. Bounded work: each probe runs
   * within the step budget.
   */
  public static Optional<Problem> problem(String pattern) {
    Pattern compiled;
    try {
      compiled = Pattern.compile(pattern, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    } catch (PatternSyntaxException e) {
      return Optional.of(new Problem(Problem.Kind.SYNTAX, e.getDescription()));
    }
    for (String probe : SHORT_PROBES) {
      if (outcome(compiled, probe, MAX_READS) == Outcome.OVER_BUDGET) {
        return Optional.of(new Problem(Problem.Kind.BACKTRACKING, ""));
      }
    }
    for (String unit : LONG_PROBE_UNITS) {
      String probe = unit.repeat(LONG_PROBE_CHARS / unit.length());
      if (outcome(compiled, probe, PROBE_READS) == Outcome.STACK_OVERFLOW) {
        return Optional.of(new Problem(Problem.Kind.RECURSION, ""));
      }
    }
    return Optional.empty();
  }

  /** True when the pattern is found; false when it is not, the budget runs out or the stack does. */
  static boolean find(Pattern pattern, String text) {
    Outcome outcome = outcome(pattern, text, MAX_READS);
    if (outcome == Outcome.STACK_OVERFLOW) {
      reportOverflow(pattern, text.length());
    }
    return outcome == Outcome.FOUND;
  }

  /**
   * The first match of a tenant's pattern, for callers that need its groups; empty when there is none
   * or the budget or the stack runs out (an overflow logged once per pattern, as for rules).
   */
  public static Optional<MatchResult> firstMatch(Pattern pattern, String text) {
    try {
      Matcher m = pattern.matcher(new Budgeted(text, new long[] {MAX_READS}));
      return m.find() ? Optional.of(m.toMatchResult()) : Optional.empty();
    } catch (BudgetExceeded e) {
      return Optional.empty();
    } catch (StackOverflowError e) {
      reportOverflow(pattern, text.length());
      return Optional.empty();
    }
  }

  private enum Outcome { FOUND, NOT_FOUND, OVER_BUDGET, STACK_OVERFLOW }

  private static Outcome outcome(Pattern pattern, String text, long reads) {
    try {
      return pattern.matcher(new Budgeted(text, new long[] {reads})).find() ? Outcome.FOUND : Outcome.NOT_FOUND;
    } catch (BudgetExceeded e) {
      return Outcome.OVER_BUDGET;
    } catch (StackOverflowError e) {
      // the matcher's recursion unwound with the error; nothing else on this thread is affected
      return Outcome.STACK_OVERFLOW;
    }
  }

  private static void reportOverflow(Pattern pattern, int length) {
    if (REPORTED.size() >= MAX_REPORTED) {
      REPORTED.clear();
    }
    if (REPORTED.add(pattern.pattern())) {
      LOG.warn("regex rule /{}/ overflowed the stack on a {}-character message; it is skipped for such "
          + "messages (logged once per pattern)", abbreviate(pattern.pattern()), length);
    }
  }

  private static String abbreviate(String pattern) {
    return pattern.length() <= 100 ? pattern : pattern.substring(0, 100) + "…";
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
