package ai.deepchat.tokenizer.constrain;

import ai.deepchat.platform.engine.EngineMessages.OutputConstraint;
import ai.deepchat.platform.engine.EngineMessages.ToolSpec;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An {@link OutputConstraint} compiled into an automaton over output bytes and tool-call markers.
 * Compiled grammars are cached (bounded, by the constraint's value), so a schema sent with every
 * request is compiled once; the API compiles to validate, the worker to decode, both through here.
 */
public final class Grammar {
  static final int CACHE_SIZE = 256;
  private static final Cache<OutputConstraint, Grammar> CACHE = Caffeine.newBuilder().maximumSize(CACHE_SIZE).build();

  private final Node root;
  private final boolean usesMarkers;

  private Grammar(Node root, boolean usesMarkers) {
    this.root = root;
    this.usesMarkers = usesMarkers;
  }

  /**
   * The grammar of a constraint.
   *
   * @throws SchemaException naming the keyword the compiler cannot enforce
   */
  public static Grammar of(OutputConstraint constraint) {
    return CACHE.get(constraint, Grammar::compile); // a SchemaException passes through, nothing cached
  }

  private static Grammar compile(OutputConstraint c) {
    if (c.kind() == null) {
      throw new SchemaException("kind", "", "the constraint has no kind");
    }
    return switch (c.kind()) {
      case JSON_OBJECT -> new Grammar(AnyValue.object(), false);
      case JSON_SCHEMA -> new Grammar(SchemaCompiler.compile(c.schemaJson() == null ? "" : c.schemaJson()), false);
      case TOOL_CALLS -> new Grammar(toolCalls(c.tools(), c.parallel()), true);
    };
  }

  private static Node toolCalls(List<ToolSpec> tools, boolean parallel) {
    if (tools == null || tools.isEmpty()) {
      throw new SchemaException("tools", "", "a tool-call constraint needs at least one tool");
    }
    List<String> names = new ArrayList<>();
    List<Node> args = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (ToolSpec t : tools) {
      if (t.name() == null || t.name().isEmpty() || !seen.add(t.name())) {
        throw new SchemaException("name", "", "tool names must be distinct and non-empty");
      }
      if (t.name().indexOf('\n') >= 0) {
        throw new SchemaException("name", "", "a tool name cannot hold a line break");
      }
      names.add(t.name());
      String params = t.parametersJson() == null ? "{\"type\":\"object\",\"properties\":{}}" : t.parametersJson();
      try {
        args.add(SchemaCompiler.compile(params));
      } catch (SchemaException e) {
        throw e.in("the parameters of tool '" + t.name() + "'");
      }
    }
    return new ToolCallsValue(names, args, parallel);
  }

  /** The fewest tokens a complete output takes, the end-of-sequence token included. */
  public int minTokens() {
    return root.minLen() + 1;
  }

  /** Whether the output holds the tool-call marker tokens (the vocabulary must have them). */
  public boolean usesMarkers() {
    return usesMarkers;
  }

  State start() {
    return root.start();
  }
}
