package ai.deepchat.tokenizer.constrain;

/**
 * A JSON number, or an integer (no fraction, no exponent). Digits are bounded (15 before and after
 * the point, 2 in the exponent) so every value round-trips through a double or a long and a model
 * cannot spend its budget on one number.
 */
final class NumberValue implements Node {
  static final NumberValue NUMBER = new NumberValue(false);
  static final NumberValue INTEGER = new NumberValue(true);

  static final int MAX_INT_DIGITS = 15;
  static final int MAX_FRACTION_DIGITS = 15;
  static final int MAX_EXPONENT_DIGITS = 2;

  private static final int START = 0;
  private static final int MINUS = 1;
  private static final int ZERO = 2;
  private static final int INT = 3;
  private static final int DOT = 4;
  private static final int FRACTION = 5;
  private static final int E = 6;
  private static final int E_SIGN = 7;
  private static final int EXPONENT = 8;

  private final boolean integer;
  private final Num start;

  private NumberValue(boolean integer) {
    this.integer = integer;
    this.start = new Num(this, START, 0);
  }

  @Override
  public State start() {
    return start;
  }

  @Override
  public int minLen() {
    return 1;
  }

  /** {@code digits}: digits so far in the current part (for the bounds). */
  record Num(NumberValue node, int phase, int digits) implements State {

    @Override
    public State step(int b) {
      boolean digit = b >= '0' && b <= '9';
      boolean fractionOk = !node.integer;
      switch (phase) {
        case START:
          if (b == '-') {
            return at(MINUS, 0);
          }
          // fall through: the first digit
        case MINUS:
          if (b == '0') {
            return at(ZERO, 1);
          }
          return digit ? at(INT, 1) : null;
        case ZERO:
        case INT:
          if (digit && phase == INT && digits < MAX_INT_DIGITS) {
            return at(INT, digits + 1);
          }
          if (fractionOk && b == '.') {
            return at(DOT, 0);
          }
          return fractionOk && (b == 'e' || b == 'E') ? at(E, 0) : null;
        case DOT:
          return digit ? at(FRACTION, 1) : null;
        case FRACTION:
          if (digit && digits < MAX_FRACTION_DIGITS) {
            return at(FRACTION, digits + 1);
          }
          return b == 'e' || b == 'E' ? at(E, 0) : null;
        case E:
          if (b == '+' || b == '-') {
            return at(E_SIGN, 0);
          }
          // fall through: the first exponent digit
        case E_SIGN:
          return digit ? at(EXPONENT, 1) : null;
        case EXPONENT:
          return digit && digits < MAX_EXPONENT_DIGITS ? at(EXPONENT, digits + 1) : null;
        default:
          return null;
      }
    }

    private Num at(int nextPhase, int nextDigits) {
      return new Num(node, nextPhase, nextDigits);
    }

    @Override
    public boolean accepting() {
      return phase == ZERO || phase == INT || phase == FRACTION || phase == EXPONENT;
    }

    @Override
    public int minRemaining() {
      return accepting() ? 0 : 1;
    }

    @Override
    public State withDigitRoom(int room) {
      return switch (phase) {
        case INT -> at(INT, MAX_INT_DIGITS - room);
        case FRACTION -> at(FRACTION, MAX_FRACTION_DIGITS - room);
        case EXPONENT -> at(EXPONENT, MAX_EXPONENT_DIGITS - room);
        default -> this;
      };
    }

    @Override
    public int digitRoom() {
      return switch (phase) {
        case ZERO -> 0;
        case INT -> MAX_INT_DIGITS - digits;
        case FRACTION -> MAX_FRACTION_DIGITS - digits;
        case EXPONENT -> MAX_EXPONENT_DIGITS - digits;
        default -> -1;
      };
    }
  }
}
