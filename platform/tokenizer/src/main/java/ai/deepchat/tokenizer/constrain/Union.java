package ai.deepchat.tokenizer.constrain;

import java.util.ArrayList;
import java.util.List;

/** Any one of several values (anyOf, a type array): all are followed until the output tells them apart. */
final class Union implements Node {
  private final Node[] alternatives;
  private final int minLen;

  Union(Node... alternatives) {
    this.alternatives = alternatives;
    int m = Integer.MAX_VALUE;
    for (Node n : alternatives) {
      m = Math.min(m, n.minLen());
    }
    this.minLen = m;
  }

  static Node of(List<Node> alternatives) {
    return alternatives.size() == 1 ? alternatives.get(0) : new Union(alternatives.toArray(Node[]::new));
  }

  @Override
  public State start() {
    List<State> s = new ArrayList<>(alternatives.length);
    for (Node n : alternatives) {
      s.add(n.start());
    }
    return new Alternatives(List.copyOf(s));
  }

  @Override
  public int minLen() {
    return minLen;
  }

  record Alternatives(List<State> states) implements State {

    @Override
    public State step(int symbol) {
      List<State> next = null;
      for (State s : states) {
        State n = s.step(symbol);
        if (n != null) {
          if (next == null) {
            next = new ArrayList<>(2);
          }
          if (!next.contains(n)) {
            next.add(n);
          }
        }
      }
      if (next == null) {
        return null;
      }
      return next.size() == 1 ? next.get(0) : new Alternatives(List.copyOf(next));
    }

    @Override
    public boolean accepting() {
      for (State s : states) {
        if (s.accepting()) {
          return true;
        }
      }
      return false;
    }

    @Override
    public int minRemaining() {
      int m = Integer.MAX_VALUE;
      for (State s : states) {
        m = Math.min(m, s.minRemaining());
      }
      return m;
    }

    @Override
    public boolean plainStable() {
      for (State s : states) {
        if (!s.plainStable()) {
          return false;
        }
      }
      return true;
    }
  }
}
