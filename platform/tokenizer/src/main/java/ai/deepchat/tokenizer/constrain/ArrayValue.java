package ai.deepchat.tokenizer.constrain;

/** An array: prefixItems, then items (null: no more), between minItems and maxItems (-1: no bound). */
final class ArrayValue implements Node {
  private static final int OPEN = 0;
  private static final int FIRST = 1;       // after '[': an item or ']'
  private static final int AFTER_COMMA = 2; // an item
  private static final int VALUE = 3;
  private static final int DONE = 4;

  private final Node[] prefix;
  private final Node items;
  private final int minItems;
  private final int maxItems;
  /** Counts at or past it behave alike, so states are folded onto it (fewer states to cache). */
  private final int countCap;
  /** tail[c]: symbols to close the array once c (< minItems) items are written. */
  private final int[] tail;
  private final Arr start;

  ArrayValue(Node[] prefix, Node items, int minItems, int maxItems) {
    this.prefix = prefix;
    this.items = items;
    this.minItems = minItems;
    this.maxItems = maxItems;
    this.countCap = maxItems >= 0 ? maxItems : Math.max(prefix.length, minItems);
    this.tail = new int[minItems + 1];
    tail[minItems] = 1;
    for (int c = minItems - 1; c >= 0; c--) {
      tail[c] = tail[c + 1] + 1 + itemAt(c).minLen();
    }
    this.start = new Arr(this, OPEN, 0, null);
  }

  /** The schema of item {@code i}, null when the array may not have it. */
  Node itemAt(int i) {
    if (maxItems >= 0 && i >= maxItems) {
      return null;
    }
    return i < prefix.length ? prefix[i] : items;
  }

  private int tailFrom(int count) {
    return count >= minItems ? 1 : tail[count];
  }

  private int afterOpen() {
    return minItems == 0 ? 1 : tail[0] - 1;
  }

  @Override
  public State start() {
    return start;
  }

  @Override
  public int minLen() {
    return 1 + afterOpen();
  }

  /** {@code count}: items written before the current one (folded at countCap). */
  record Arr(ArrayValue node, int phase, int count, State child) implements State {

    @Override
    public State step(int b) {
      switch (phase) {
        case OPEN:
          return b == '[' ? new Arr(node, FIRST, 0, null) : null;
        case FIRST:
          if (b == ']' && node.minItems == 0) {
            return new Arr(node, DONE, 0, null);
          }
          return item(b);
        case AFTER_COMMA:
          return item(b);
        case VALUE: {
          State c = child.step(b);
          if (c != null) {
            return c == child ? this : new Arr(node, VALUE, count, c);
          }
          if (!child.accepting()) {
            return null;
          }
          int done = Math.min(count + 1, node.countCap);
          if (b == ',' && node.itemAt(count + 1) != null) {
            return new Arr(node, AFTER_COMMA, done, null);
          }
          return b == ']' && count + 1 >= node.minItems ? new Arr(node, DONE, 0, null) : null;
        }
        default:
          return null;
      }
    }

    private State item(int b) {
      Node item = node.itemAt(count);
      State c = item == null ? null : item.start().step(b);
      return c == null ? null : new Arr(node, VALUE, count, c);
    }

    @Override
    public boolean accepting() {
      return phase == DONE;
    }

    @Override
    public int minRemaining() {
      return switch (phase) {
        case OPEN -> node.minLen();
        case FIRST -> node.afterOpen();
        case AFTER_COMMA -> node.itemAt(count).minLen() + node.tailFrom(count + 1);
        case VALUE -> child.minRemaining() + node.tailFrom(count + 1);
        default -> 0;
      };
    }

    @Override
    public State inner() {
      return phase == VALUE ? child : null;
    }

    @Override
    public State withInner(State value) {
      return new Arr(node, VALUE, count, value);
    }
  }
}
