package ai.deepchat.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Pass/fail checks of a scenario: each a measured figure against its bound (at or under it passes).
 * A figure that could not be measured (no samples: NaN) fails, so a run that measured nothing never passes.
 */
final class Verdict {

  private final String scenario;
  private final List<String> lines = new ArrayList<>();
  private boolean passed = true;

  Verdict(String scenario) {
    this.scenario = scenario;
  }

  Verdict check(String what, double measured, double bound, String unit) {
    boolean ok = !Double.isNaN(measured) && measured <= bound;
    passed &= ok;
    lines.add(String.format("%s %s: %s: %.3f %s (bound %.3f %s)", ok ? "PASS" : "FAIL", scenario, what, measured,
        unit, bound, unit));
    return this;
  }

  /** A count that must reach {@code min} (traffic that measured nothing fails). */
  Verdict atLeast(String what, long measured, long min) {
    boolean ok = measured >= min;
    passed &= ok;
    lines.add(String.format("%s %s: %s: %d (at least %d)", ok ? "PASS" : "FAIL", scenario, what, measured, min));
    return this;
  }

  /** A fact reported alongside the checks (not checked). */
  Verdict note(String text) {
    lines.add("     " + scenario + ": " + text);
    return this;
  }

  boolean passed() {
    return passed;
  }

  List<String> lines() {
    return lines;
  }

  @Override
  public String toString() {
    return String.join("\n", lines);
  }
}
