package ai.deepchat.tokenizer.constrain;

/**
 * A schema constrained decoding cannot enforce exactly: an unsupported keyword, a malformed or
 * unsatisfiable schema. {@code keyword} names the offending keyword, {@code path} where it is (a JSON
 * pointer into the schema), so the API can answer 400 naming it instead of relaxing the schema.
 */
public final class SchemaException extends IllegalArgumentException {
  private final String keyword;
  private final String path;
  private final String reason;

  public SchemaException(String keyword, String path, String reason) {
    super(reason + " (keyword '" + keyword + "' at " + (path.isEmpty() ? "#" : "#" + path) + ")");
    this.keyword = keyword;
    this.path = path;
    this.reason = reason;
  }

  /** The same problem, said to be in {@code where} (a tool's parameters). */
  SchemaException in(String where) {
    return new SchemaException(keyword, path, where + ": " + reason);
  }

  public String keyword() {
    return keyword;
  }

  public String path() {
    return path;
  }
}
