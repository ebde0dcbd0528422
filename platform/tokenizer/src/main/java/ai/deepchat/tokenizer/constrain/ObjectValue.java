package ai.deepchat.tokenizer.constrain;

import java.util.ArrayList;
import java.util.List;

/**
 * An object of known properties, written in the order the schema lists them (optional ones may be
 * left out, no others appear): the order keeps the states few and the shortest completion exact.
 */
final class ObjectValue implements Node {
  private static final int OPEN = 0;
  private static final int FIRST = 1;       // after '{': a key or '}'
  private static final int AFTER_COMMA = 2; // a key
  private static final int KEY = 3;
  private static final int VALUE = 4;
  private static final int DONE = 5;

  private final Node[] values;
  private final boolean[] required;
  /** keys[i]: the literal of the keys that may come when property i is the next candidate (null: none). */
  private final Literal[] keys;
  /** tailAfter[i]: symbols to close the object after a value when property i is the next candidate. */
  private final int[] tailAfter;
  /** costAfterKey[j]: symbols from the end of key j's literal to the end of the object. */
  private final int[] costAfterKey;
  private final int minLen;
  private final Obj start;

  ObjectValue(List<String> quotedKeys, List<Node> values, List<Boolean> required) {
    int n = values.size();
    this.values = values.toArray(Node[]::new);
    this.required = new boolean[n];
    int[][] keyText = new int[n][];
    for (int j = 0; j < n; j++) {
      this.required[j] = required.get(j);
      keyText[j] = Symbols.utf8(quotedKeys.get(j) + ":");
    }
    this.tailAfter = new int[n + 1];
    tailAfter[n] = 1;
    for (int j = n - 1; j >= 0; j--) {
      tailAfter[j] = tailAfter[j + 1] + (this.required[j] ? 1 + keyText[j].length + this.values[j].minLen() : 0);
    }
    this.costAfterKey = new int[n];
    for (int j = 0; j < n; j++) {
      costAfterKey[j] = this.values[j].minLen() + tailAfter[j + 1];
    }
    this.keys = new Literal[n + 1];
    for (int i = 0; i < n; i++) {
      List<int[]> options = new ArrayList<>();
      List<Integer> tags = new ArrayList<>();
      for (int j = i; j < n; j++) {
        options.add(keyText[j]);
        tags.add(j);
        if (this.required[j]) {
          break; // a required property cannot be skipped
        }
      }
      keys[i] = new Literal(options.toArray(int[][]::new), tags.stream().mapToInt(Integer::intValue).toArray());
    }
    this.start = new Obj(this, OPEN, 0, null);
    this.minLen = 1 + afterOpen();
  }

  private boolean requiredFrom(int i) {
    return tailAfter[i] > 1;
  }

  private int afterOpen() {
    return requiredFrom(0) ? tailAfter[0] - 1 : 1;
  }

  @Override
  public State start() {
    return start;
  }

  @Override
  public int minLen() {
    return minLen;
  }

  /** {@code next}: the first property that may still come; {@code child}: the key literal or value. */
  record Obj(ObjectValue node, int phase, int next, State child) implements State {

    @Override
    public State step(int b) {
      switch (phase) {
        case OPEN:
          return b == '{' ? new Obj(node, FIRST, 0, null) : null;
        case FIRST:
          if (b == '}' && !node.requiredFrom(0)) {
            return new Obj(node, DONE, 0, null);
          }
          return key(node.keys[0] == null ? null : node.keys[0].start(), b);
        case AFTER_COMMA:
          return key(node.keys[next].start(), b);
        case KEY:
          return key((Literal.Lit) child, b);
        case VALUE: {
          State c = child.step(b);
          if (c != null) {
            return c == child ? this : new Obj(node, VALUE, next, c); // most string bytes change nothing
          }
          // a complete value (a number may go on) ends at the first byte it cannot take
          return child.accepting() ? afterValue(b) : null;
        }
        default:
          return null;
      }
    }

    private State key(Literal.Lit lit, int b) {
      if (lit == null) {
        return null;
      }
      State s = lit.step(b);
      if (s == null) {
        return null;
      }
      Literal.Lit k = (Literal.Lit) s;
      int j = k.completedTag();
      if (j == Integer.MIN_VALUE) {
        return new Obj(node, KEY, next, k);
      }
      return new Obj(node, VALUE, j + 1, node.values[j].start());
    }

    private State afterValue(int b) {
      if (b == ',' && next < node.values.length) {
        return new Obj(node, AFTER_COMMA, next, null);
      }
      if (b == '}' && !node.requiredFrom(next)) {
        return new Obj(node, DONE, 0, null);
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
        case OPEN -> node.minLen;
        case FIRST -> node.afterOpen();
        case AFTER_COMMA -> node.keys[next].start().minWith(node.costAfterKey);
        case KEY -> ((Literal.Lit) child).minWith(node.costAfterKey);
        case VALUE -> child.minRemaining() + node.tailAfter[next];
        default -> 0;
      };
    }

    @Override
    public State inner() {
      return phase == VALUE ? child : null;
    }

    @Override
    public State withInner(State value) {
      return new Obj(node, VALUE, next, value);
    }
  }
}
