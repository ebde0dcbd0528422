package ai.deepchat.tokenizer.constrain;

/**
 * Any JSON string: escapes checked, control characters refused, and the UTF-8 inside checked byte by
 * byte (a byte-level token may hold part of a character, so the next token must complete it).
 */
final class StringValue implements Node {
  static final StringValue INSTANCE = new StringValue();

  private static final int OPEN = 0;
  private static final int BODY = 1;
  private static final int ESCAPE = 2;
  private static final int HEX = 3;
  private static final int DONE = 4;

  // the allowed range of the next continuation byte, by the lead byte (RFC 3629: no overlongs, no
  // surrogates, nothing past U+10FFFF)
  private static final int[] LOW = {0x80, 0xA0, 0x80, 0x90, 0x80};
  private static final int[] HIGH = {0xBF, 0xBF, 0x9F, 0xBF, 0x8F};

  private static final Str START = new Str(OPEN, 0, 0);
  private static final Str IN_BODY = new Str(BODY, 0, 0);
  private static final Str END = new Str(DONE, 0, 0);

  private StringValue() {
  }

  @Override
  public State start() {
    return START;
  }

  @Override
  public int minLen() {
    return 2;
  }

  /** {@code pending}: continuation bytes (BODY) or hex digits (HEX) still due; {@code range}: see LOW. */
  record Str(int phase, int pending, int range) implements State {

    @Override
    public State step(int b) {
      switch (phase) {
        case OPEN:
          return b == '"' ? IN_BODY : null;
        case BODY:
          return pending > 0 ? continuation(b) : body(b);
        case ESCAPE:
          if (b == 'u') {
            return new Str(HEX, 4, 0);
          }
          return "\"\\/bfnrt".indexOf(b) >= 0 && b < 128 ? IN_BODY : null;
        case HEX:
          if (b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F') {
            return pending == 1 ? IN_BODY : new Str(HEX, pending - 1, 0);
          }
          return null;
        default:
          return null;
      }
    }

    private State continuation(int b) {
      if (b < LOW[range] || b > HIGH[range]) {
        return null;
      }
      return pending == 1 ? IN_BODY : new Str(BODY, pending - 1, 0);
    }

    private static State body(int b) {
      if (b == '"') {
        return END;
      }
      if (b == '\\') {
        return new Str(ESCAPE, 0, 0);
      }
      if (b < 0x20) {
        return null;
      }
      if (b < 0x80) {
        return IN_BODY;
      }
      if (b >= 0xC2 && b <= 0xDF) {
        return new Str(BODY, 1, 0);
      }
      if (b >= 0xE0 && b <= 0xEF) {
        return new Str(BODY, 2, b == 0xE0 ? 1 : b == 0xED ? 2 : 0);
      }
      if (b >= 0xF0 && b <= 0xF4) {
        return new Str(BODY, 3, b == 0xF0 ? 3 : b == 0xF4 ? 4 : 0);
      }
      return null;
    }

    @Override
    public boolean accepting() {
      return phase == DONE;
    }

    @Override
    public int minRemaining() {
      return switch (phase) {
        case OPEN -> 2;
        case BODY, HEX -> pending + 1;
        case ESCAPE -> 2;
        default -> 0;
      };
    }

    @Override
    public boolean plainStable() {
      return phase == BODY && pending == 0;
    }
  }
}
