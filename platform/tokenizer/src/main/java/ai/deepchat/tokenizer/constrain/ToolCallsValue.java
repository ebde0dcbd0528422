package ai.deepchat.tokenizer.constrain;

import java.util.List;

/**
 * DeepSeek-V3's tool-call block: {@code <｜tool▁calls▁begin｜>}, then calls of the form
 * {@code <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>}
 * (further ones after a newline, only when parallel), then {@code <｜tool▁calls▁end｜>}. NAME is one
 * of the tools, ARGS valid under that tool's parameters.
 */
final class ToolCallsValue implements Node {
  private static final int HEAD = 0;  // the block's start and a call's head up to its arguments
  private static final int ARGS = 1;
  private static final int TAIL = 2;  // "\n```" and the call's end
  private static final int NEXT = 3;  // the block's end or, when parallel, another call's head
  private static final int DONE = 4;

  private final Node[] args;
  private final Literal first;
  private final Literal tail;
  private final Literal next;
  /** costAfter[j]: symbols from the end of tool j's head to the end of the block; [n]: 0. */
  private final int[] costAfter;
  private final Calls start;

  ToolCallsValue(List<String> names, List<Node> args, boolean parallel) {
    int n = names.size();
    this.args = args.toArray(Node[]::new);
    int[][] heads = new int[n][];
    int[][] firstOptions = new int[n][];
    int[] tags = new int[n];
    for (int j = 0; j < n; j++) {
      heads[j] = Symbols.concat(new int[] {Symbols.CALL_BEGIN}, Symbols.utf8("function"), new int[] {Symbols.SEP},
          Symbols.utf8(names.get(j) + "\n```json\n"));
      firstOptions[j] = Symbols.concat(new int[] {Symbols.CALLS_BEGIN}, heads[j]);
      tags[j] = j;
    }
    this.first = new Literal(firstOptions, tags);
    this.tail = Literal.of(Symbols.concat(Symbols.utf8("\n```"), new int[] {Symbols.CALL_END}));
    int more = parallel ? n : 0;
    int[][] nextOptions = new int[1 + more][];
    int[] nextTags = new int[1 + more];
    nextOptions[0] = new int[] {Symbols.CALLS_END};
    nextTags[0] = n;
    for (int j = 0; j < more; j++) {
      nextOptions[1 + j] = Symbols.concat(Symbols.utf8("\n"), heads[j]);
      nextTags[1 + j] = j;
    }
    this.next = new Literal(nextOptions, nextTags);
    this.costAfter = new int[n + 1];
    for (int j = 0; j < n; j++) {
      costAfter[j] = this.args[j].minLen() + tail.minLen() + 1;
    }
    this.start = new Calls(this, HEAD, 0, first.start());
  }

  @Override
  public State start() {
    return start;
  }

  @Override
  public int minLen() {
    return start.minRemaining();
  }

  /** {@code tool}: the call's tool while in ARGS. */
  record Calls(ToolCallsValue node, int phase, int tool, State child) implements State {

    @Override
    public State step(int b) {
      switch (phase) {
        case HEAD:
        case NEXT: {
          Literal.Lit lit = (Literal.Lit) child.step(b);
          if (lit == null) {
            return null;
          }
          int tag = lit.completedTag();
          if (tag == Integer.MIN_VALUE) {
            return new Calls(node, phase, 0, lit);
          }
          return tag == node.args.length ? new Calls(node, DONE, 0, null)
              : new Calls(node, ARGS, tag, node.args[tag].start());
        }
        case ARGS: {
          State c = child.step(b);
          if (c != null) {
            return c == child ? this : new Calls(node, ARGS, tool, c);
          }
          return child.accepting() ? tail(node.tail.start(), b) : null;
        }
        case TAIL:
          return tail((Literal.Lit) child, b);
        default:
          return null;
      }
    }

    private State tail(Literal.Lit lit, int b) {
      Literal.Lit t = (Literal.Lit) lit.step(b);
      if (t == null) {
        return null;
      }
      return t.accepting() ? new Calls(node, NEXT, 0, node.next.start()) : new Calls(node, TAIL, 0, t);
    }

    @Override
    public boolean accepting() {
      return phase == DONE;
    }

    @Override
    public int minRemaining() {
      return switch (phase) {
        case HEAD, NEXT -> ((Literal.Lit) child).minWith(node.costAfter);
        case ARGS -> child.minRemaining() + node.tail.minLen() + 1;
        case TAIL -> child.minRemaining() + 1;
        default -> 0;
      };
    }

    @Override
    public boolean plainStable() {
      return phase == ARGS && child.plainStable();
    }
  }
}
