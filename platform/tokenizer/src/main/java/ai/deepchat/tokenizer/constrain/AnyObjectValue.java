package ai.deepchat.tokenizer.constrain;

/** Any JSON object (json_object mode, a schema's untyped object): any keys, any values below a depth. */
final class AnyObjectValue implements Node {
  private static final int OPEN = 0;
  private static final int FIRST = 1;       // after '{': a key or '}'
  private static final int AFTER_COMMA = 2; // a key
  private static final int KEY = 3;
  private static final int COLON = 4;
  private static final int VALUE = 5;
  private static final int DONE = 6;

  private final Node value;
  private final Any start;

  /** {@code value}: what each property holds. */
  AnyObjectValue(Node value) {
    this.value = value;
    this.start = new Any(this, OPEN, null);
  }

  @Override
  public State start() {
    return start;
  }

  @Override
  public int minLen() {
    return 2;
  }

  record Any(AnyObjectValue node, int phase, State child) implements State {

    @Override
    public State step(int b) {
      switch (phase) {
        case OPEN:
          return b == '{' ? new Any(node, FIRST, null) : null;
        case FIRST:
          if (b == '}') {
            return new Any(node, DONE, null);
          }
          return key(StringValue.INSTANCE.start(), b);
        case AFTER_COMMA:
          return key(StringValue.INSTANCE.start(), b);
        case KEY:
          return key(child, b);
        case COLON:
          return b == ':' ? new Any(node, VALUE, node.value.start()) : null;
        case VALUE: {
          State c = child.step(b);
          if (c != null) {
            return c == child ? this : new Any(node, VALUE, c);
          }
          if (!child.accepting()) {
            return null;
          }
          return b == ',' ? new Any(node, AFTER_COMMA, null) : b == '}' ? new Any(node, DONE, null) : null;
        }
        default:
          return null;
      }
    }

    private State key(State keyState, int b) {
      State k = keyState.step(b);
      if (k == null) {
        return null;
      }
      if (k == keyState && phase == KEY) {
        return this;
      }
      return k.accepting() ? new Any(node, COLON, null) : new Any(node, KEY, k);
    }

    @Override
    public boolean accepting() {
      return phase == DONE;
    }

    @Override
    public int minRemaining() {
      int valueAndClose = node.value.minLen() + 1;
      return switch (phase) {
        case OPEN -> 2;
        case FIRST -> 1;
        case AFTER_COMMA -> 2 + 1 + valueAndClose;
        case KEY -> child.minRemaining() + 1 + valueAndClose;
        case COLON -> 1 + valueAndClose;
        case VALUE -> child.minRemaining() + 1;
        default -> 0;
      };
    }

    @Override
    public State inner() {
      return phase == VALUE ? child : null;
    }

    @Override
    public State withInner(State value) {
      return new Any(node, VALUE, value);
    }

    @Override
    public boolean plainStable() {
      return (phase == KEY || phase == VALUE) && child.plainStable();
    }
  }
}
