package ai.deepchat.tokenizer.constrain;

import java.util.ArrayList;
import java.util.List;

/**
 * Any JSON value, containers nested at most {@link #MAX_DEPTH} deep (json_object mode and untyped
 * schemas): the bound keeps the states finite and the shortest completion small.
 */
final class AnyValue {
  static final int MAX_DEPTH = 8;

  /** AT_DEPTH[d]: a value inside d containers; AT_DEPTH[MAX_DEPTH] holds no container. */
  private static final Node[] AT_DEPTH = new Node[MAX_DEPTH + 1];
  private static final AnyObjectValue[] OBJECT_AT = new AnyObjectValue[MAX_DEPTH + 1];

  static {
    for (int d = MAX_DEPTH; d >= 0; d--) {
      List<Node> alts = new ArrayList<>(List.of(StringValue.INSTANCE, NumberValue.NUMBER,
          Literal.of(Symbols.utf8("true"), Symbols.utf8("false"), Symbols.utf8("null"))));
      if (d < MAX_DEPTH) {
        OBJECT_AT[d] = new AnyObjectValue(AT_DEPTH[d + 1]);
        alts.add(OBJECT_AT[d]);
        alts.add(new ArrayValue(new Node[0], AT_DEPTH[d + 1], 0, -1));
      }
      AT_DEPTH[d] = Union.of(alts);
    }
  }

  private AnyValue() {
  }

  /** Any value at the top level. */
  static Node value() {
    return AT_DEPTH[0];
  }

  /** Any object at the top level (json_object). */
  static Node object() {
    return OBJECT_AT[0];
  }
}
