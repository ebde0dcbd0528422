package ai.deepchat.tokenizer.constrain;

import java.util.BitSet;

/**
 * One of a fixed set of symbol strings: an enum or const value, true/false/null, an object's
 * quoted key with its colon, a tool call's head. Each option carries a tag (which key, which tool)
 * for the enclosing value to read once the literal is complete.
 */
final class Literal implements Node {
  final int[][] options;
  final int[] tags;
  private final int minLen;

  Literal(int[][] options, int[] tags) {
    if (options.length == 0) {
      throw new IllegalArgumentException("a literal needs an option");
    }
    this.options = options;
    this.tags = tags;
    int m = Integer.MAX_VALUE;
    for (int[] o : options) {
      m = Math.min(m, o.length);
    }
    this.minLen = m;
  }

  static Literal of(int[]... options) {
    return new Literal(options, new int[options.length]);
  }

  @Override
  public Lit start() {
    BitSet all = new BitSet(options.length);
    all.set(0, options.length);
    return new Lit(this, 0, all);
  }

  @Override
  public int minLen() {
    return minLen;
  }

  /** {@code alive}: the options still matching; never mutated once in a state. */
  record Lit(Literal node, int pos, BitSet alive) implements State {

    @Override
    public State step(int symbol) {
      BitSet next = null;
      for (int i = alive.nextSetBit(0); i >= 0; i = alive.nextSetBit(i + 1)) {
        int[] o = node.options[i];
        if (pos < o.length && o[pos] == symbol) {
          if (next == null) {
            next = new BitSet(node.options.length);
          }
          next.set(i);
        }
      }
      return next == null ? null : new Lit(node, pos + 1, next);
    }

    @Override
    public boolean accepting() {
      return completedTag() != Integer.MIN_VALUE;
    }

    /** The tag of the option matched in full, or Integer.MIN_VALUE while none is. */
    int completedTag() {
      for (int i = alive.nextSetBit(0); i >= 0; i = alive.nextSetBit(i + 1)) {
        if (node.options[i].length == pos) {
          return node.tags[i];
        }
      }
      return Integer.MIN_VALUE;
    }

    @Override
    public int minRemaining() {
      return minWith(null);
    }

    /** The fewest symbols to finish an option plus {@code costAfter[tag]} of what follows it. */
    int minWith(int[] costAfter) {
      int m = Integer.MAX_VALUE;
      for (int i = alive.nextSetBit(0); i >= 0; i = alive.nextSetBit(i + 1)) {
        int c = node.options[i].length - pos + (costAfter == null ? 0 : costAfter[node.tags[i]]);
        m = Math.min(m, c);
      }
      return m;
    }
  }
}
